"""The bulk path on generated exports: same code, same rows as the daily path, every defect caught."""

from __future__ import annotations

import json
import shutil
from datetime import date

import duckdb
import pytest
from world import point_at

from growthops.commands.cli import main as growthops_main
from growthops.config import load_settings
from growthops.contracts import CONTRACTS
from growthops.generate import generate
from growthops.ingest.landing import daterange
from growthops.ingest.loader import ingest_day, load_range
from growthops.sources import SOURCE_NAMES

START, END = date(2025, 1, 1), date(2025, 1, 12)
LOAD_ORDER = SOURCE_NAMES  # every declared source, in load order
RAW = {name: CONTRACTS[name].raw_table for name in SOURCE_NAMES}
# generator defect rule -> ingestion reject rule
DEFECT_RULES = {
    "negative_amount": "negative_amount",
    "unknown_status": "not_in_enumeration",
    "discount_refund_exceed_gross": "discount_refund_exceed_gross",
    "duplicate_key": "duplicate_key",
    "updated_before_created": "updated_before_created",
    "missing_contact_id": "missing_value",
    "unparseable_timestamp": "unparseable",
    "unknown_lifecycle_stage": "not_in_enumeration",
    "clicks_exceed_impressions": "clicks_exceed_impressions",
    "negative_spend": "negative_amount",
    "unknown_currency": "not_in_enumeration",
    "non_positive_rate": "non_positive_rate",
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Clean and defective exports for 12 days, generated once per module."""
    root = tmp_path_factory.mktemp("generated")
    clean = generate(root / "clean", START, END, scale=0.01, seed=7)
    dirty = generate(root / "dirty", START, END, scale=0.01, seed=7, defects=True)
    return {"clean": (root / "clean", clean), "dirty": (root / "dirty", dirty)}


def use_landing(tmp_path, monkeypatch, src):
    """Settings of a data root in ``tmp_path`` whose landing is a copy of ``src``."""
    point_at(monkeypatch, tmp_path / "data")
    settings = load_settings()
    shutil.copytree(src, settings.landing_dir)
    return settings


def query(settings, sql, params=None):
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_bulk_load_matches_the_generator_file_by_file(generated, tmp_path, monkeypatch):
    landing, summary = generated["clean"]
    settings = use_landing(tmp_path, monkeypatch, landing)
    for source in LOAD_ORDER:
        result = load_range(settings, source, START, END)
        assert result.ok, result.summary()
        assert result.rows_loaded == summary["sources"][source]["rows"] > 0
        assert result.rows_rejected == 0
        assert len(result.outcomes) == summary["sources"][source]["files"]
        assert query(settings, f"select count(*) from {RAW[source]}") == [
            (summary["sources"][source]["rows"],)
        ]
    per_file = dict(query(settings, "select source_file, rows_loaded from raw.load_ledger"))
    assert per_file == summary["files"]

    # a second run over the same range is a no-op: every file is skipped
    again = load_range(settings, "orders", START, END)
    assert again.count("skipped") == len(again.outcomes) and again.rows_loaded == 0


def test_a_range_in_chunks_hands_arrows_pool_back_once_after_the_last_chunk(generated, tmp_path, monkeypatch):
    """The chunks reuse the frame pages Arrow's pool keeps; the pool lets go of them once the whole
    range is loaded (DECISIONLOG 64), and the chunked load is the same load."""
    from growthops.ingest import loader

    landing, summary = generated["clean"]
    settings = use_landing(tmp_path, monkeypatch, landing)
    events: list[str] = []
    ingest_files = loader.ingest_files
    monkeypatch.setattr(
        loader, "ingest_files", lambda *a, **k: events.append("chunk") or ingest_files(*a, **k)
    )
    monkeypatch.setattr(loader, "release_pool", lambda: events.append("release pool"))
    result = load_range(settings, "orders", START, END, chunk_files=5)
    assert result.ok and result.rows_loaded == summary["sources"]["orders"]["rows"]
    assert events == ["chunk"] * 3 + ["release pool"]  # 12 days in chunks of 5 files


def test_the_daily_path_and_the_bulk_path_load_identical_rows(generated, tmp_path, monkeypatch):
    landing, _ = generated["clean"]
    daily = use_landing(tmp_path / "daily", monkeypatch, landing)
    for day in daterange(START, END):
        ingest_day(daily, "channel", day)
    bulk = use_landing(tmp_path / "bulk", monkeypatch, landing)
    load_range(bulk, "channel", START, END)
    sql = "select * exclude (_loaded_at) from raw.channel_performance order by _batch_id, _source_line"
    assert query(daily, sql) == query(bulk, sql)
    assert len(query(bulk, sql)) > 50


def test_every_injected_defect_is_rejected_at_its_file_and_line(generated, tmp_path, monkeypatch):
    landing, summary = generated["dirty"]
    for source in LOAD_ORDER:  # small files: raise thresholds so defects become row rejects
        monkeypatch.setenv(f"GROWTHOPS_SOURCES_{source.upper()}_REJECT_THRESHOLD", "0.5")
    settings = use_landing(tmp_path, monkeypatch, landing)
    for source in LOAD_ORDER:
        assert load_range(settings, source, START, END).ok
    rejects = {
        (f, line): rule
        for f, line, rule in query(settings, "select source_file, line, rule from raw.rejects")
    }
    expected = {}
    for d in summary["defects"]:
        expected[(d["file"], d["line"])] = DEFECT_RULES[d["rule"]]
        if d["rule"] == "duplicate_key":  # every occurrence of a duplicated key is rejected
            expected[(d["file"], d["duplicate_of_line"])] = "duplicate_key"
    assert len(summary["defects"]) == len(DEFECT_RULES)
    assert rejects == expected
    total_rows = sum(summary["sources"][s]["rows"] for s in LOAD_ORDER)
    loaded = sum(query(settings, f"select count(*) from {RAW[s]}")[0][0] for s in LOAD_ORDER)
    assert loaded + len(rejects) == total_rows


def test_cli_ingest_range_exit_codes(generated, tmp_path, monkeypatch, capsys):
    landing, summary = generated["clean"]
    settings = use_landing(tmp_path, monkeypatch, landing)
    assert growthops_main(["ingest", "--source", "crm", "--start", str(START), "--end", str(END)]) == 0
    out = capsys.readouterr().out
    assert f"{summary['sources']['crm']['rows']} rows loaded" in out

    bad = settings.landing_dir / "orders" / "2025-01-05" / "orders.csv"
    bad.write_text(bad.read_text().replace("order_id,", "id,", 1))
    assert growthops_main(["ingest", "--source", "orders", "--day", "2025-01-05", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (
        report["files"]["quarantined"] == 1
        and report["refused"][0]["source_file"] == "orders/2025-01-05/orders.csv"
    )
    assert (settings.quarantine_dir / "orders" / "2025-01-05" / "orders.csv").exists()
