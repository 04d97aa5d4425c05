"""Every file the generator writes conforms to the export contracts (SPEC §2)."""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from pathlib import Path

from growthops.config import REPO_ROOT, load_settings
from growthops.contracts import (
    CHANNELS,
    COSTS,
    CRM,
    FX,
    KNOWN_CURRENCIES,
    LIFECYCLE_STAGES,
    MESSAGES,
    ORDER_STATUSES,
    ORDERS,
    load_platform_mappings,
)
from growthops.generate import SUMMARY_NAME, generate

TS_WITH_OFFSET = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$"
MONEY = r"^\d+\.\d{2}$"
BIG_START = date(2025, 3, 3)


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh))


def test_layout_every_day_every_source(small_run):
    landing, summary = small_run
    start, end = summary["args"]["start"], summary["args"]["end"]
    written = {p.relative_to(landing).as_posix() for p in landing.rglob("*") if p.is_file()}
    assert written - {SUMMARY_NAME} == set(summary["files"])
    assert not [p for p in written if p.endswith(".part")]
    days = sorted({p.split("/")[1] for p in summary["files"]})
    assert days[0] == start and days[-1] == end and len(days) == summary["days"] == 120
    for day in days:
        for rel in ("channel/{}/google_ads.csv", "channel/{}/meta_ads.csv", "channel/{}/tiktok_ads.csv",
                    "crm/{}/contacts.csv", "orders/{}/orders.csv", "fx/{}/rates.csv", "messages/{}/sends.csv",
                    "costs/{}/costs.csv"):  # fmt: skip
            assert rel.format(day) in summary["files"]


def test_headers_follow_contracts_and_platform_mappings(small_run):
    landing, summary = small_run
    mappings = load_platform_mappings(load_settings().platforms_dir)
    assert _header(landing / "channel/2025-02-03/google_ads.csv") == [
        "Day", "Campaign ID", "Campaign", "Impr.", "Clicks", "Cost", "Currency code",
    ]  # fmt: skip
    assert _header(landing / "channel/2025-02-03/meta_ads.csv") == [
        "Reporting starts", "Campaign ID", "Campaign name", "Impressions", "Link clicks", "Amount spent", "Currency",
    ]  # fmt: skip
    for rel in summary["files"]:
        source, _day, name = rel.split("/")
        if source == "channel":
            expected = list(mappings[name.removesuffix(".csv")].columns)
        else:
            expected = list(
                {"crm": CRM, "orders": ORDERS, "fx": FX, "messages": MESSAGES, "costs": COSTS}[source].names
            )
        assert _header(landing / rel) == expected, rel


def test_files_parse_with_explicit_schema_and_counts_match_summary(small_run, small_db):
    _landing, summary = small_run
    totals = summary["totals"]
    for view in ("crm", "orders", "fx", "channel", "messages", "costs"):
        assert small_db.sql(f"SELECT count(*) FROM {view}").fetchone()[0] == totals[view], view
    per_file = dict(
        small_db.sql(
            "SELECT regexp_extract(filename, '(\\w+/\\d{4}-\\d{2}-\\d{2}/[^/]+)$', 1), count(*) FROM ("
            "SELECT filename FROM crm UNION ALL SELECT filename FROM orders UNION ALL "
            "SELECT filename FROM fx UNION ALL SELECT filename FROM channel UNION ALL "
            "SELECT filename FROM messages UNION ALL SELECT filename FROM costs) GROUP BY 1"
        ).fetchall()
    )
    nonempty = {k: v for k, v in summary["files"].items() if v}
    assert per_file == nonempty


def test_timestamps_have_offsets_and_mean_the_intended_instant(small_db):
    for view in ("crm_text", "orders_text"):
        bad = small_db.sql(
            f"SELECT count(*) FROM {view} WHERE NOT regexp_matches(created_at, '{TS_WITH_OFFSET}') "
            f"OR NOT regexp_matches(updated_at, '{TS_WITH_OFFSET}')"
        ).fetchone()[0]
        assert bad == 0, view
    offsets = dict(
        small_db.sql("SELECT right(updated_at, 6), count(*) FROM orders_text GROUP BY 1").fetchall()
    )
    assert set(offsets) == {"+00:00", "+01:00", "+09:00"}  # USD/GBP, EUR, JPY shops
    assert offsets["+01:00"] > 100 and offsets["+09:00"] > 10
    # the folder is the UTC day of the change: parsed with its offset, updated_at falls on it
    for view in ("crm", "orders"):
        off_day = small_db.sql(
            f"SELECT count(*) FROM {view} WHERE updated_at::DATE <> folder_day"
        ).fetchone()[0]
        assert off_day == 0, view
    # local wall-clock dates differ from the UTC day for some EUR/JPY rows: the offset matters
    assert (
        small_db.sql(
            "SELECT count(*) FROM orders_text WHERE left(updated_at, 10)::DATE <> folder_day"
        ).fetchone()[0]
        > 0
    )


def test_enumerations(small_db):
    def values(sql: str) -> set:
        return {r[0] for r in small_db.sql(sql).fetchall()}

    assert values("SELECT DISTINCT lifecycle_stage FROM crm") == set(LIFECYCLE_STAGES)
    assert values("SELECT DISTINCT status FROM orders") == set(ORDER_STATUSES)
    for sql in ("SELECT DISTINCT currency FROM orders", "SELECT DISTINCT currency FROM channel",
                "SELECT DISTINCT currency FROM fx"):  # fmt: skip
        assert values(sql) <= set(KNOWN_CURRENCIES), sql
    assert values("SELECT DISTINCT currency FROM orders") == {"USD", "EUR", "GBP", "JPY"}
    assert values("SELECT DISTINCT currency FROM channel") >= {"USD", "EUR", "GBP"}
    countries = values("SELECT DISTINCT country FROM crm")
    assert None in countries and all(re.fullmatch(r"[A-Z]{2}", c) for c in countries - {None})
    assert values("SELECT DISTINCT is_deleted FROM crm") <= {True, False}
    assert values("SELECT DISTINCT platform_column FROM channel WHERE platform = 'tiktok_ads'") == {
        "tiktok_ads"
    }


def test_keys_unique_within_each_file(small_db):
    for view, key in (("crm", "contact_id"), ("orders", "order_id"), ("fx", "date, currency"),
                      ("channel", "date, platform, campaign_id")):  # fmt: skip
        dup = small_db.sql(
            f"SELECT count(*) FROM (SELECT filename, {key} FROM {view} GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()[0]
        assert dup == 0, view
    assert small_db.sql("SELECT count(*) FROM crm WHERE contact_id IS NULL").fetchone()[0] == 0
    assert small_db.sql("SELECT count(*) FROM orders WHERE order_id IS NULL").fetchone()[0] == 0


def test_invariants(small_db):
    checks = {
        "channel clicks <= impressions": "SELECT count(*) FROM channel WHERE NOT (0 <= clicks AND clicks <= impressions)",
        "channel spend >= 0": "SELECT count(*) FROM channel WHERE spend < 0 OR spend IS NULL",
        "channel date not after its file": "SELECT count(*) FROM channel WHERE date > folder_day",
        "orders amounts >= 0": "SELECT count(*) FROM orders WHERE least(gross_amount, discount_amount, refund_amount) < 0",
        "orders discount + refund <= gross": "SELECT count(*) FROM orders WHERE discount_amount + refund_amount > gross_amount",
        "orders refund only when refunded": "SELECT count(*) FROM orders WHERE refund_amount > 0 AND status NOT IN ('refunded', 'partially_refunded')",
        "orders full refund": "SELECT count(*) FROM orders WHERE status = 'refunded' AND refund_amount <> gross_amount - discount_amount",
        # read_csv yields NULL (no error) for an unparseable TIMESTAMPTZ, so nulls are checked too
        "timestamps parse": "SELECT (SELECT count(*) FROM orders WHERE created_at IS NULL OR updated_at IS NULL) + (SELECT count(*) FROM crm WHERE created_at IS NULL OR updated_at IS NULL)",
        "not-null columns": "SELECT (SELECT count(*) FROM orders WHERE status IS NULL OR currency IS NULL OR gross_amount IS NULL OR discount_amount IS NULL OR refund_amount IS NULL) + (SELECT count(*) FROM crm WHERE lifecycle_stage IS NULL OR is_deleted IS NULL) + (SELECT count(*) FROM channel WHERE date IS NULL OR campaign_id IS NULL OR campaign_name IS NULL OR impressions IS NULL OR clicks IS NULL OR currency IS NULL)",
        "orders updated >= created": "SELECT count(*) FROM orders WHERE updated_at < created_at",
        "crm updated >= created": "SELECT count(*) FROM crm WHERE updated_at < created_at",
        "fx rate > 0": "SELECT count(*) FROM fx WHERE usd_rate <= 0",
        "fx USD = 1": "SELECT count(*) FROM fx WHERE currency = 'USD' AND usd_rate <> 1",
        "fx date = folder": "SELECT count(*) FROM fx WHERE date <> folder_day",
        "money has 2 decimals": f"SELECT count(*) FROM orders_text WHERE NOT (regexp_matches(gross_amount, '{MONEY}') AND regexp_matches(discount_amount, '{MONEY}') AND regexp_matches(refund_amount, '{MONEY}'))",
        "JPY has no minor unit": "SELECT count(*) FROM orders WHERE currency = 'JPY' AND (gross_amount % 1 <> 0 OR discount_amount % 1 <> 0)",
        "fx 8 decimals": r"SELECT count(*) FROM fx_text WHERE NOT regexp_matches(usd_rate, '^\d+\.\d{8}$')",
    }  # fmt: skip
    failures = {name: n for name, sql in checks.items() if (n := small_db.sql(sql).fetchone()[0])}
    assert failures == {}


def test_every_currency_has_a_rate_on_every_day(small_db, small_run):
    _landing, summary = small_run
    per_day = small_db.sql("SELECT date, list(currency ORDER BY currency) FROM fx GROUP BY 1").fetchall()
    assert len(per_day) == summary["days"]
    assert {tuple(c) for _d, c in per_day} == {("EUR", "GBP", "JPY", "USD")}


def test_campaign_names_normalise_to_utm_campaign(small_db, small_run):
    _landing, summary = small_run
    keys = {c["campaign_key"] for c in summary["campaigns"]}
    exported = {
        r[0] for r in small_db.sql("SELECT DISTINCT lower(trim(campaign_name)) FROM channel").fetchall()
    }
    assert exported == keys
    # the export's spelling differs from the utm value for some campaigns (case or spacing)
    raw_names = {r[0] for r in small_db.sql("SELECT DISTINCT campaign_name FROM channel").fetchall()}
    assert raw_names - keys
    utm = {
        r[0]
        for r in small_db.sql(
            "SELECT DISTINCT utm_campaign FROM crm WHERE utm_campaign IS NOT NULL"
        ).fetchall()
    }
    assert keys <= utm  # every campaign brought signups
    assert all(u == u.strip().lower() for u in utm)
    # one campaign id has one name; campaign ids are distinct across platforms
    assert small_db.sql(
        "SELECT count(*) FROM (SELECT campaign_id FROM channel GROUP BY 1 HAVING count(DISTINCT campaign_name) > 1 OR count(DISTINCT platform) > 1)"
    ).fetchone()[0] == 0  # fmt: skip


def test_utm_values_reach_every_channel_through_the_seed_mapping(small_db):
    seed = REPO_ROOT / "dbt_project" / "seeds" / "channel_mapping.csv"
    small_db.execute(
        f"CREATE OR REPLACE TABLE mapping AS SELECT * FROM read_csv('{seed}', all_varchar = true)"
    )
    small_db.execute("UPDATE mapping SET utm_medium_pattern = '' WHERE utm_medium_pattern IS NULL")
    channels = small_db.sql(
        """
        WITH c AS (SELECT contact_id, lower(trim(coalesce(utm_source, ''))) AS s,
                          lower(trim(coalesce(utm_medium, ''))) AS m FROM latest_contacts),
        matched AS (
            SELECT c.contact_id, CASE WHEN c.s = '' AND c.m = '' THEN 'direct' ELSE
                arg_min(mapping.channel, mapping.priority::INT) END AS channel
            FROM c LEFT JOIN mapping ON c.s LIKE mapping.utm_source_pattern AND c.m LIKE mapping.utm_medium_pattern
            GROUP BY c.contact_id, c.s, c.m)
        SELECT channel, count(*) FROM matched GROUP BY 1
        """
    ).fetchall()
    counts = dict(channels)
    assert set(counts) == set(CHANNELS)
    assert counts["google_ads"] > counts["other"] and counts["direct"] > counts["other"]


def test_google_cost_uses_thousands_separators_quoted(tmp_path):
    # scale 1.0 for a few days: campaign-days spend above 1,000 and are written like "1,234.50"
    landing = tmp_path / "landing"
    summary = generate(landing, start=BIG_START, end=BIG_START + timedelta(days=4), scale=1.0, seed=3)
    assert summary["totals"]["channel"] > 0
    lines = []
    for rel in summary["files"]:
        if rel.endswith("google_ads.csv"):
            lines += (landing / rel).read_text(encoding="utf-8").splitlines()[1:]
    quoted = [line for line in lines if re.search(r',"\d{1,3}(,\d{3})+\.\d{2}",', line)]
    assert quoted, "no Cost above 1,000 written with a thousands separator"
    for row in csv.reader(lines):
        cost = row[5]
        assert re.fullmatch(r"\d{1,3}(,\d{3})*\.\d{2}", cost), cost
    meta = (
        (landing / f"channel/{BIG_START + timedelta(days=2)}/meta_ads.csv")
        .read_text(encoding="utf-8")
        .splitlines()[1:]
    )
    assert all(re.fullmatch(r"\d+\.\d{2}", row[5]) for row in csv.reader(meta))
