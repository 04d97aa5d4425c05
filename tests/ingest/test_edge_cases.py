"""The issue's list of awkward inputs, each with its asserted outcome (orders unless stated)."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import pytest

from growthops.errors import DataQualityError
from growthops.ingest.loader import ingest_day

from .conftest import DAY, ORDERS_HEADER, order_row, orders_csv


def sha(path_or_bytes) -> str:
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else path_or_bytes.read_bytes()
    return hashlib.sha256(data).hexdigest()


def quarantined(settings, name="orders.csv", source="orders", day=DAY):
    return settings.quarantine_dir / source / day.isoformat() / name


def assert_quarantined(
    settings, wh, landed_path, original: bytes, *, rules: list[str], exc: DataQualityError
):
    """File moved byte-identical with reports, ledger row quarantined, raw untouched, message clear."""
    q = quarantined(settings, landed_path.name)
    assert not landed_path.exists()
    assert q.read_bytes() == original
    report = json.loads(q.with_name(q.name + ".report.json").read_text())
    assert set(rules) <= set(report["rules"] if "rules" in report else [c["rule"] for c in report["checks"]])
    assert (q.with_name(q.name + ".report.md")).read_text().startswith("# Quarantined: orders/")
    assert wh.rows("select status, sha256, quarantine_path from raw.load_ledger") == [
        ("quarantined", sha(original), str(q))
    ]
    assert wh.count("raw.shop_orders") == 0
    assert wh.count("raw.rejects") == 0
    text = str(exc)
    assert "orders 2025-01-03" in text and "orders/2025-01-03/orders.csv" in text
    for rule in rules:
        assert rule in text


def test_good_file_loads_every_row_with_lineage(settings, landing, wh):
    path = landing.put("orders", "orders.csv", orders_csv(5))
    result = ingest_day(settings, "orders", DAY)
    [o] = result.outcomes
    assert (o.status, o.rows_in_file, o.rows_loaded, o.rows_rejected) == ("loaded", 5, 5, 0)
    assert path.exists()  # landing keeps loaded files
    rows = wh.rows(
        "select order_id, _batch_id, _batch_day, _source_file, _source_line, gross_amount from raw.shop_orders "
        "order by _source_line"
    )
    assert [r[0] for r in rows] == ["O1", "O2", "O3", "O4", "O5"]
    assert {r[1] for r in rows} == {f"orders/2025-01-03/orders.csv@{sha(path)[:12]}"}
    assert [r[4] for r in rows] == [2, 3, 4, 5, 6]
    assert rows[0][2].isoformat() == "2025-01-03" and rows[0][3] == "orders/2025-01-03/orders.csv"
    assert wh.rows("select status, rows_in_file, rows_loaded, rows_rejected from raw.load_ledger") == [
        ("loaded", 5, 5, 0)
    ]


def test_empty_file_is_quarantined(settings, landing, wh):
    path = landing.put("orders", "orders.csv", b"")
    with pytest.raises(DataQualityError) as exc:
        ingest_day(settings, "orders", DAY)
    assert_quarantined(settings, wh, path, b"", rules=["non_empty_file"], exc=exc.value)
    assert "no header and no rows (0 bytes)" in str(exc.value)


def test_header_only_file_is_a_valid_empty_day(settings, landing, wh):
    """A quiet day (no orders, no active campaign) is exported as a header line: 0 rows, reported."""
    path = landing.put("orders", "orders.csv", ORDERS_HEADER + "\n")
    [o] = ingest_day(settings, "orders", DAY).outcomes
    assert (o.status, o.rows_in_file, o.rows_loaded, o.rows_rejected) == ("loaded", 0, 0, 0)
    assert o.warnings[0].startswith("no_data_rows: observed 0")
    assert path.exists() and not settings.quarantine_dir.exists()
    assert wh.rows("select status, rows_in_file from raw.load_ledger") == [("loaded", 0)]
    assert wh.count("raw.shop_orders") == 0


def test_missing_required_column_quarantines_with_expected_vs_found(settings, landing, wh):
    header = ORDERS_HEADER.replace(",status", "")
    rows = [",".join(p for k, p in enumerate(order_row(i).split(",")) if k != 4) for i in range(1, 4)]
    content = ("\n".join([header, *rows]) + "\n").encode()
    path = landing.put("orders", "orders.csv", content)
    with pytest.raises(DataQualityError) as exc:
        ingest_day(settings, "orders", DAY)
    assert_quarantined(settings, wh, path, content, rules=["missing_required_columns"], exc=exc.value)
    check = exc.value.report.checks[0]
    assert check.observed == ["status"]
    assert "expected columns" in check.detail and "found" in check.detail
    assert exc.value.report.kind == "contract mismatch"


def test_renamed_column_quarantines_naming_both_names(settings, landing, wh):
    content = orders_csv(3).replace("gross_amount", "gross", 1).encode()
    path = landing.put("orders", "orders.csv", content)
    with pytest.raises(DataQualityError) as exc:
        ingest_day(settings, "orders", DAY)
    assert_quarantined(settings, wh, path, content, rules=["missing_required_columns"], exc=exc.value)
    text = str(exc.value)
    assert "gross_amount" in text and "unknown ['gross'] (renamed?)" in text


def test_unknown_extra_column_is_kept_in_extra_json(settings, landing, wh):
    lines = orders_csv(2).splitlines()
    content = "\n".join([lines[0] + ",coupon_code", lines[1] + ",WINTER", lines[2] + ","]) + "\n"
    landing.put("orders", "orders.csv", content)
    [o] = ingest_day(settings, "orders", DAY).outcomes
    assert o.status == "loaded" and o.rows_loaded == 2
    extras = wh.rows("select order_id, _extra from raw.shop_orders order by order_id")
    assert [(oid, json.loads(x)) for oid, x in extras] == [
        ("O1", {"coupon_code": "WINTER"}),
        ("O2", {"coupon_code": ""}),
    ]


def test_columns_in_another_order_load_by_name(settings, landing, wh):
    header = ORDERS_HEADER.split(",")
    order = [8, 7, 6, 5, 4, 3, 2, 1, 0]
    rows = [order_row(i).split(",") for i in (1, 2)]
    content = "\n".join(",".join(r[k] for k in order) for r in [header, *rows]) + "\n"
    landing.put("orders", "orders.csv", content)
    ingest_day(settings, "orders", DAY)
    assert wh.rows("select order_id, status, gross_amount from raw.shop_orders order by 1") == [
        ("O1", "paid", Decimal("100")),
        ("O2", "paid", Decimal("100")),
    ]


def test_utf8_bom_is_accepted(settings, landing, wh):
    landing.put("orders", "orders.csv", b"\xef\xbb\xbf" + orders_csv(3).encode())
    [o] = ingest_day(settings, "orders", DAY).outcomes
    assert o.status == "loaded" and o.rows_loaded == 3
    assert wh.rows("select min(order_id) from raw.shop_orders") == [("O1",)]


def test_crlf_line_endings(settings, landing, wh):
    landing.put("orders", "orders.csv", orders_csv(3).replace("\n", "\r\n"))
    [o] = ingest_day(settings, "orders", DAY).outcomes
    assert o.status == "loaded"
    assert wh.rows("select refund_amount, _source_line from raw.shop_orders order by 2") == [
        (0, 2),
        (0, 3),
        (0, 4),
    ]


def test_invalid_utf8_is_quarantined(settings, landing, wh):
    content = orders_csv(2).encode().replace(b"C1", b"C\xff", 1)
    path = landing.put("orders", "orders.csv", content)
    with pytest.raises(DataQualityError) as exc:
        ingest_day(settings, "orders", DAY)
    assert_quarantined(settings, wh, path, content, rules=["utf8_encoding"], exc=exc.value)


def test_quoted_embedded_newline_keeps_physical_line_numbers(settings, landing, wh):
    content = "\n".join(
        [
            "contact_id,email,created_at,updated_at,lifecycle_stage,utm_source,utm_medium,utm_campaign,country",
            'K1,a@x.io,2025-01-03 09:00:00,2025-01-03 09:00:00,lead,google,cpc,"winter\nsale",DE',
            "K2,b@x.io,2025-01-03 09:00:00,2025-01-03 09:00:00,lead,,,,",
            'K3,c@x.io,2025-01-03 09:00:00,2025-01-03 09:00:00,lead,meta,"paid\n\nsocial",x,FR',
            "K4,d@x.io,2025-01-03 09:00:00,2025-01-03 09:00:00,customer,,,,US",
        ]
    )
    landing.put("crm", "contacts.csv", content + "\n")
    [o] = ingest_day(settings, "crm", DAY).outcomes
    assert o.status == "loaded" and o.rows_loaded == 4
    assert wh.rows(
        "select contact_id, _source_line, utm_campaign, utm_medium from raw.crm_contacts order by 2"
    ) == [
        ("K1", 2, "winter\nsale", "cpc"),
        ("K2", 4, None, None),
        ("K3", 5, "x", "paid\n\nsocial"),
        ("K4", 8, None, None),
    ]


def test_quoted_money_with_thousands_separator(settings, landing, wh):
    content = orders_csv(
        1, extra_rows=(order_row(2, gross='"1,234.50"'), order_row(3, gross='"$12,345,678.05"'))
    )
    landing.put("orders", "orders.csv", content)
    [o] = ingest_day(settings, "orders", DAY).outcomes
    assert o.status == "loaded"
    assert [float(r[0]) for r in wh.rows("select gross_amount from raw.shop_orders order by order_id")] == [
        100.0,
        1234.5,
        12345678.05,
    ]


def test_unquoted_money_with_comma_is_rejected_not_shifted(settings, landing, wh):
    bad = order_row(101, gross="1,234.50")  # one field too many
    content = orders_csv(100, extra_rows=(bad,))
    landing.put("orders", "orders.csv", content)
    # 1 bad row of 101 is just under 1%: good rows load, the bad one is a reject
    [o] = ingest_day(settings, "orders", DAY).outcomes
    assert (o.status, o.rows_in_file, o.rows_loaded, o.rows_rejected) == ("loaded_with_rejects", 101, 100, 1)
    assert wh.rows("select line, rule, value, raw_record from raw.rejects") == [
        (102, "field_count", "found 10 fields, expected 9", bad)
    ]
    assert wh.one("select count(*) from raw.shop_orders where order_id = 'O101'") == 0
    assert wh.one("select max(gross_amount) from raw.shop_orders") == 100


def test_repeated_header_line_in_the_middle_is_rejected(settings, landing, wh):
    rows = [order_row(i) for i in range(1, 201)]
    content = "\n".join([ORDERS_HEADER, *rows[:100], ORDERS_HEADER, *rows[100:]]) + "\n"
    landing.put("orders", "orders.csv", content)
    [o] = ingest_day(settings, "orders", DAY).outcomes
    assert (o.status, o.rows_in_file, o.rows_loaded, o.rows_rejected) == ("loaded_with_rejects", 201, 200, 1)
    assert wh.rows("select line, rule from raw.rejects") == [(102, "repeated_header")]
    assert wh.one("select max(_source_line) from raw.shop_orders") == 202


def test_file_truncated_mid_row_is_quarantined(settings, landing, wh):
    full = orders_csv(300)
    content = full[: full.rindex("\n", 0, len(full) - 1) + 25].encode()  # cut inside the last row
    path = landing.put("orders", "orders.csv", content)
    with pytest.raises(DataQualityError) as exc:
        ingest_day(settings, "orders", DAY)
    assert_quarantined(settings, wh, path, content, rules=["file_truncated", "truncated_row"], exc=exc.value)
    assert 301 in exc.value.report.lines  # the truncated record's line
    assert exc.value.report.sample_rows[0]["line"] == 301


def test_file_truncated_inside_a_quoted_field_is_quarantined(settings, landing, wh):
    content = (
        orders_csv(50) + 'O99,C1,2025-01-03T10:00:00+00:00,2025-01-03T10:00:00+00:00,paid,USD,"1,2'
    ).encode()
    path = landing.put("orders", "orders.csv", content)
    with pytest.raises(DataQualityError) as exc:
        ingest_day(settings, "orders", DAY)
    assert_quarantined(
        settings, wh, path, content, rules=["file_truncated", "unterminated_quote"], exc=exc.value
    )


def test_duplicate_primary_keys_reject_every_occurrence(settings, landing, wh):
    dup = order_row(7).replace("100.00", "999.00")
    content = orders_csv(300, extra_rows=(dup,))
    landing.put("orders", "orders.csv", content)
    [o] = ingest_day(settings, "orders", DAY).outcomes
    assert (o.status, o.rows_loaded, o.rows_rejected) == ("loaded_with_rejects", 299, 2)
    assert wh.rows("select line, rule, column_name, value from raw.rejects order by line") == [
        (8, "duplicate_key", "order_id", "O7"),
        (302, "duplicate_key", "order_id", "O7"),
    ]
    assert wh.one("select count(*) from raw.shop_orders where order_id = 'O7'") == 0


def test_value_outside_enumeration(settings, landing, wh):
    content = orders_csv(200, extra_rows=(order_row(201, status="lost"),))
    landing.put("orders", "orders.csv", content)
    [o] = ingest_day(settings, "orders", DAY).outcomes
    assert (o.status, o.rows_rejected) == ("loaded_with_rejects", 1)
    assert wh.rows("select line, rule, column_name, value from raw.rejects") == [
        (202, "not_in_enumeration", "status", "lost")
    ]


def test_negative_amount(settings, landing, wh):
    content = orders_csv(200, extra_rows=(order_row(201, gross="-5.00"),))
    landing.put("orders", "orders.csv", content)
    [o] = ingest_day(settings, "orders", DAY).outcomes
    assert o.rows_rejected == 1
    assert wh.rows("select line, rule, column_name, value from raw.rejects") == [
        (202, "negative_amount", "gross_amount", "-5.0000")
    ]


def test_many_bad_rows_quarantine_the_whole_file(settings, landing, wh):
    content = orders_csv(20, extra_rows=(order_row(21, status="lost"), order_row(22, gross="-1")))
    path = landing.put("orders", "orders.csv", content.encode())
    with pytest.raises(DataQualityError) as exc:
        ingest_day(settings, "orders", DAY)
    assert_quarantined(
        settings, wh, path, content.encode(), rules=["reject_threshold", "not_in_enumeration"], exc=exc.value
    )
    report = exc.value.report
    assert (report.kind, report.rows_in_file, report.rows_rejected) == ("reject threshold exceeded", 22, 2)
    assert [r["line"] for r in report.sample_rows] == [22, 23]
    assert "9.09% of rows rejected" in str(exc.value)


def test_clicks_greater_than_impressions(settings, landing, wh):
    rows = [f"2025-01-03,tiktok_ads,c{i},Camp {i},1000,10,5.00,USD" for i in range(1, 200)]
    rows.append("2025-01-03,tiktok_ads,c999,Camp bad,10,11,5.00,USD")
    content = (
        "date,platform,campaign_id,campaign_name,impressions,clicks,spend,currency\n" + "\n".join(rows) + "\n"
    )
    landing.put("channel", "tiktok_ads.csv", content)
    [o] = ingest_day(settings, "channel", DAY).outcomes
    assert (o.status, o.rows_loaded, o.rows_rejected) == ("loaded_with_rejects", 199, 1)
    assert wh.rows("select line, rule, column_name, value from raw.rejects") == [
        (201, "clicks_exceed_impressions", "clicks", "11 > 10")
    ]


def test_rejects_and_loaded_rows_add_up(settings, landing, wh):
    content = orders_csv(
        500, extra_rows=(order_row(501, status="x"), "garbage", order_row(502, gross="abc"), ORDERS_HEADER)
    )
    landing.put("orders", "orders.csv", content)
    [o] = ingest_day(settings, "orders", DAY).outcomes
    assert o.rows_in_file == 504 == o.rows_loaded + o.rows_rejected
    assert wh.count("raw.shop_orders") == 500
    assert wh.rows("select line, rule from raw.rejects order by line") == [
        (502, "not_in_enumeration"),
        (503, "field_count"),
        (504, "unparseable"),
        (505, "repeated_header"),
    ]
