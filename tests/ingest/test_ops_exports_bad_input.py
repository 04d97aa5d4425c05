"""Bad input in the two operations exports (SPEC §11): messages/<day>/sends.csv and costs/<day>/costs.csv.

Same guarantees as the other sources: a bad row is a reject with its rule, column and physical line;
a file over the source's reject threshold (messages 1 %, costs 0: any bad cost row) is quarantined
byte-identical with nothing loaded; rows in a loaded file = loaded + rejected. A message to a contact
unknown to the CRM is not a bad row: it is loaded.
"""

from __future__ import annotations

from datetime import date

import pytest

from growthops.errors import DataQualityError
from growthops.ingest.loader import ingest_day, load_range

from .conftest import CRM_HEADER, DAY

MESSAGES_HEADER = (
    "message_id,contact_id,campaign_id,campaign_name,channel,purpose,sent_at,is_holdout,cost,currency"
)
COSTS_HEADER = "date,channel,campaign,cost_type,purpose,amount,currency"


@pytest.fixture(autouse=True)
def _no_settle(monkeypatch):
    monkeypatch.setenv("GROWTHOPS_INGEST_SETTLE_SECONDS", "0")


def message_row(
    i: int, *, contact: str = "C1", purpose: str = "recall", cost: str = "0.0100", holdout: str = "false"
) -> str:
    return (
        f"M{i},{contact},RC-1,Recall January,email,{purpose},{DAY.isoformat()}T09:{i % 60:02d}:00+00:00,"
        f"{holdout},{cost},USD"
    )


def messages_csv(n: int, *, extra_rows: tuple[str, ...] = ()) -> str:
    rows = [message_row(i, contact=f"C{i}") for i in range(1, n + 1)]
    return "\n".join([MESSAGES_HEADER, *rows, *extra_rows]) + "\n"


def cost_row(
    campaign: str, *, purpose: str = "retention", amount: str = "10.00", cost_type: str = "tool"
) -> str:
    return f"{DAY.isoformat()},email,{campaign},{cost_type},{purpose},{amount},USD"


def costs_csv(*rows: str) -> str:
    return "\n".join([COSTS_HEADER, *rows]) + "\n"


def rejects(wh) -> list[tuple]:
    return wh.rows("select line, rule, column_name, value from raw.rejects order by line")


FILES = {"messages": ("sends.csv", "raw.messages_sends"), "costs": ("costs.csv", "raw.costs_daily")}


def quarantined(settings, landing, wh, source: str, content: bytes) -> DataQualityError:
    """Deliver ``content``; the load refuses it and nothing is lost: the file sits byte-identical in
    quarantine, the ledger says so, raw is untouched. Returns the refusal."""
    name, raw_table = FILES[source]
    landed = landing.put(source, name, content)
    with pytest.raises(DataQualityError) as exc:
        ingest_day(settings, source, DAY)
    q = settings.quarantine_dir / source / DAY.isoformat() / name
    assert not landed.exists()
    assert q.read_bytes() == content
    assert q.with_name(name + ".report.json").exists()
    assert wh.rows("select status, quarantine_path from raw.load_ledger") == [("quarantined", str(q))]
    assert wh.count(raw_table) == 0
    assert wh.count("raw.rejects") == 0
    return exc.value


def _without_column(header: str, rows: list[str], column: str) -> bytes:
    """The file with ``column`` dropped from the header and every row."""
    k = header.split(",").index(column)
    lines = [",".join(p for i, p in enumerate(line.split(",")) if i != k) for line in [header, *rows]]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(
    ("source", "content", "missing"),
    [
        (
            "messages",
            _without_column(MESSAGES_HEADER, [message_row(i) for i in range(1, 4)], "is_holdout"),
            "is_holdout",
        ),
        ("costs", _without_column(COSTS_HEADER, [cost_row("recall january")], "amount"), "amount"),
    ],
)
def test_missing_required_column_quarantines_the_file(settings, landing, wh, source, content, missing):
    error = quarantined(settings, landing, wh, source, content)
    assert error.report.kind == "contract mismatch"
    assert [c.rule for c in error.report.checks] == ["missing_required_columns"]
    assert error.report.checks[0].observed == [missing]
    assert f"{source} 2025-01-03" in str(error) and "missing_required_columns" in str(error)


# --- messages -----------------------------------------------------------------------------------


def test_messages_purpose_outside_enumeration_is_a_reject(settings, landing, wh):
    landing.put("messages", "sends.csv", messages_csv(200, extra_rows=(message_row(201, purpose="winback"),)))
    [o] = ingest_day(settings, "messages", DAY).outcomes
    assert (o.status, o.rows_in_file, o.rows_loaded, o.rows_rejected) == ("loaded_with_rejects", 201, 200, 1)
    assert rejects(wh) == [(202, "not_in_enumeration", "purpose", "winback")]
    assert wh.count("raw.messages_sends") == 200


def test_messages_negative_cost_is_a_reject(settings, landing, wh):
    landing.put("messages", "sends.csv", messages_csv(200, extra_rows=(message_row(201, cost="-0.5000"),)))
    [o] = ingest_day(settings, "messages", DAY).outcomes
    assert (o.status, o.rows_in_file, o.rows_loaded, o.rows_rejected) == ("loaded_with_rejects", 201, 200, 1)
    assert rejects(wh) == [(202, "negative_amount", "cost", "-0.5000")]


def test_messages_duplicate_message_id_within_a_file_rejects_every_occurrence(settings, landing, wh):
    dup = message_row(7, contact="C999", cost="0.0200")
    landing.put("messages", "sends.csv", messages_csv(300, extra_rows=(dup,)))
    [o] = ingest_day(settings, "messages", DAY).outcomes
    assert (o.status, o.rows_in_file, o.rows_loaded, o.rows_rejected) == ("loaded_with_rejects", 301, 299, 2)
    assert rejects(wh) == [
        (8, "duplicate_key", "message_id", "M7"),
        (302, "duplicate_key", "message_id", "M7"),
    ]
    assert wh.one("select count(*) from raw.messages_sends where message_id = 'M7'") == 0


def test_messages_to_contacts_unknown_to_the_crm_are_loaded(settings, landing, wh):
    ts = f"{DAY.isoformat()}T08:00:00+00:00"
    landing.put(
        "crm", "contacts.csv", f"{CRM_HEADER}\nC1,a@example.com,{ts},{ts},customer,google,cpc,brand,US\n"
    )
    ingest_day(settings, "crm", DAY)
    content = "\n".join([MESSAGES_HEADER, message_row(1, contact="C1"), message_row(2, contact="NOT-IN-CRM")])
    landing.put("messages", "sends.csv", content + "\n")
    [o] = ingest_day(settings, "messages", DAY).outcomes
    assert (o.status, o.rows_in_file, o.rows_loaded, o.rows_rejected) == ("loaded", 2, 2, 0)
    assert wh.rows(
        "select message_id, contact_id, _source_line from raw.messages_sends order by message_id"
    ) == [
        ("M1", "C1", 2),
        ("M2", "NOT-IN-CRM", 3),
    ]
    assert wh.count("raw.rejects") == 0


def test_messages_over_the_reject_threshold_quarantine_the_file(settings, landing, wh):
    # 2 bad rows of 22 (9.09 %) > 1 %: the whole file is quarantined, nothing loaded, nothing lost
    content = messages_csv(
        20, extra_rows=(message_row(21, purpose="winback"), message_row(22, cost="-1"))
    ).encode()
    error = quarantined(settings, landing, wh, "messages", content)
    report = error.report
    assert (report.kind, report.rows_in_file, report.rows_rejected) == ("reject threshold exceeded", 22, 2)
    assert [(r["line"], r["rule"]) for r in report.sample_rows] == [
        (22, "not_in_enumeration"),
        (23, "negative_amount"),
    ]
    assert "9.09% of rows rejected" in str(error)
    assert wh.rows("select rows_in_file, rows_loaded from raw.load_ledger") == [(22, 0)]


def test_messages_rows_in_file_equal_loaded_plus_rejected_over_a_range(settings, landing, wh):
    day2 = date(2025, 1, 4)
    landing.put("messages", "sends.csv", messages_csv(200, extra_rows=(message_row(201, purpose="winback"),)))
    rows2 = [message_row(i, contact=f"D{i}").replace("2025-01-03T", "2025-01-04T") for i in range(301, 401)]
    landing.put("messages", "sends.csv", "\n".join([MESSAGES_HEADER, *rows2]) + "\n", day=day2)
    result = load_range(settings, "messages", DAY, day2)
    outcomes = sorted(result.outcomes, key=lambda o: o.rows_in_file)
    assert [(o.status, o.rows_in_file, o.rows_loaded, o.rows_rejected) for o in outcomes] == [
        ("loaded", 100, 100, 0),
        ("loaded_with_rejects", 201, 200, 1),
    ]
    in_files = sum(o.rows_in_file for o in outcomes)
    assert in_files == 301 == wh.count("raw.messages_sends") + wh.count("raw.rejects")


# --- costs (reject threshold 0: any bad row quarantines the file) --------------------------------


@pytest.mark.parametrize(
    ("bad_row", "rule"),
    [
        (cost_row("(none)", purpose="winback"), "not_in_enumeration"),
        (cost_row("spring", amount="-3.00", purpose="acquisition"), "negative_amount"),
    ],
    ids=["purpose_winback", "negative_amount"],
)
def test_costs_one_bad_row_quarantines_the_file(settings, landing, wh, bad_row, rule):
    error = quarantined(
        settings, landing, wh, "costs", costs_csv(cost_row("recall january"), bad_row).encode()
    )
    report = error.report
    assert (report.kind, report.rows_in_file, report.rows_rejected) == ("reject threshold exceeded", 2, 1)
    assert [(r["line"], r["rule"]) for r in report.sample_rows] == [(3, rule)]
    assert rule in str(error) and "costs/2025-01-03/costs.csv" in str(error)


def test_costs_good_file_loads_every_row(settings, landing, wh):
    landing.put(
        "costs", "costs.csv", costs_csv(cost_row("recall january"), cost_row("spring", purpose="acquisition"))
    )
    [o] = ingest_day(settings, "costs", DAY).outcomes
    assert (o.status, o.rows_in_file, o.rows_loaded, o.rows_rejected) == ("loaded", 2, 2, 0)
    assert wh.rows("select campaign, purpose, _source_line from raw.costs_daily order by _source_line") == [
        ("recall january", "retention", 2),
        ("spring", "acquisition", 3),
    ]
