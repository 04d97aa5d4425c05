"""The exports growthops loads, declared once (SPEC §2, §11).

Each :class:`Source` names one export with one name used everywhere: the landing folder
``<landing>/<name>/<YYYY-MM-DD>/``, the contract and raw table (:mod:`growthops.contracts`), the
GX raw-gate suite ``expectations/<name>.json``, the Airflow DAG ``growthops_ingest_<name>`` and
its Asset ``growthops://raw/<name>``, the CLI choices, the ``status`` rows and the dbt source
``<name>`` (``dbt_project/models/staging/<name>/_<name>__sources.yml``). Per-deployment settings
(timezone, reject threshold, when the export is due) live in ``config/growthops.toml`` under
``[sources.<name>]``.

Adding a source: a declaration here, its contract, its suite, its config section and its staging
model; the ingest DAG, CLI and status follow from the declaration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from growthops.contracts import CONTRACTS, SourceContract

REPO_ROOT = Path(__file__).resolve().parents[2]
SUITES_DIR = REPO_ROOT / "expectations"


@dataclass(frozen=True)
class Source:
    name: str
    title: str  # what the export is, for docs and DAG descriptions
    export: str  # the file(s) of one day, as the exporter names them
    notes: str = ""  # what is special about this export (DAG doc_md)
    required: bool = True  # False: a business without this export runs without it (backfill skips it)

    @property
    def contract(self) -> SourceContract:
        return CONTRACTS[self.name]

    @property
    def raw_table(self) -> str:
        return self.contract.raw_table

    @property
    def suite_path(self) -> Path:
        return SUITES_DIR / f"{self.name}.json"

    @property
    def dag_id(self) -> str:
        return f"growthops_ingest_{self.name}"

    @property
    def asset_uri(self) -> str:
        return f"growthops://raw/{self.name}"

    @property
    def dbt_source(self) -> str:
        return self.name

    @property
    def landing_pattern(self) -> str:
        return f"{self.name}/<YYYY-MM-DD>/{self.contract.file_glob}"


# In load order: rates first (conversions), contacts before the orders that reference them.
DECLARED: tuple[Source, ...] = (
    Source(
        "fx",
        "the daily currency rates export",
        "rates.csv",
        "Its own gate: known currencies, positive rates, USD = 1, reject threshold 0.",
    ),
    Source(
        "channel",
        "the daily ad-platform performance exports (one file per platform)",
        "<platform>.csv",
        "Google-Ads-style and Meta-style native headers are mapped through "
        "`config/platforms/<platform>.json`; a new platform is a new mapping file.",
    ),
    Source(
        "crm", "the daily CRM contacts export", "contacts.csv", "An erasure row (`is_deleted`) removes PII."
    ),
    Source("orders", "the daily shop orders export", "orders.csv"),
    Source(
        "messages",
        "the daily outbound CRM messages export (recall holdout rows included)",
        "sends.csv",
        "Messages to contacts unknown to the CRM are kept and counted.",
        required=False,
    ),
    Source(
        "costs",
        "the daily costs no ad platform reports (commissions, tools, retention)",
        "costs.csv",
        "Acquisition costs add to channel spend; retention costs count only in the recall marts.",
        required=False,
    ),
)
SOURCES: dict[str, Source] = {s.name: s for s in DECLARED}
SOURCE_NAMES: tuple[str, ...] = tuple(SOURCES)


def source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; declared: {', '.join(SOURCE_NAMES)}") from None
