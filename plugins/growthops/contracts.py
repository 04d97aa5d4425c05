"""Export contracts (SPEC §2) and the raw tables they load into.

This module is the single place that names source columns, their types and rules, and the raw
table each source lands in. The generator writes files that satisfy it, ingestion reads files
with it (explicit schemas, never sniffing), and dbt's ``_<source>__sources.yml`` files declare the same
raw tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

LIFECYCLE_STAGES = ("subscriber", "lead", "mql", "sql", "opportunity", "customer", "other")
ORDER_STATUSES = (
    "pending",
    "paid",
    "shipped",
    "delivered",
    "partially_refunded",
    "refunded",
    "cancelled",
)
VALID_ORDER_STATUSES = ("paid", "shipped", "delivered", "partially_refunded")
CHANNELS = (
    "google_ads",
    "meta_ads",
    "tiktok_ads",
    "email",
    "affiliate",
    "organic_search",
    "referral",
    "direct",
    "other",
)
# ISO 4217 codes the pipeline knows; a currency outside this list fails the raw gate.
KNOWN_CURRENCIES = (
    "USD", "EUR", "GBP", "JPY", "CNY", "CAD", "AUD", "CHF", "SEK", "NOK", "DKK", "PLN",
    "BRL", "MXN", "INR", "SGD", "HKD", "KRW", "NZD", "ZAR",
)  # fmt: skip


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type of the raw column
    required: bool = True  # the header must contain it
    not_null: bool = False
    description: str = ""


@dataclass(frozen=True)
class SourceContract:
    source: str
    raw_table: str  # schema-qualified raw table
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]  # unique within a file
    file_glob: str  # relative to <landing>/<source>/<YYYY-MM-DD>/
    timestamp_columns: tuple[str, ...] = ()
    money_columns: tuple[str, ...] = ()
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # every file name a day folder may hold (default: file_glob); anything else there is reported
    file_patterns: tuple[str, ...] = ()

    @property
    def patterns(self) -> tuple[str, ...]:
        return self.file_patterns or (self.file_glob,)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


# Lineage columns every raw row carries, after the contract columns.
LINEAGE_COLUMNS = (
    Column("_batch_id", "VARCHAR", description="Load batch (ledger key) the row came from"),
    Column("_batch_day", "DATE", description="Export day of the batch (landing folder date)"),
    Column(
        "_source_file",
        "VARCHAR",
        description="Landing path of the file, relative to the landing root (its URL on object storage)",
    ),
    Column(
        "_source_line",
        "BIGINT",
        description="Physical line number in the file where the record starts (header = 1)",
    ),
    Column("_extra", "JSON", description="Unknown extra columns of the file, kept as a JSON object"),
    Column("_loaded_at", "TIMESTAMP", description="UTC time the batch was loaded"),
)

# When a record of a changing export (a CRM contact, an order) was created and last changed; the
# raw gate rejects a row updated before it was created.
RECORD_TIMES = (
    Column("created_at", "TIMESTAMP", not_null=True, description="UTC"),
    Column("updated_at", "TIMESTAMP", not_null=True, description="UTC"),
)

CHANNEL = SourceContract(
    source="channel",
    raw_table="raw.channel_performance",
    columns=(
        Column("date", "DATE", not_null=True),
        Column("platform", "VARCHAR", required=False, not_null=True),  # from the file name when absent
        Column("campaign_id", "VARCHAR", not_null=True),
        Column("campaign_name", "VARCHAR", not_null=True),
        Column("impressions", "BIGINT", not_null=True),
        Column("clicks", "BIGINT", not_null=True),
        Column("spend", "DECIMAL(18,4)", not_null=True),
        Column("currency", "VARCHAR", not_null=True),
    ),
    primary_key=("date", "platform", "campaign_id"),
    file_glob="*.csv",
    money_columns=("spend",),
    enums={"currency": KNOWN_CURRENCIES},
)


def _record_export(source: str, raw_table: str, file_stem: str, **rules) -> SourceContract:
    """The contract of a changing-record export (CRM contacts, orders): created_at/updated_at
    timestamps, one ``<file_stem>.*`` file a day or a multi-part export of the day
    (``<file_stem>_part<N>.*``). ``rules``: columns, primary key, money columns, enums."""
    return SourceContract(
        source=source,
        raw_table=raw_table,
        file_glob=f"{file_stem}.*",
        file_patterns=(f"{file_stem}.*", f"{file_stem}_part[0-9]*.*"),
        timestamp_columns=tuple(c.name for c in RECORD_TIMES),
        **rules,
    )


CRM = _record_export(
    "crm",
    "raw.crm_contacts",
    "contacts",
    columns=(
        Column("contact_id", "VARCHAR", not_null=True),
        Column("email", "VARCHAR", description="PII"),
        *RECORD_TIMES,
        Column("lifecycle_stage", "VARCHAR", not_null=True),
        Column("utm_source", "VARCHAR"),
        Column("utm_medium", "VARCHAR"),
        Column("utm_campaign", "VARCHAR"),
        Column("country", "VARCHAR"),
        Column("is_deleted", "BOOLEAN", required=False),
    ),
    primary_key=("contact_id",),
    enums={"lifecycle_stage": LIFECYCLE_STAGES},
)

ORDERS = _record_export(
    "orders",
    "raw.shop_orders",
    "orders",
    columns=(
        Column("order_id", "VARCHAR", not_null=True),
        Column("contact_id", "VARCHAR"),
        *RECORD_TIMES,
        Column("status", "VARCHAR", not_null=True),
        Column("currency", "VARCHAR", not_null=True),
        Column("gross_amount", "DECIMAL(18,4)", not_null=True),
        Column("discount_amount", "DECIMAL(18,4)", not_null=True),
        Column("refund_amount", "DECIMAL(18,4)", not_null=True),
    ),
    primary_key=("order_id",),
    money_columns=("gross_amount", "discount_amount", "refund_amount"),
    enums={"status": ORDER_STATUSES, "currency": KNOWN_CURRENCIES},
)

FX = SourceContract(
    source="fx",
    raw_table="raw.fx_rates",
    columns=(
        Column("date", "DATE", not_null=True),
        Column("currency", "VARCHAR", not_null=True),
        Column("usd_rate", "DECIMAL(18,8)", not_null=True),
    ),
    primary_key=("date", "currency"),
    file_glob="rates.*",
    enums={"currency": KNOWN_CURRENCIES},
)

MESSAGE_CHANNELS = ("email", "sms", "push", "in_app")
MESSAGE_PURPOSES = ("recall", "onboarding", "promotion", "newsletter", "other")
COST_TYPES = ("media", "commission", "tool", "other")
COST_PURPOSES = ("acquisition", "retention")

# SPEC §11: outbound CRM messages (holdout rows included) and costs no ad platform reports.
MESSAGES = SourceContract(
    source="messages",
    raw_table="raw.messages_sends",
    columns=(
        Column("message_id", "VARCHAR", not_null=True),
        Column("contact_id", "VARCHAR", not_null=True, description="may be unknown to the CRM"),
        Column("campaign_id", "VARCHAR", not_null=True),
        Column("campaign_name", "VARCHAR", not_null=True),
        Column("channel", "VARCHAR", not_null=True),
        Column("purpose", "VARCHAR", not_null=True),
        Column(
            "sent_at", "TIMESTAMP", not_null=True, description="UTC; for a holdout row the assignment time"
        ),
        Column("is_holdout", "BOOLEAN", not_null=True),
        Column("cost", "DECIMAL(18,4)", required=False),
        Column("currency", "VARCHAR", required=False),
    ),
    primary_key=("message_id",),
    file_glob="sends.*",
    timestamp_columns=("sent_at",),
    money_columns=("cost",),
    enums={"channel": MESSAGE_CHANNELS, "purpose": MESSAGE_PURPOSES, "currency": KNOWN_CURRENCIES},
)

COSTS = SourceContract(
    source="costs",
    raw_table="raw.costs_daily",
    columns=(
        Column("date", "DATE", not_null=True),
        Column("channel", "VARCHAR", not_null=True),
        Column("campaign", "VARCHAR", description="empty = (none)"),
        Column("cost_type", "VARCHAR", not_null=True),
        Column("purpose", "VARCHAR", required=False, description="acquisition (default) or retention"),
        Column("amount", "DECIMAL(18,4)", not_null=True),
        Column("currency", "VARCHAR", not_null=True),
    ),
    primary_key=("date", "channel", "campaign", "cost_type", "purpose"),
    file_glob="costs.*",
    money_columns=("amount",),
    enums={
        "channel": CHANNELS,
        "cost_type": COST_TYPES,
        "purpose": COST_PURPOSES,
        "currency": KNOWN_CURRENCIES,
    },
)

CONTRACTS: dict[str, SourceContract] = {c.source: c for c in (CHANNEL, CRM, ORDERS, FX, MESSAGES, COSTS)}


@dataclass(frozen=True)
class PlatformMapping:
    """How one ad platform's native export header maps onto the channel contract."""

    platform: str
    columns: dict[str, str]  # native header -> canonical column
    date_format: str = "%Y-%m-%d"

    @classmethod
    def load(cls, path: Path) -> PlatformMapping:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            platform=data["platform"],
            columns=dict(data["columns"]),
            date_format=data.get("date_format", "%Y-%m-%d"),
        )

    @property
    def native_header(self) -> tuple[str, ...]:
        return tuple(self.columns)


def load_platform_mappings(platforms_dir: Path) -> dict[str, PlatformMapping]:
    """All platform mapping files (``config/platforms/<platform>.json``), keyed by platform."""
    mappings = {}
    for path in sorted(platforms_dir.glob("*.json")):
        mapping = PlatformMapping.load(path)
        mappings[mapping.platform] = mapping
    return mappings
