"""A real PostgreSQL server on loopback for tests: ``initdb`` + ``pg_ctl`` in a temporary folder.

PostgreSQL refuses to run as root, so under root the cluster is created and run as the
unprivileged ``nobody`` user (``runuser``), in a fresh folder owned by it. The server listens on
127.0.0.1 on a free port with trust authentication and its unix socket in the same temporary
folder; durability is switched off (fsync, synchronous_commit) because the data is thrown away.

Use it through the fixtures of ``tests/deploy/conftest.py`` (``postgres_server``,
``airflow_on_postgres``), or directly::

    server = PostgresServer.start()          # raises PostgresUnavailable with the reason
    dsn = server.dsn(server.create_database("growthops"))
    env = airflow_env(server, "airflow", airflow_home=..., data_dir=...)
    server.stop()
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SUPERUSER = "postgres"
UNPRIVILEGED_USER = "nobody"
MIN_MAJOR_VERSION = 15


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be started here; the message says why (tests skip with it)."""


def find_pg_bin() -> Path:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres`` (PATH first, then Debian's)."""
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += debian
    for folder in candidates:
        if all((folder / tool).exists() for tool in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH or in "
        "/usr/lib/postgresql/*/bin: install Debian's postgresql package"
    )


def server_major_version(pg_bin: Path) -> int:
    out = subprocess.run(
        [str(pg_bin / "postgres"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    if not match:
        raise PostgresUnavailable(f"cannot read the PostgreSQL version from {out!r}")
    return int(match.group(1))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    """A running throw-away cluster. ``stop()`` shuts it down and deletes its folder."""

    pg_bin: Path
    base_dir: Path
    port: int
    run_as: str | None  # the OS user running postgres when we are root, else None
    version: int
    host: str = "127.0.0.1"
    user: str = SUPERUSER
    _databases: list[str] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "socket"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgres.log"

    # ----------------------------------------------------------------- lifecycle
    @classmethod
    def start(cls, *, attempts: int = 3, timeout: int = 60) -> PostgresServer:
        pg_bin = find_pg_bin()
        version = server_major_version(pg_bin)
        if version < MIN_MAJOR_VERSION:
            raise PostgresUnavailable(
                f"PostgreSQL {version} found in {pg_bin}; growthops needs {MIN_MAJOR_VERSION}+"
            )
        run_as = None
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                raise PostgresUnavailable("running as root and runuser is missing: cannot drop to a user")
            try:
                pwd.getpwnam(UNPRIVILEGED_USER)
            except KeyError as exc:
                raise PostgresUnavailable(
                    f"running as root and there is no {UNPRIVILEGED_USER!r} user"
                ) from exc
            run_as = UNPRIVILEGED_USER
        # Not under pytest's tmp_path: its parents are private to root, and `nobody` must reach it.
        base_dir = Path(tempfile.mkdtemp(prefix="growthops-pg-"))
        try:
            (base_dir / "socket").mkdir()
            if run_as:
                entry = pwd.getpwnam(run_as)
                for path in (base_dir, base_dir / "socket"):
                    os.chown(path, entry.pw_uid, entry.pw_gid)
            server = cls(pg_bin=pg_bin, base_dir=base_dir, port=0, run_as=run_as, version=version)
            server._initdb()
            last_error = ""
            for _ in range(attempts):  # a free port can be taken between probing and binding
                server.port = free_port()
                result = server._pg_ctl(
                    "start", "-w", "-t", str(timeout), "-l", str(server.log_file), "-o", server._options()
                )
                if result.returncode == 0:
                    return server
                last_error = result.stdout + result.stderr + server._log_tail()
            raise PostgresUnavailable(f"pg_ctl start failed: {last_error.strip()[-2000:]}")
        except BaseException:
            shutil.rmtree(base_dir, ignore_errors=True)
            raise

    def stop(self) -> None:
        if self.data_dir.exists():
            self._pg_ctl("stop", "-w", "-m", "fast")
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def _as_user(self, cmd: list[str]) -> list[str]:
        return ["runuser", "-u", self.run_as, "--", *cmd] if self.run_as else cmd

    def _run(self, cmd: list[str]) -> subprocess.CompletedProcess[str]:
        # cwd the cluster folder: `nobody` may not be allowed to read the caller's cwd.
        return subprocess.run(
            self._as_user(cmd), capture_output=True, text=True, check=False, cwd=self.base_dir
        )

    def _initdb(self) -> None:
        result = self._run(
            [
                str(self.pg_bin / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                self.user,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ]
        )
        if result.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {(result.stdout + result.stderr).strip()[-2000:]}")

    def _options(self) -> str:
        return " ".join(
            [
                f"-p {self.port}",
                f"-h {self.host}",
                f"-k {self.socket_dir}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=100",
            ]
        )

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run([str(self.pg_bin / "pg_ctl"), "-D", str(self.data_dir), *args])

    def _log_tail(self) -> str:
        try:
            return "\n" + "\n".join(self.log_file.read_text().splitlines()[-20:])
        except OSError:
            return ""

    # ----------------------------------------------------------------- addresses
    def dsn(self, database: str = "postgres") -> str:
        """libpq URL (psycopg2, psql, dbt's own tools)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def sqlalchemy_url(self, database: str) -> str:
        """SQLAlchemy URL, as Airflow's ``[database] sql_alchemy_conn`` takes it."""
        return f"postgresql+psycopg2://{self.user}@{self.host}:{self.port}/{database}"

    # ----------------------------------------------------------------- SQL
    def connect(self, database: str = "postgres"):
        import psycopg2

        con = psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname=database)
        con.autocommit = True
        return con

    def query(self, sql: str, params: tuple = (), database: str = "postgres") -> list[tuple]:
        with contextlib.closing(self.connect(database)) as con, con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def create_database(self, name: str) -> str:
        """Create a fresh, empty database (dropping one of the same name) and return its name."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"database name {name!r}: use lower-case letters, digits and _")
        with contextlib.closing(self.connect()) as con, con.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"')
        self._databases.append(name)
        return name


def airflow_env(
    server: PostgresServer,
    database: str,
    *,
    airflow_home: Path,
    data_dir: Path,
    base: dict[str, str] | None = None,
    **overrides: str,
) -> dict[str, str]:
    """Environment for an ``airflow`` subprocess whose metadata DB is ``database`` on ``server``.

    Mirrors the Makefile's exports (DAGs and plugins of this repository, examples off, this
    virtual environment first on PATH), with the growthops data root at ``data_dir``.
    """
    env = dict(os.environ if base is None else base)
    venv_bin = str(Path(sys.executable).parent)
    env.update(
        {
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": server.sqlalchemy_url(database),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
            "GROWTHOPS_DATA_DIR": str(data_dir),
            "GX_ANALYTICS_ENABLED": "False",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "PYTHONPATH": str(REPO_ROOT / "plugins"),
            "PATH": venv_bin + os.pathsep + env.get("PATH", ""),
        }
    )
    env.pop("AIRFLOW_CONFIG", None)
    env.update(overrides)
    return env


def dbt_postgres_env(server: PostgresServer, database: str, **overrides: str) -> dict[str, str]:
    """Variables selecting the ``postgres`` target of ``dbt_project/profiles.yml`` on ``server``."""
    env = {
        "GROWTHOPS_WAREHOUSE_TARGET": "postgres",
        "GROWTHOPS_PG_HOST": server.host,
        "GROWTHOPS_PG_PORT": str(server.port),
        "GROWTHOPS_PG_USER": server.user,
        "GROWTHOPS_PG_PASSWORD": "",
        "GROWTHOPS_PG_DBNAME": database,
    }
    env.update(overrides)
    return env
