"""One configuration file (``config/growthops.toml``) with ``GROWTHOPS_*`` environment overrides.

Every key is overridable: the variable name is ``GROWTHOPS_`` followed by the key path in upper
case joined by ``_`` (``[sources.orders] timezone`` -> ``GROWTHOPS_SOURCES_ORDERS_TIMEZONE``).
``GROWTHOPS_DATA_DIR`` is the data root; ``GROWTHOPS_CONFIG`` points at another config file.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from growthops.sources import SOURCE_NAMES as SOURCES  # declared once, in load order

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_FILE = REPO_ROOT / "config" / "growthops.toml"

if TYPE_CHECKING:
    from upath import UPath


def _coerce(raw: str, like: Any) -> Any:
    if isinstance(like, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(like, int):
        return int(raw)
    if isinstance(like, float):
        return float(raw)
    return raw


def _apply_env(tree: dict[str, Any], env: dict[str, str], prefix: str = "GROWTHOPS") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}_{key.upper()}"
        if isinstance(value, dict):
            out[key] = _apply_env(value, env, name)
        elif name in env:
            out[key] = _coerce(env[name], value)
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class SourceSettings:
    name: str
    timezone: str
    reject_threshold: float
    expected_by: str
    stale_after_days: int


@dataclass(frozen=True)
class PgSettings:
    """PostgreSQL warehouse (``[pg]``, env ``GROWTHOPS_PG_*``), used when ``warehouse.target = "postgres"``.

    ``dbt_project/profiles.yml`` reads the same ``GROWTHOPS_PG_*`` variables (``dbt_runner.dbt_env``
    exports them from here), so the config file and the environment are one path.
    """

    host: str = "localhost"
    port: int = 5432
    user: str = "growthops"
    password: str = ""
    dbname: str = "growthops"


def _under(base: str, *parts: str) -> property:
    """A read-only path of the layout: ``parts`` below the path attribute ``base`` of the settings."""
    return property(lambda settings: getattr(settings, base).joinpath(*parts))


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    landing: str
    reporting_currency: str
    reporting_timezone: str
    warehouse_target: str
    keep_versions: int
    reactivation_days: int
    settle_seconds: float
    sources: dict[str, SourceSettings] = field(default_factory=dict)
    config_dir: Path = DEFAULT_CONFIG_FILE.parent
    pg: PgSettings = field(default_factory=PgSettings)
    memory_limit: str = "4GB"
    ignore_unexpected_files: bool = False  # [ingest]: unexpected names in a day folder fail ingest
    nonexistent_local_times: str = "shift"  # [ingest]: DST gap times: shift (count them) or reject
    ambiguous_local_times: str = "later"  # [ingest]: DST overlap times: later (count them) or reject
    writer_wait_seconds: float = 600.0  # [ingest]: how long a CLI writer waits for the build DB
    writer_queue: str = ""  # [warehouse]: Celery queue of the host holding the data root ("" = any worker)
    # fsspec options of a landing URL (endpoint_url, client_kwargs, ...): JSON ``landing_storage_options``
    landing_storage_options: dict[str, Any] = field(default_factory=dict)
    lost_build_database: str = (
        "refuse"  # [ingest]: a missing/emptied build DB: refuse or rebuild from landing
    )
    gate_scope: str = "touched"  # [gate]: touched (daily runs gate the touched days + totals) or full
    gate_full_every_days: int = (
        7  # [gate]: a daily run gates every day when no full gate passed for this long
    )

    # Layout under the data root (SPEC §9), and the platform mappings beside the config file.
    landing_staging_dir = _under("data_dir", "tmp", "landing")  # local copies of an object-storage batch
    quarantine_dir = _under("data_dir", "quarantine")
    warehouse_dir = _under("data_dir", "warehouse")
    runs_dir = _under("data_dir", "runs")
    duckdb_temp_dir = _under("data_dir", "tmp", "duckdb")  # DuckDB spills what exceeds memory_limit here
    warehouse_path = _under("warehouse_dir", "growthops.duckdb")  # the build database (one writer)
    serving_path = _under("warehouse_dir", "serving.duckdb")  # the published, read-only file BI opens
    versions_dir = _under("warehouse_dir", "versions")
    platforms_dir = _under("config_dir", "platforms")

    @property
    def landing_dir(self) -> Path | UPath:
        """The landing root: a local ``Path``, or a ``UPath`` on object storage for a URL (SPEC §2)."""
        if "://" not in self.landing:
            return Path(self.landing)
        from growthops.ingest.storage import landing_root  # fsspec: imported only for a URL

        return landing_root(self.landing, self.landing_storage_options)

    @property
    def duckdb_config(self) -> dict[str, str]:
        """Settings of every DuckDB connection the pipeline opens."""
        return {"memory_limit": self.memory_limit, "temp_directory": str(self.duckdb_temp_dir)}

    def source(self, name: str) -> SourceSettings:
        return self.sources[name]


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read the config file and apply ``GROWTHOPS_*`` overrides from ``env`` (default: os.environ)."""
    env = dict(os.environ if env is None else env)
    config_file = Path(env.get("GROWTHOPS_CONFIG", DEFAULT_CONFIG_FILE))
    with config_file.open("rb") as fh:
        tree = _apply_env(tomllib.load(fh), env)

    data_dir = Path(tree["data_dir"])
    if not data_dir.is_absolute():
        data_dir = (REPO_ROOT / data_dir).resolve()
    landing = tree.get("landing_dir") or str(data_dir / "landing")
    if "://" not in landing and not Path(landing).is_absolute():
        landing = str((REPO_ROOT / landing).resolve())

    sources = {name: SourceSettings(name=name, **tree["sources"][name]) for name in SOURCES}
    return Settings(
        data_dir=data_dir,
        landing=landing,
        reporting_currency=tree["reporting"]["currency"].upper(),
        reporting_timezone=tree["reporting"]["timezone"],
        warehouse_target=tree["warehouse"]["target"],
        keep_versions=int(tree["warehouse"]["keep_versions"]),
        memory_limit=str(tree["warehouse"].get("memory_limit", "4GB")),
        writer_queue=str(tree["warehouse"].get("writer_queue", "")).strip(),
        reactivation_days=int(tree["marts"]["reactivation_days"]),
        settle_seconds=float(tree["ingest"]["settle_seconds"]),
        sources=sources,
        config_dir=config_file.parent,
        pg=PgSettings(**tree.get("pg", {})),
        ignore_unexpected_files=bool(tree["ingest"].get("ignore_unexpected_files", False)),
        nonexistent_local_times=str(tree["ingest"].get("nonexistent_local_times", "shift")),
        ambiguous_local_times=str(tree["ingest"].get("ambiguous_local_times", "later")),
        writer_wait_seconds=float(tree["ingest"].get("writer_wait_seconds", 600)),
        landing_storage_options=_storage_options(tree.get("landing_storage_options")),
        lost_build_database=str(tree["ingest"].get("lost_build_database", "refuse")),
        gate_scope=_gate_scope(tree.get("gate", {}).get("scope", "touched")),
        gate_full_every_days=int(tree.get("gate", {}).get("full_every_days", 7)),
    )


def _gate_scope(value: str) -> str:
    scope = str(value).strip().lower()
    if scope not in ("touched", "full"):
        raise ValueError(f'[gate] scope must be "touched" or "full", not {value!r}')
    return scope


def _storage_options(raw: str | dict[str, Any] | None) -> dict[str, Any]:
    """``landing_storage_options``: a JSON object (string, so that one env variable can set it) or a table."""
    if not raw:
        return {}
    options = json.loads(raw) if isinstance(raw, str) else dict(raw)
    if not isinstance(options, dict):
        raise ValueError(f"landing_storage_options must be a JSON object, got {raw!r}")
    return options
