"""Idempotency: identical re-deliveries are no-ops, corrected files replace their day's batch."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal

import pytest

from growthops.errors import DataQualityError
from growthops.ingest.loader import ingest_day

from .conftest import DAY, ORDERS_HEADER, order_row, orders_csv

LEDGER = "select batch_id, status, rows_loaded, rows_rejected, superseded_by from raw.load_ledger order by started_at, batch_id"


def raw_orders(wh):
    return wh.rows(
        "select order_id, status, gross_amount, _batch_id, _batch_day from raw.shop_orders order by 5, 1"
    )


def test_identical_file_redelivered_is_a_no_op(settings, landing, wh):
    content = orders_csv(250, extra_rows=(order_row(251, status="lost"),))
    landing.put("orders", "orders.csv", content)
    first = ingest_day(settings, "orders", DAY).outcomes[0]
    assert first.status == "loaded_with_rejects"
    before = (raw_orders(wh), wh.rows("select * from raw.rejects"), wh.rows("select * from raw.load_ledger"))

    landing.put("orders", "orders.csv", content, age=600)  # re-delivered: same bytes, new mtime
    again = ingest_day(settings, "orders", DAY).outcomes[0]
    assert again.status == "skipped" and again.batch_id == first.batch_id
    assert "identical to batch" in again.message
    after = (raw_orders(wh), wh.rows("select * from raw.rejects"), wh.rows("select * from raw.load_ledger"))
    assert after == before
    assert len(before[0]) == 250 and len(before[1]) == 1 and len(before[2]) == 1


def test_corrected_file_for_a_past_day_replaces_that_days_batch(settings, landing, wh):
    day1, day2 = DAY, DAY + timedelta(days=1)
    landing.put(
        "orders", "orders.csv", orders_csv(200, extra_rows=(order_row(201, status="lost"),)), day=day1
    )
    landing.put("orders", "orders.csv", orders_csv(3, day=day2), day=day2)
    old = ingest_day(settings, "orders", day1).outcomes[0]
    other = ingest_day(settings, "orders", day2).outcomes[0]
    day2_rows = wh.rows("select * exclude (_loaded_at) from raw.shop_orders where _batch_day = ?", [day2])

    corrected = orders_csv(150, extra_rows=(order_row(201, status="refunded"),))
    landing.put("orders", "orders.csv", corrected, day=day1)
    new = ingest_day(settings, "orders", day1).outcomes[0]
    assert new.status == "loaded" and new.batch_id != old.batch_id

    rows = wh.rows("select order_id, _batch_id from raw.shop_orders where _batch_day = ?", [day1])
    assert len(rows) == 151 and {b for _, b in rows} == {new.batch_id}  # no duplicates, no leftovers
    assert (
        wh.one("select count(*) from raw.shop_orders where order_id = 'O199' and _batch_day = ?", [day1]) == 0
    )
    assert wh.count("raw.rejects") == 0  # the old batch's reject went with it
    assert wh.rows(LEDGER) == [
        (old.batch_id, "loaded_with_rejects", 200, 1, new.batch_id),
        (other.batch_id, "loaded", 3, 0, None),
        (new.batch_id, "loaded", 151, 0, None),
    ]
    assert (
        wh.rows("select * exclude (_loaded_at) from raw.shop_orders where _batch_day = ?", [day2])
        == day2_rows
    )


def test_quarantined_file_then_corrected_file_reprocesses(settings, landing, wh):
    bad = orders_csv(10, extra_rows=(order_row(11, status="lost"),)).encode()
    landing.put("orders", "orders.csv", bad)
    with pytest.raises(DataQualityError):
        ingest_day(settings, "orders", DAY)
    [(q_batch, q_status, *_)] = wh.rows(LEDGER)
    assert q_status == "quarantined"

    # the same bad file dropped again is judged again (a quarantined sha is never "done")
    landing.put("orders", "orders.csv", bad)
    with pytest.raises(DataQualityError):
        ingest_day(settings, "orders", DAY)
    assert wh.rows("select count(*), min(status) from raw.load_ledger") == [(1, "quarantined")]

    landing.put("orders", "orders.csv", orders_csv(11))
    fixed = ingest_day(settings, "orders", DAY).outcomes[0]
    assert (fixed.status, fixed.rows_loaded) == ("loaded", 11)
    assert wh.count("raw.shop_orders") == 11
    assert wh.rows(LEDGER) == [
        (q_batch, "quarantined", 0, 1, fixed.batch_id),
        (fixed.batch_id, "loaded", 11, 0, None),
    ]
    assert (settings.quarantine_dir / "orders" / DAY.isoformat() / "orders.csv").read_bytes() == bad


def test_a_bad_correction_leaves_the_good_batch_loaded(settings, landing, wh):
    landing.put("orders", "orders.csv", orders_csv(5))
    good = ingest_day(settings, "orders", DAY).outcomes[0]
    landing.put("orders", "orders.csv", orders_csv(5).replace("gross_amount", "gross"))
    with pytest.raises(DataQualityError):
        ingest_day(settings, "orders", DAY)
    assert wh.rows("select distinct _batch_id from raw.shop_orders") == [(good.batch_id,)]
    assert wh.count("raw.shop_orders") == 5
    assert wh.one("select superseded_by from raw.load_ledger where batch_id = ?", [good.batch_id]) is None


def test_order_status_change_arriving_on_a_later_day(settings, landing, wh):
    day2 = DAY + timedelta(days=1)
    landing.put("orders", "orders.csv", orders_csv(2))
    changed = order_row(1, status="refunded", day=day2).replace(
        f"O1,C1,{day2}T10:01:00+00:00", f"O1,C1,{DAY}T10:01:00+00:00"
    )
    landing.put("orders", "orders.csv", f"{ORDERS_HEADER}\n{changed}\n", day=day2)
    ingest_day(settings, "orders", DAY)
    ingest_day(settings, "orders", day2)
    assert wh.rows(
        "select order_id, status, _batch_day, created_at < updated_at from raw.shop_orders order by 3, 1"
    ) == [
        ("O1", "paid", DAY, False),
        ("O2", "paid", DAY, False),
        ("O1", "refunded", day2, True),
    ]
    assert wh.rows("select status, superseded_by from raw.load_ledger order by day") == [
        ("loaded", None),
        ("loaded", None),
    ]


def test_corrected_file_in_another_format_replaces_the_export(settings, landing, wh):
    csv_path = landing.put("orders", "orders.csv", orders_csv(4))
    old = ingest_day(settings, "orders", DAY).outcomes[0]
    csv_path.unlink()
    jsonl = "\n".join(
        f'{{"order_id": "O{i}", "contact_id": "C1", "created_at": "2025-01-03T09:00:00Z", '
        '"updated_at": "2025-01-03T09:00:00Z", "status": "paid", "currency": "EUR", '
        '"gross_amount": 5, "discount_amount": 0, "refund_amount": 0}'
        for i in range(1, 3)
    )
    landing.put("orders", "orders.jsonl", jsonl + "\n")
    new = ingest_day(settings, "orders", DAY).outcomes[0]
    assert wh.rows("select order_id, currency, _batch_id from raw.shop_orders order by 1") == [
        ("O1", "EUR", new.batch_id),
        ("O2", "EUR", new.batch_id),
    ]
    assert (
        wh.one("select superseded_by from raw.load_ledger where batch_id = ?", [old.batch_id]) == new.batch_id
    )


def test_two_files_for_the_same_export_and_day_are_refused(settings, landing, wh):
    a = landing.put("orders", "orders.csv", orders_csv(2))
    b = landing.put("orders", "orders.jsonl", '{"order_id": "O1"}\n')
    with pytest.raises(DataQualityError) as exc:
        ingest_day(settings, "orders", DAY)
    assert "ambiguous_export" in str(exc.value)
    assert a.exists() and b.exists()  # nothing moved: an operator decides
    assert wh.count("raw.shop_orders") == 0
    assert wh.rows("select file_name, status from raw.load_ledger order by 1") == [
        ("orders.csv", "failed"),
        ("orders.jsonl", "failed"),
    ]


def test_restated_channel_day_replaces_only_that_platform(settings, landing, wh):
    google = (
        "Day,Campaign ID,Campaign,Impr.,Clicks,Cost,Currency code\n2025-01-03,g1,Brand,1000,10,5.00,USD\n"
    )
    meta = (
        "Reporting starts,Campaign ID,Campaign name,Impressions,Link clicks,Amount spent,Currency\n"
        "2025-01-03,m1,Prospecting,2000,20,7.50,USD\n"
    )
    landing.put("channel", "google_ads.csv", google)
    landing.put("channel", "meta_ads.csv", meta)
    ingest_day(settings, "channel", DAY)
    landing.put("channel", "google_ads.csv", google.replace("5.00", "6.25"))
    outcomes = {o.source_file: o.status for o in ingest_day(settings, "channel", DAY).outcomes}
    assert outcomes == {
        "channel/2025-01-03/google_ads.csv": "loaded",
        "channel/2025-01-03/meta_ads.csv": "skipped",
    }
    assert wh.rows("select platform, campaign_id, spend from raw.channel_performance order by 1") == [
        ("google_ads", "g1", Decimal("6.25")),
        ("meta_ads", "m1", Decimal("7.5")),
    ]


def test_rows_in_file_equals_loaded_plus_rejected_for_every_batch(settings, landing, wh):
    for k in range(3):
        day = DAY + timedelta(days=k)
        extra = tuple(order_row(900 + j, status="x", day=day) for j in range(k))
        landing.put("orders", "orders.csv", orders_csv(300, day=day, extra_rows=extra), day=day)
        ingest_day(settings, "orders", day)
    assert wh.rows(
        """
        select l.day, l.rows_in_file, count(distinct o._source_line), count(distinct r.line)
        from raw.load_ledger l
        left join raw.shop_orders o on o._batch_id = l.batch_id
        left join raw.rejects r on r.batch_id = l.batch_id
        group by all order by 1
        """
    ) == [(date(2025, 1, 3), 300, 300, 0), (date(2025, 1, 4), 301, 300, 1), (date(2025, 1, 5), 302, 300, 2)]


def test_a_second_bad_version_never_overwrites_the_first_in_quarantine(settings, landing, wh):
    first = orders_csv(3).replace("gross_amount", "gross").encode()
    second = orders_csv(4).replace("status", "state").encode()
    for content in (first, second):
        landing.put("orders", "orders.csv", content)
        with pytest.raises(DataQualityError):
            ingest_day(settings, "orders", DAY)
    folder = settings.quarantine_dir / "orders" / DAY.isoformat()
    sha2 = hashlib.sha256(second).hexdigest()
    assert (folder / "orders.csv").read_bytes() == first
    assert (folder / f"orders@{sha2[:12]}.csv").read_bytes() == second
    assert (folder / f"orders@{sha2[:12]}.csv.report.md").exists()
    assert wh.rows("select status, quarantine_path like '%@%' from raw.load_ledger order by started_at") == [
        ("quarantined", False),
        ("quarantined", True),
    ]
