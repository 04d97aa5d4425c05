"""Landing on object storage: ingest from ``s3://`` against an S3 server started here on loopback.

moto's server mode (``ThreadedMotoServer``) is a real HTTP endpoint: s3fs talks to it exactly as it
talks to S3 or MinIO (signed requests, listings, ranged reads), so discovery, hashing, reading,
quarantine and replay go through the same code and network path as in a deployment.
"""

from __future__ import annotations

import hashlib
import json
import socket
from datetime import date
from pathlib import Path

import pytest

from growthops.config import Settings, load_settings
from growthops.errors import TransientError
from growthops.failures import transient_types
from growthops.ingest.landing import scan_day
from growthops.ingest.loader import load_range
from growthops.warehouse import connect

moto_server = pytest.importorskip("moto.server")
s3fs = pytest.importorskip("s3fs")

START, END = date(2025, 1, 1), date(2025, 1, 3)
SOURCES = ("orders", "channel")
BAD_DAY = date(2025, 1, 4)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def endpoint():
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    """Credentials come from the environment, as in a deployment (moto accepts any)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def bucket(endpoint, request):
    """A bucket of its own per test, and an s3fs client to arrange and inspect it."""
    fs = s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True)
    name = "landing-" + request.node.name.replace("_", "-")[:40].strip("-").lower()
    fs.mkdir(name)
    return name, fs


def make_settings(tmp: Path, landing: str, storage_options: dict | None = None) -> Settings:
    env = {
        "GROWTHOPS_DATA_DIR": str(tmp),
        "GROWTHOPS_LANDING_DIR": landing,
        "GROWTHOPS_INGEST_SETTLE_SECONDS": "0",
        "GROWTHOPS_LANDING_STORAGE_OPTIONS": json.dumps(storage_options or {}),
    }
    return load_settings(env)


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    """Three days of generated exports (the project's generator), in a local folder."""
    from growthops.generate import generate

    landing = tmp_path_factory.mktemp("generated") / "landing"
    generate(landing, START, END, scale=0.02)
    return landing


def upload(fs, local_root: Path, url: str) -> None:
    for path in sorted(local_root.rglob("*.*")):
        if path.parent != local_root:  # the day folders, not the generator's summary
            fs.pipe(
                f"{url.removeprefix('s3://')}/{path.relative_to(local_root).as_posix()}", path.read_bytes()
            )


def raw_rows(settings: Settings, source: str, landing_prefix: str = "") -> list[tuple]:
    """Every raw row of ``source`` with its lineage, the landing prefix of ``_source_file`` removed;
    ``_loaded_at`` (the load's clock) is left out."""
    from growthops.contracts import CONTRACTS

    table = CONTRACTS[source].raw_table
    con = connect(settings.warehouse_path, read_only=True)
    try:
        cols = [r[0] for r in con.execute(f"describe {table}").fetchall() if r[0] != "_loaded_at"]
        select = ", ".join(
            "replace(_source_file, ?, '') as _source_file" if c == "_source_file" else f'"{c}"' for c in cols
        )
        return con.execute(f"select {select} from {table} order by all", [landing_prefix]).fetchall()
    finally:
        con.close()


def ledger(settings: Settings) -> list[tuple]:
    con = connect(settings.warehouse_path, read_only=True)
    try:
        return con.execute(
            "select source_file, sha256, file_bytes, status, rows_loaded, quarantine_path "
            "from raw.load_ledger order by source_file"
        ).fetchall()
    finally:
        con.close()


def digest(rows: list[tuple]) -> str:
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_s3_landing_loads_exactly_what_the_local_landing_loads(
    tmp_path, exports, endpoint, bucket, monkeypatch
):
    from growthops.commands.cli import main

    name, fs = bucket
    url = f"s3://{name}/exports/landing"
    upload(fs, exports, url)
    local = make_settings(tmp_path / "local", str(exports))
    remote = make_settings(tmp_path / "remote", url, {"endpoint_url": endpoint})
    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path / "remote"))  # `growthops ingest` reads the env
    monkeypatch.setenv("GROWTHOPS_LANDING_DIR", url)
    monkeypatch.setenv("GROWTHOPS_LANDING_STORAGE_OPTIONS", json.dumps({"endpoint_url": endpoint}))
    monkeypatch.setenv("GROWTHOPS_INGEST_SETTLE_SECONDS", "0")

    for source in SOURCES:
        local_result = load_range(local, source, START, END)
        assert local_result.ok and local_result.count("loaded") == len(local_result.outcomes)
        assert (
            main(["ingest", "--source", source, "--start", START.isoformat(), "--end", END.isoformat()]) == 0
        )
        local_rows = raw_rows(local, source)
        remote_rows = raw_rows(remote, source, landing_prefix=f"{url}/")
        assert len(remote_rows) == len(local_rows) == local_result.rows_loaded > 0
        assert digest(remote_rows) == digest(local_rows)

    # the ledger names each object by its URL; sha256 and size are those of the local bytes
    remote_ledger = ledger(remote)
    assert [r[0] for r in remote_ledger] == [f"{url}/{r[0]}" for r in ledger(local)]
    for source_file, sha, nbytes, status, _rows, _q in remote_ledger:
        local_bytes = (exports / source_file.removeprefix(f"{url}/")).read_bytes()
        assert (sha, nbytes, status) == (hashlib.sha256(local_bytes).hexdigest(), len(local_bytes), "loaded")
    assert len(remote_ledger) == 3 + 3 * 3  # orders: one file a day; channel: three platforms a day

    # loaded exports stay in landing; the batch's local copies are gone
    assert len(fs.find(f"{name}/exports/landing/orders")) == 3
    assert list(remote.landing_staging_dir.iterdir()) == []

    # a re-run is a no-op (identical batches), and a file that arrives later is seen (fresh listing)
    assert load_range(remote, "orders", START, END).count("skipped") == 3
    fs.pipe(
        f"{name}/exports/landing/orders/2025-01-05/orders.csv",
        (exports / "orders/2025-01-03/orders.csv").read_bytes(),
    )
    ready, pending = scan_day(remote, "orders", date(2025, 1, 5))
    assert [f.rel_path for f in ready] == [f"{url}/orders/2025-01-05/orders.csv"] and pending == []


def test_bad_file_on_s3_is_quarantined_byte_identical_and_replayed_back(tmp_path, endpoint, bucket):
    from airflow.sdk.exceptions import AirflowFailException

    from growthops.commands.replay import restore_from_quarantine
    from growthops.orchestration.ingest_tasks import load

    from .conftest import ORDERS_HEADER, order_row

    name, fs = bucket
    url = f"s3://{name}/landing"
    key = f"{name}/landing/orders/{BAD_DAY}/orders.csv"
    # line 4 has an unquoted 1,234.50: one field too many; 1 bad row in 3 is above the 1 % threshold
    bad = (
        "\n".join(
            [
                ORDERS_HEADER,
                order_row(1, day=BAD_DAY),
                order_row(2, day=BAD_DAY),
                order_row(3, day=BAD_DAY).replace("100.00", "1,234.50"),
            ]
        ).encode()
        + b"\n"
    )
    fs.pipe(key, bad)
    settings = make_settings(tmp_path / "data", url, {"endpoint_url": endpoint})

    with pytest.raises(AirflowFailException) as exc:  # the daily DAG's load task: no retry
        load("orders", BAD_DAY, settings=settings)
    file_url = f"{url}/orders/{BAD_DAY}/orders.csv"
    assert file_url in str(exc.value)

    quarantined = settings.quarantine_dir / "orders" / BAD_DAY.isoformat() / "orders.csv"
    assert not fs.exists(key)  # moved out of landing, not copied
    assert quarantined.read_bytes() == bad
    report = json.loads(quarantined.with_name("orders.csv.report.json").read_text())
    assert report["source_file"] == file_url
    assert [row["line"] for row in report["sample_rows"]] == [4]
    assert quarantined.with_name("orders.csv.report.md").read_text().startswith(f"# Quarantined: {file_url}")
    assert ledger(settings) == [
        (file_url, hashlib.sha256(bad).hexdigest(), len(bad), "quarantined", 0, str(quarantined))
    ]

    # replay --from-quarantine puts the (corrected) file back on the bucket, byte-identical
    fixed = bad.replace(b"1,234.50", b'"1,234.50"')
    quarantined.write_bytes(fixed)
    restored = restore_from_quarantine(settings, "orders", BAD_DAY, progress=lambda _m: None)
    assert [str(p) for p in restored] == [file_url]
    assert fs.cat(key) == fixed and not quarantined.exists()
    summary = load("orders", BAD_DAY, settings=settings)
    assert (summary["rows_loaded"], summary["rows_rejected"]) == (3, 0)


def test_unreachable_endpoint_is_a_transient_failure_not_a_data_failure(tmp_path):
    from growthops.orchestration.ingest_tasks import load

    closed = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    options = {
        "endpoint_url": closed,
        "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 1},
    }
    settings = make_settings(tmp_path / "data", "s3://nowhere/landing", options)

    with pytest.raises(TransientError, match="landing unreachable") as exc:  # Airflow retries it
        load("orders", BAD_DAY, settings=settings)
    assert isinstance(exc.value, transient_types())
    assert not settings.quarantine_dir.exists() and not settings.warehouse_path.exists()


def test_a_move_that_does_not_copy_the_exact_bytes_leaves_the_source_in_place(tmp_path):
    """Quarantine between a bucket and the disk: copy, verify the sha256, and only then delete."""
    from upath import UPath

    from growthops.ingest.storage import move

    data = b"order_id\nO1\n"
    src = UPath("memory://landing-move/orders/2025-01-04/orders.csv")
    src.write_bytes(data)
    dst = tmp_path / "quarantine" / "orders.csv"

    with pytest.raises(OSError, match="not byte-identical"):
        move(src, dst, hashlib.sha256(b"other bytes").hexdigest())
    assert src.read_bytes() == data and not dst.exists() and list(dst.parent.iterdir()) == []

    move(src, dst, hashlib.sha256(data).hexdigest())
    assert dst.read_bytes() == data and not src.exists()
    back = UPath("memory://landing-move/orders/2025-01-04/orders.csv")  # replay: disk -> bucket
    move(dst, back, hashlib.sha256(data).hexdigest())
    assert back.read_bytes() == data and not dst.exists()
