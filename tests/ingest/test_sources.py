"""Channel platform mappings, timezones, JSON Lines / Parquet, fx, files still being written."""

from __future__ import annotations

import json
import shutil
import time
from datetime import datetime, timedelta
from decimal import Decimal

import duckdb
import pytest

from growthops.config import REPO_ROOT, load_settings
from growthops.errors import DataQualityError, NotReadyError
from growthops.ingest.landing import scan_day
from growthops.ingest.loader import ingest_day

from .conftest import CRM_HEADER, DAY, FX_HEADER, orders_csv

GOOGLE = (
    "Day,Campaign ID,Campaign,Impr.,Clicks,Cost,Currency code\n"
    '2025-01-03,g1,Brand Search,"12,000",340,"1,234.50",USD\n'
    "2025-01-03,g2,Generic,5000,50,99.99,EUR\n"
)
META = (
    "Reporting starts,Campaign ID,Campaign name,Impressions,Link clicks,Amount spent,Currency,Reach\n"
    "2025-01-03,m1,Prospecting,2000,20,7.50,USD,1500\n"
)


def test_google_and_meta_native_headers_load_without_code_changes(settings, landing, wh):
    landing.put("channel", "google_ads.csv", GOOGLE)
    landing.put("channel", "meta_ads.csv", META)
    outcomes = ingest_day(settings, "channel", DAY).outcomes
    assert [(o.status, o.rows_loaded) for o in outcomes] == [("loaded", 2), ("loaded", 1)]
    rows = wh.rows(
        "select date, platform, campaign_id, campaign_name, impressions, clicks, spend, currency, _extra "
        "from raw.channel_performance order by campaign_id"
    )
    assert [r[:8] for r in rows] == [
        (DAY, "google_ads", "g1", "Brand Search", 12000, 340, Decimal("1234.5"), "USD"),
        (DAY, "google_ads", "g2", "Generic", 5000, 50, Decimal("99.99"), "EUR"),
        (DAY, "meta_ads", "m1", "Prospecting", 2000, 20, Decimal("7.5"), "USD"),
    ]
    assert json.loads(rows[2][8]) == {"Reach": "1500"}


def test_a_new_platform_is_a_new_mapping_file(tmp_path, monkeypatch, wh):
    config = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config", config)
    (config / "platforms" / "linkedin_ads.json").write_text(
        json.dumps(
            {
                "platform": "linkedin_ads",
                "columns": {
                    "Start Date (in UTC)": "date",
                    "Campaign ID": "campaign_id",
                    "Campaign Name": "campaign_name",
                    "Impressions": "impressions",
                    "Clicks": "clicks",
                    "Total Spent": "spend",
                    "Currency": "currency",
                },
                "date_format": "%m/%d/%Y",
            }
        )
    )
    monkeypatch.setenv("GROWTHOPS_CONFIG", str(config / "growthops.toml"))
    settings = load_settings()
    path = settings.landing_dir / "channel" / DAY.isoformat() / "linkedin_ads.csv"
    path.parent.mkdir(parents=True)
    path.write_text(
        "Start Date (in UTC),Campaign ID,Campaign Name,Impressions,Clicks,Total Spent,Currency\n"
        "01/03/2025,L1,B2B,100,3,12.00,USD\n"
    )
    old = time.time() - 60
    import os

    os.utime(path, (old, old))
    [o] = ingest_day(settings, "channel", DAY).outcomes
    assert o.status == "loaded"
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    assert con.execute("select date, platform, spend from raw.channel_performance").fetchall() == [
        (DAY, "linkedin_ads", Decimal("12"))
    ]
    con.close()


def test_unknown_platform_is_quarantined_naming_the_missing_mapping(settings, landing, wh):
    landing.put("channel", "bing_ads.csv", GOOGLE)
    with pytest.raises(DataQualityError) as exc:
        ingest_day(settings, "channel", DAY)
    assert "unknown_platform" in str(exc.value) and "config/platforms/bing_ads.json" in str(exc.value)
    assert (settings.quarantine_dir / "channel" / DAY.isoformat() / "bing_ads.csv").read_text() == GOOGLE


def test_a_platform_column_disagreeing_with_the_file_name_is_rejected(settings, landing, wh):
    rows = [f"2025-01-03,tiktok_ads,t{i},C,10,1,1.00,USD" for i in range(150)] + [
        "2025-01-03,meta_ads,t999,C,10,1,1.00,USD"
    ]
    landing.put(
        "channel",
        "tiktok_ads.csv",
        "date,platform,campaign_id,campaign_name,impressions,clicks,spend,currency\n"
        + "\n".join(rows)
        + "\n",
    )
    [o] = ingest_day(settings, "channel", DAY).outcomes
    assert o.rows_rejected == 1
    assert wh.rows("select rule, value from raw.rejects") == [("platform_mismatch", "meta_ads")]


def test_naive_timestamps_use_the_declared_timezone_not_the_machines(settings, landing, wh, monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        monkeypatch.setenv("GROWTHOPS_SOURCES_CRM_TIMEZONE", "America/New_York")
        settings = load_settings()
        rows = [
            "K1,a@x.io,2025-01-03 09:00:00,2025-01-03 09:00:00,lead,,,,",  # naive: New York (UTC-5)
            "K2,b@x.io,2025-01-03T09:00:00+01:00,2025-01-03T09:00:00+01:00,lead,,,,",  # offset wins
            "K3,c@x.io,2025-01-03 23:30:00,2025-01-03 23:30:00,lead,,,,",  # 04:30 UTC next day, still Jan 3 in NY
        ]
        landing.put("crm", "contacts.csv", CRM_HEADER + "\n" + "\n".join(rows) + "\n")
        [o] = ingest_day(settings, "crm", DAY).outcomes
        assert o.status == "loaded"
        assert wh.rows("select contact_id, created_at from raw.crm_contacts order by 1") == [
            ("K1", datetime(2025, 1, 3, 14, 0)),
            ("K2", datetime(2025, 1, 3, 8, 0)),
            ("K3", datetime(2025, 1, 4, 4, 30)),
        ]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_a_row_outside_the_export_day_is_rejected(settings, landing, wh):
    late = "O999,C1,2025-01-01T10:00:00+00:00,2025-01-02T10:00:00+00:00,paid,USD,1.00,0,0"
    landing.put("orders", "orders.csv", orders_csv(200, extra_rows=(late,)))
    [o] = ingest_day(settings, "orders", DAY).outcomes
    assert wh.rows("select rule, column_name, value from raw.rejects") == [
        ("outside_export_window", "updated_at", "2025-01-02 10:00:00 (export day 2025-01-03)")
    ]
    assert o.rows_loaded == 200


def test_json_lines_with_the_same_columns(settings, landing, wh):
    records = [
        {
            "contact_id": f"K{i}",
            "email": f"k{i}@x.io",
            "created_at": "2025-01-03T08:00:00Z",
            "updated_at": "2025-01-03T08:30:00Z",
            "lifecycle_stage": "customer",
            "utm_source": "google",
            "utm_medium": "cpc",
            "utm_campaign": None,
            "country": "DE",
            "is_deleted": i == 2,
            "score": i,
        }
        for i in range(1, 201)
    ]
    lines = [json.dumps(r) for r in records]
    lines.insert(5, '{"contact_id": "broken"')  # invalid JSON on line 6
    landing.put("crm", "contacts.jsonl", "\n".join(lines) + "\n")
    [o] = ingest_day(settings, "crm", DAY).outcomes
    assert (o.status, o.rows_in_file, o.rows_loaded, o.rows_rejected) == ("loaded_with_rejects", 201, 200, 1)
    assert wh.rows("select line, rule from raw.rejects") == [(6, "invalid_json")]
    assert wh.rows(
        "select contact_id, is_deleted, utm_campaign, _source_line, _extra from raw.crm_contacts "
        "where contact_id in ('K2', 'K7') order by 1"
    ) == [("K2", True, None, 2, '{"score":2}'), ("K7", False, None, 8, '{"score":7}')]


def test_parquet_with_the_same_columns(settings, landing, wh, tmp_path):
    path = settings.landing_dir / "orders" / DAY.isoformat() / "orders.parquet"
    path.parent.mkdir(parents=True)
    con = duckdb.connect()
    con.execute(
        f"""
        copy (
            select 'P' || i as order_id, null::varchar as contact_id,
                   timestamptz '2025-01-03 10:00:00+00' + (i * interval 1 minute) as created_at,
                   timestamptz '2025-01-03 10:00:00+00' + (i * interval 1 minute) as updated_at,
                   'paid' as status, 'USD' as currency, (i * 1.5)::decimal(18, 4) as gross_amount,
                   0::decimal(18, 4) as discount_amount, 0::decimal(18, 4) as refund_amount
            from range(1, 6) t(i)
        ) to '{path}' (format parquet)
        """
    )
    con.close()
    old = time.time() - 60
    import os

    os.utime(path, (old, old))
    [o] = ingest_day(settings, "orders", DAY).outcomes
    assert (o.status, o.rows_loaded) == ("loaded", 5)
    assert wh.rows("select order_id, gross_amount, updated_at, _source_line from raw.shop_orders order by 4")[
        :2
    ] == [
        ("P1", Decimal("1.5"), datetime(2025, 1, 3, 10, 1), 1),
        ("P2", Decimal("3.0"), datetime(2025, 1, 3, 10, 2), 2),
    ]


def test_fx_has_its_own_gate(settings, landing, wh):
    good = FX_HEADER + "\n2025-01-03,USD,1\n2025-01-03,EUR,1.08\n2025-01-03,JPY,0.0064\n"
    landing.put("fx", "rates.csv", good)
    [o] = ingest_day(settings, "fx", DAY).outcomes
    assert (o.status, o.rows_loaded) == ("loaded", 3)
    assert wh.rows("select currency, usd_rate from raw.fx_rates order by 1") == [
        ("EUR", Decimal("1.08")),
        ("JPY", Decimal("0.0064")),
        ("USD", Decimal("1")),
    ]
    # threshold 0 for fx: a single negative rate or unknown currency quarantines the file
    landing.put("fx", "rates.csv", good + "2025-01-03,XYZ,2\n2025-01-03,GBP,-1.2\n")
    with pytest.raises(DataQualityError) as exc:
        ingest_day(settings, "fx", DAY)
    assert {"reject_threshold", "not_in_enumeration", "non_positive_rate"} <= set(exc.value.report.rules)
    assert wh.count("raw.fx_rates") == 3  # the previous good batch is still there


def test_a_file_still_being_written_is_not_read(settings, landing, wh):
    part = landing.put("orders", "orders.csv.part", orders_csv(3))
    assert scan_day(settings, "orders", DAY)[0] == []
    with pytest.raises(NotReadyError, match=r"orders\.csv\.part.*still being written"):
        ingest_day(settings, "orders", DAY)
    fresh = landing.put("orders", "orders.csv", orders_csv(3), age=0)  # just written: size may still change
    with pytest.raises(NotReadyError, match=r"modified .*s ago"):
        ingest_day(settings, "orders", DAY)
    assert part.exists() and fresh.exists()
    assert wh.count("raw.shop_orders") == 0 and wh.count("raw.load_ledger") == 0


def test_finished_files_load_while_another_is_still_being_written(settings, landing, wh):
    landing.put("channel", "google_ads.csv", GOOGLE)
    landing.put("channel", "meta_ads.csv", META, age=0)
    with pytest.raises(NotReadyError, match=r"meta_ads\.csv"):
        ingest_day(settings, "channel", DAY)
    assert wh.rows("select distinct platform from raw.channel_performance") == [("google_ads",)]


def test_no_export_at_all_is_not_ready(settings, wh):
    with pytest.raises(NotReadyError, match="no export"):
        ingest_day(settings, "orders", DAY + timedelta(days=30))


def test_row_count_far_below_the_recent_average_warns_but_loads(settings, landing, wh):
    for k in range(3):
        day = DAY + timedelta(days=k)
        landing.put("orders", "orders.csv", orders_csv(100, day=day), day=day)
        ingest_day(settings, "orders", day)
    day = DAY + timedelta(days=3)
    landing.put("orders", "orders.csv", orders_csv(5, day=day), day=day)
    [o] = ingest_day(settings, "orders", day).outcomes
    assert o.status == "loaded"
    assert o.warnings and o.warnings[0].startswith("row_count_vs_recent_average: observed 0.05")


def test_a_callers_connection_is_left_as_it_was(settings, landing, monkeypatch):
    from growthops.ingest.loader import ingest_files
    from growthops.warehouse import connect

    monkeypatch.setenv("GROWTHOPS_SOURCES_ORDERS_TIMEZONE", "Europe/Berlin")
    settings = load_settings()
    landing.put("orders", "orders.csv", orders_csv(3))
    con = connect(settings.warehouse_path)
    try:
        con.execute("set TimeZone = 'Asia/Tokyo'")
        [o] = ingest_files(settings, "orders", scan_day(settings, "orders", DAY)[0], con=con).outcomes
        assert o.status == "loaded"
        assert con.execute("select current_setting('TimeZone')").fetchone() == ("Asia/Tokyo",)
        assert con.execute(
            "select count(*) from duckdb_tables() where table_name like '_ing%'"
        ).fetchone() == (0,)
        assert con.execute("select count(*) from raw.shop_orders").fetchone() == (3,)
    finally:
        con.close()
