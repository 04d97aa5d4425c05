"""``growthops report``: the pages hold exactly the serving file's numbers, open offline, and are
rebuilt identically; ``latest/`` is the served version's report."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import BASE_RUN, SECOND_RUN
from report_helpers import parse_page

from growthops.commands.cli import main
from growthops.report.build import ReportError, build_report, report_after_publication

PAGES = ("index.html", "operations.html", "quality.html")


def _sql(settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def _report_dir(settings) -> Path:
    return settings.data_dir / "reports" / SECOND_RUN


def _page(settings, name: str = "index.html"):
    return parse_page(_report_dir(settings) / name)


def _num(value: str | None) -> float | None:
    return None if value is None else float(value)


def _writable_serving_copy(served, root: Path) -> Path:
    """A data root holding a writable copy of the served serving file only."""
    serving = root / "warehouse" / "serving.duckdb"
    serving.parent.mkdir(parents=True)
    shutil.copyfile(served.serving_path, serving)
    serving.chmod(0o644)
    return serving


def _report_of(root: Path, monkeypatch):
    """The report built (default options) of the data root ``root``."""
    from growthops.config import load_settings

    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(root))
    return build_report(load_settings(), progress=lambda _m: None)


def test_heatmap_has_one_cell_per_cohort_and_period(served):
    rows = _sql(
        served,
        "select cohort_month::varchar, months_since_first_order, retention_rate "
        "from marts.mart_cohort_retention where channel = 'all'",
    )
    spec = json.loads(_page(served).specs["cohort-retention"])
    (heatmap,) = spec["data"]
    assert heatmap["type"] == "heatmap"
    cells = {
        (cohort, period): z
        for cohort, zs in zip(heatmap["y"], heatmap["z"], strict=True)
        for period, z in zip(heatmap["x"], zs, strict=True)
        if z is not None
    }
    assert len(rows) > 3 and len(cells) == len(rows)
    assert cells == pytest.approx({(c, p): r for c, p, r in rows})


def test_funnel_chart_has_one_bar_per_channel(served):
    channels = {r[0] for r in _sql(served, "select distinct channel from marts.mart_channel_funnel_daily")}
    spec = json.loads(_page(served).specs["channel-funnel"])
    assert len(spec["data"]) == 4  # spend, signups, new customers, revenue
    for trace in spec["data"]:
        assert trace["type"] == "bar"
        assert len(trace["x"]) == len(channels) and set(trace["x"]) == channels


def test_channel_numbers_equal_the_serving_file(served):
    expected = {
        r[0]: r[1:]
        for r in _sql(
            served,
            "select channel, sum(spend), sum(signups), sum(new_customers), sum(attributed_revenue) "
            "from marts.mart_channel_funnel_daily group by channel",
        )
    }
    table = _page(served).tables["channel-funnel"]
    assert len(table) == len(expected)
    for row in table:
        spend, signups, new_customers, revenue = expected[row["channel"]]
        if spend is None:  # every day of the channel has unknown spend (SPEC §11): shown as unknown
            assert row["spend"] in (None, "")
        else:
            assert _num(row["spend"]) == pytest.approx(float(spend))
        assert int(row["signups"]) == signups and int(row["new_customers"]) == new_customers
        assert _num(row["revenue"]) == pytest.approx(float(revenue))
    spec = json.loads(_page(served).specs["channel-funnel"])
    signups = dict(zip(spec["data"][1]["x"], spec["data"][1]["y"], strict=True))
    assert signups == {c: v[1] for c, v in expected.items()}


def test_cohort_and_funnel_stage_tables_equal_the_serving_file(served):
    page = _page(served)
    cohort_rows = _sql(
        served,
        "select cohort_month::varchar, months_since_first_order, cohort_size, active_customers, "
        "ltv_per_customer from marts.mart_cohort_retention where channel = 'all' order by 1, 2",
    )
    got = [
        (
            r["cohort_month"],
            int(r["months_since_first_order"]),
            int(r["cohort_size"]),
            int(r["active_customers"]),
            _num(r["ltv_per_customer"]),
        )
        for r in page.tables["cohort-retention"]
    ]
    assert got == [(*r[:4], float(r[4])) for r in cohort_rows]

    total = _sql(
        served,
        "select sum(signups), sum(engaged), sum(customers), sum(repeat_customers) from marts.mart_funnel_stages",
    )[0]
    (all_row,) = [r for r in page.tables["funnel-stages"] if r["channel"] == "all"]
    assert tuple(int(all_row[c]) for c in ("signups", "engaged", "customers", "repeat_customers")) == total
    assert json.loads(page.specs["funnel-stages"])["data"][0]["x"] == list(total)


def test_cac_roas_trend_per_paid_channel_and_month(served):
    rows = _sql(
        served,
        "select channel, date_trunc('month', report_date)::date::varchar, sum(spend) / nullif(sum(new_customers), 0) "
        "from marts.mart_channel_funnel_daily group by all having sum(spend) > 0",
    )
    table = _page(served).tables["cac-roas"]
    got = {(r["channel"], r["month"]): _num(r["cac"]) for r in table}
    assert got == pytest.approx({(c, m): None if v is None else float(v) for c, m, v in rows})
    spec = json.loads(_page(served).specs["cac-roas"])
    assert len(spec["data"]) == 2 * len({c for c, _, _ in rows})  # a CAC and a ROAS line per channel


def test_quality_page_shows_runs_rejects_and_quarantine(served):
    page = _page(served, "quality.html")
    runs = page.tables["runs"]
    assert [r["run_id"] for r in runs] == [BASE_RUN, SECOND_RUN]
    ledger = dict(_sql(served, "select status, count(*) from meta.load_ledger group by all"))
    assert sum(int(r["files"]) for r in runs) == sum(ledger.values())
    second = runs[-1]
    assert (second["loaded_with_rejects"], second["quarantined"]) == ("1", "1")
    assert (second["rows_rejected"], second["rows_quarantined"]) == ("1", "20")
    assert int(runs[0]["loaded"]) == ledger["loaded"]
    (reject,) = page.tables["rejects"]
    assert (reject["source"], reject["rejected_rows"]) == ("orders", "1")
    (refused,) = page.tables["quarantine"]
    assert (refused["day"], refused["status"]) == ("2025-04-02", "quarantined")
    assert Path(refused["quarantine_path"]).exists()


def test_sections_of_unpublished_marts_say_so(served, tmp_path, monkeypatch):
    """A serving version without the SPEC §11 marts (e.g. one published before they existed)."""
    con = duckdb.connect(str(_writable_serving_copy(served, tmp_path / "data")))
    for mart in (
        "mart_customer_activity_monthly",
        "mart_acquisition_unit_economics",
        "mart_recall_campaign_summary",
    ):
        con.execute(f"drop table marts.{mart}")
    con.close()
    result = _report_of(tmp_path / "data", monkeypatch)
    page = parse_page(result.out_dir / "operations.html")
    assert set(page.notes) == {"growth-accounting", "unit-economics", "recall-lift"}
    assert "not published in this version" in (result.out_dir / "operations.html").read_text()
    assert _page(served, "operations.html").notes == []  # the real version publishes all three


def test_pages_open_offline(served):
    for name in PAGES:
        html = (_report_dir(served) / name).read_text(encoding="utf-8")
        refs = parse_page(_report_dir(served) / name).refs
        assert not [r for r in refs if re.match(r"(https?:)?//", r[1])], refs
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
        for tag, ref in refs:
            if tag == "script":
                assert (_report_dir(served) / ref).is_file()
    js = (_report_dir(served) / "plotly.min.js").read_text(encoding="utf-8")
    assert "plotly.js" in js[:2000] and len(js) > 1_000_000


def test_rerun_is_idempotent_and_latest_matches(served):
    out = _report_dir(served)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = build_report(served, progress=lambda _m: None)
    assert result.run_id == SECOND_RUN and result.out_dir == out
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    latest = served.data_dir / "reports" / "latest"
    assert {p.name: p.read_bytes() for p in latest.iterdir()} == before
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no leftovers


def test_report_of_a_kept_older_version_leaves_latest_alone(served, tmp_path):
    result = build_report(served, run_id=BASE_RUN, out=tmp_path, progress=lambda _m: None)
    assert result.run_id == BASE_RUN and result.latest_dir is None
    assert sorted(p.name for p in tmp_path.iterdir()) == [BASE_RUN]
    runs = parse_page(tmp_path / BASE_RUN / "quality.html").tables["runs"]
    assert [r["run_id"] for r in runs] == [BASE_RUN]
    with pytest.raises(ReportError, match="no kept version"):
        build_report(served, run_id="no_such_run", out=tmp_path, progress=lambda _m: None)


def test_cli_help_and_summary(env, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["report", "--help"])
    assert exc.value.code == 0 and "--run-id" in capsys.readouterr().out
    assert main(["report", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "[report] index.html" in out and f"report of run {SECOND_RUN}" in out
    assert str(tmp_path / SECOND_RUN / "index.html") in out and "3 pages" in out
    assert (tmp_path / "latest" / "index.html").is_file()


def test_the_step_after_publication_never_raises(served, tmp_path):
    assert report_after_publication(served).run_id == SECOND_RUN
    empty = dataclasses.replace(served, data_dir=tmp_path / "empty")
    assert report_after_publication(empty) is None


def test_the_serving_file_carries_reject_counts_not_rejected_rows(served):
    columns = {
        r[0] for r in _sql(served, "select column_name from duckdb_columns() where schema_name = 'meta'")
    }
    assert {"rejected_rows", "rule", "quarantine_path", "rows_in_file"} <= columns
    assert not columns & {"raw_record", "value"}


def test_nothing_published_exits_1(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path / "empty"))
    assert main(["report"]) == 1
    assert "nothing is published" in capsys.readouterr().err


def test_operations_sections_render_when_their_marts_are_published(served, tmp_path, monkeypatch):
    """Stand-ins for the SPEC §11 marts (their contract columns) in a copy of the serving file."""
    con = duckdb.connect(str(_writable_serving_copy(served, tmp_path / "data")))
    con.execute(
        """
        create or replace table marts.mart_customer_activity_monthly as
        select * from (values
            ('2025-01-01'::date, 'all', true, 40, 40, null, null, null, null, null, 1000.5::decimal(18,4), 25.0),
            ('2025-02-01'::date, 'all', true, 70, 59, 9, 2, 31, 2.0, 0.225, 2000.25::decimal(18,4), 28.6)
        ) t(activity_month, channel, is_complete, active_customers, new_customers, retained_customers,
            resurrected_customers, churned_customers, quick_ratio, retention_rate, net_revenue, revenue_per_active);
        create or replace table marts.mart_acquisition_unit_economics as
        select * from (values ('2025-01-01'::date, 'all', 5000.0, 40, 0, 125.0, 74.5, 150.6, null, 1),
                              ('2025-01-01'::date, 'google_ads', 1800.0, 8, 0, 225.0, 60.0, 90.0, null, null))
            t(acquisition_month, channel, spend, new_customers, new_customers_unknown_spend, cac, ltv_0, ltv_1,
              ltv_3, payback_month);
        create or replace table marts.mart_recall_campaign_summary as
        select * from (values ('winback_q1', 'email', 400, 100, 12.5, 2.1, 22.9, true, true, 'c1'))
            t(campaign_name, channel, targeted_contacts, holdout_contacts, incremental_reactivations,
              incremental_reactivations_lower, incremental_reactivations_upper, is_significant,
              is_sample_sufficient, campaign_id);
        """
    )
    con.close()
    result = _report_of(tmp_path / "data", monkeypatch)
    page = parse_page(result.out_dir / "operations.html")
    assert page.notes == []
    growth = page.tables["growth-accounting"]
    assert [r["period"] for r in growth] == ["2025-01-01", "2025-02-01"]
    assert growth[0]["churned_customers"] is None and _num(growth[1]["net_revenue"]) == 2000.25
    assert [(r["period"], _num(r["cac"])) for r in page.tables["unit-economics"]] == [("2025-01-01", 125.0)]
    (recall,) = page.tables["recall-lift"]
    assert (recall["campaign_name"], _num(recall["incremental_reactivations"])) == ("winback_q1", 12.5)
    assert "campaign_id" not in recall  # the summary's chosen columns, not all of them
    spec = json.loads(page.specs["recall-lift"])
    assert spec["data"][0]["error_y"]["array"] == pytest.approx([10.4])
    assert len(json.loads(page.specs["growth-accounting"])["data"]) == 5  # 4 bars + quick ratio
