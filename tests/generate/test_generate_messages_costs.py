"""The messages and costs exports (SPEC §11) conform to their contracts and load with 0 rejects."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import tomllib
from datetime import date

from world import point_at

from growthops.config import DEFAULT_CONFIG_FILE, SourceSettings, load_settings
from growthops.contracts import CHANNELS, COST_PURPOSES, COST_TYPES, MESSAGE_CHANNELS, MESSAGE_PURPOSES

TS_WITH_OFFSET = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$"


def one(db, sql: str):
    return db.sql(sql).fetchone()[0]


def test_messages_follow_the_contract(small_db, small_run):
    _landing, summary = small_run
    m = summary["messages"]
    assert one(small_db, "SELECT count(*) FROM messages") == m["rows"] == summary["totals"]["messages"] > 1000
    assert (
        one(small_db, "SELECT count(DISTINCT message_id) FROM messages") == m["rows"]
    )  # unique over all files
    assert one(small_db, "SELECT count(*) FROM messages WHERE sent_at::DATE <> folder_day") == 0
    for column in ("message_id", "contact_id", "campaign_id", "campaign_name", "channel", "purpose", "sent_at",
                   "is_holdout"):  # fmt: skip
        assert one(small_db, f"SELECT count(*) FROM messages WHERE {column} IS NULL") == 0, column
    channels = {r[0] for r in small_db.sql("SELECT DISTINCT channel FROM messages").fetchall()}
    purposes = dict(small_db.sql("SELECT purpose, count(*) FROM messages GROUP BY 1").fetchall())
    assert channels <= set(MESSAGE_CHANNELS) and set(purposes) <= set(MESSAGE_PURPOSES)
    assert purposes == m["by_purpose"] and {"recall", "onboarding", "newsletter"} <= set(purposes)
    # holdout rows: recall only, never a cost; a cost always comes with its currency
    assert one(small_db, "SELECT count(*) FROM messages WHERE is_holdout") == m["holdout_rows"] > 0
    assert one(small_db, "SELECT count(*) FROM messages WHERE is_holdout AND purpose <> 'recall'") == 0
    assert one(small_db, "SELECT count(*) FROM messages WHERE is_holdout AND cost IS NOT NULL") == 0
    assert one(small_db, "SELECT count(*) FROM messages WHERE (cost IS NULL) <> (currency IS NULL)") == 0
    assert one(small_db, "SELECT count(*) FROM messages WHERE cost IS NOT NULL") == m["rows_with_cost"] > 0
    unknown = one(
        small_db,
        "SELECT count(*) FROM messages WHERE contact_id NOT IN (SELECT contact_id FROM crm)",
    )
    assert unknown == m["rows_to_contacts_unknown_to_crm"] > 0
    # one campaign name per campaign id, one channel and purpose per campaign
    mixed = (
        "SELECT count(*) FROM (SELECT campaign_id FROM messages GROUP BY 1 "
        "HAVING count(DISTINCT (campaign_name, channel, purpose)) > 1)"
    )
    assert one(small_db, mixed) == 0


def test_messages_text_format(small_db):
    bad_ts = one(
        small_db, f"SELECT count(*) FROM messages_text WHERE NOT regexp_matches(sent_at, '{TS_WITH_OFFSET}')"
    )
    assert bad_ts == 0
    assert (
        one(
            small_db,
            r"SELECT count(*) FROM messages_text WHERE cost <> '' AND NOT regexp_matches(cost, '^\d+\.\d{4}$')",
        )
        == 0
    )
    assert {r[0] for r in small_db.sql("SELECT DISTINCT is_holdout FROM messages_text").fetchall()} == {
        "true",
        "false",
    }
    assert (
        one(
            small_db, r"SELECT count(*) FROM messages_text WHERE NOT regexp_matches(message_id, '^MSG\d{9}$')"
        )
        == 0
    )


def test_costs_follow_the_contract(small_db, small_run):
    _landing, summary = small_run
    assert one(small_db, "SELECT count(*) FROM costs") == summary["totals"]["costs"] > 50
    assert one(small_db, "SELECT count(*) FROM costs WHERE date <> folder_day") == 0
    assert one(small_db, "SELECT count(*) FROM costs WHERE amount < 0 OR amount IS NULL") == 0
    assert one(small_db, "SELECT count(*) FROM (SELECT 1 FROM costs GROUP BY date, channel, campaign, cost_type, "
                         "purpose HAVING count(*) > 1)") == 0  # fmt: skip
    for column, allowed in (("channel", CHANNELS), ("cost_type", COST_TYPES), ("purpose", COST_PURPOSES)):
        values = {r[0] for r in small_db.sql(f"SELECT DISTINCT {column} FROM costs").fetchall()}
        assert values <= set(allowed), column
    assert (
        one(small_db, r"SELECT count(*) FROM costs_text WHERE NOT regexp_matches(amount, '^\d+\.\d{2}$')")
        == 0
    )
    assert one(small_db, "SELECT count(*) FROM costs WHERE campaign IS NULL") > 0


def _settings(tmp_path, monkeypatch, landing):
    point_at(monkeypatch, tmp_path / "data")
    settings = load_settings()
    shutil.copytree(landing, settings.landing_dir)
    declared = tomllib.loads(DEFAULT_CONFIG_FILE.read_text(encoding="utf-8"))["sources"]
    extra = {
        s: SourceSettings(name=s, **declared[s]) for s in ("messages", "costs") if s not in settings.sources
    }
    return dataclasses.replace(settings, sources={**settings.sources, **extra})


def test_loader_loads_messages_and_costs_with_no_rejects_and_redelivery_is_a_no_op(
    small_run, tmp_path, monkeypatch
):
    from growthops.ingest.loader import load_range

    landing, summary = small_run
    settings = _settings(tmp_path, monkeypatch, landing)
    start, end = date.fromisoformat(summary["args"]["start"]), date.fromisoformat(summary["args"]["end"])
    for source in ("messages", "costs"):
        result = load_range(settings, source, start, end)
        assert result.ok, result.summary()
        assert (result.rows_loaded, result.rows_rejected) == (summary["sources"][source]["rows"], 0)
        assert len(result.outcomes) == summary["sources"][source]["files"] == summary["days"]
    # the tool delivers some days' files again, unchanged: same path, same bytes, newer mtime
    redelivered = summary["messages"]["redelivered_files"]
    assert redelivered
    for rel in redelivered:
        path = settings.landing_dir / rel
        data = path.read_bytes()
        path.write_bytes(data)
        os.utime(path)
        assert re.fullmatch(r"messages/\d{4}-\d{2}-\d{2}/sends\.csv", rel)
    again = load_range(settings, "messages", start, end)
    assert again.ok and again.rows_loaded == 0
    assert again.count("skipped") == len(again.outcomes)
