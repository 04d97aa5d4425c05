"""Small generator runs shared by the generate tests, and a DuckDB view of their files.

The views read every file with an explicit schema (never sniffing): the contract's types for crm,
orders, fx, messages and costs (timestamps as TIMESTAMPTZ, so the written offset must parse to the intended
instant), the platform mapping's native headers for channel files.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from growthops.config import load_settings
from growthops.contracts import COSTS, CRM, FX, MESSAGES, ORDERS, load_platform_mappings
from growthops.generate import generate

SMALL = {"start": date(2025, 1, 1), "end": date(2025, 4, 30), "scale": 0.02, "seed": 7}
FOLDER_DAY = r"regexp_extract(filename, '(\d{4}-\d{2}-\d{2})/[^/]+$', 1)::DATE"


def _duck_type(source_type: str) -> str:
    return "TIMESTAMPTZ" if source_type == "TIMESTAMP" else source_type


def open_views(landing: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for view, contract, name in (("crm", CRM, "crm/*/contacts.csv"), ("orders", ORDERS, "orders/*/orders.csv"),
                                 ("fx", FX, "fx/*/rates.csv"), ("messages", MESSAGES, "messages/*/sends.csv"),
                                 ("costs", COSTS, "costs/*/costs.csv")):  # fmt: skip
        columns = ", ".join(f"'{c.name}': '{_duck_type(c.type)}'" for c in contract.columns)
        text_columns = ", ".join(f"'{c.name}': 'VARCHAR'" for c in contract.columns)
        con.execute(
            f"CREATE VIEW {view} AS SELECT *, {FOLDER_DAY} AS folder_day FROM read_csv('{landing}/{name}', "
            f"header = true, auto_detect = false, strict_mode = true, filename = true, columns = {{{columns}}})"
        )
        con.execute(
            f"CREATE VIEW {view}_text AS SELECT *, {FOLDER_DAY} AS folder_day FROM read_csv('{landing}/{name}', "
            f"header = true, auto_detect = false, strict_mode = true, filename = true, "
            f"columns = {{{text_columns}}})"
        )
    selects = []
    for platform, mapping in load_platform_mappings(load_settings().platforms_dir).items():
        native = {canonical: native for native, canonical in mapping.columns.items()}
        columns = ", ".join(f"'{n}': 'VARCHAR'" for n in mapping.columns)
        selects.append(
            f"""SELECT "{native["date"]}"::DATE AS date, '{platform}' AS platform,
                {f'"{native["platform"]}"' if "platform" in native else "NULL"} AS platform_column,
                "{native["campaign_id"]}" AS campaign_id, "{native["campaign_name"]}" AS campaign_name,
                "{native["impressions"]}"::BIGINT AS impressions, "{native["clicks"]}"::BIGINT AS clicks,
                "{native["spend"]}" AS spend_text,
                replace("{native["spend"]}", ',', '')::DECIMAL(18, 4) AS spend,
                "{native["currency"]}" AS currency, filename, {FOLDER_DAY} AS folder_day
            FROM read_csv('{landing}/channel/*/{platform}.csv', header = true, auto_detect = false,
                          strict_mode = true, filename = true, columns = {{{columns}}})"""
        )
    con.execute("CREATE VIEW channel AS " + " UNION ALL ".join(selects))
    # latest versions (the newest file wins), as the pipeline will resolve them
    con.execute(
        "CREATE VIEW latest_orders AS SELECT * FROM orders QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY folder_day DESC) = 1"
    )
    con.execute(
        "CREATE VIEW latest_contacts AS SELECT * FROM crm QUALIFY row_number() OVER (PARTITION BY contact_id ORDER BY folder_day DESC) = 1"
    )
    con.execute("CREATE VIEW latest_channel AS SELECT * FROM channel QUALIFY row_number() OVER (PARTITION BY date, platform, campaign_id ORDER BY folder_day DESC) = 1")  # fmt: skip
    return con


# 18 months: long enough for customers to lapse, come back and be recalled by 16 campaigns
RECALL = {"start": date(2024, 1, 1), "end": date(2025, 6, 30), "scale": 0.03, "seed": 3}


def _generated(name: str, args: dict):
    """Session fixtures ``<name>_run`` (landing folder, generator summary) and ``<name>_db`` (views)."""

    @pytest.fixture(scope="session", name=f"{name}_run")
    def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
        landing = tmp_path_factory.mktemp(f"generate_{name}") / "landing"
        return landing, generate(landing, **args)

    @pytest.fixture(scope="session", name=f"{name}_db")
    def db(request: pytest.FixtureRequest) -> duckdb.DuckDBPyConnection:
        return open_views(request.getfixturevalue(f"{name}_run")[0])

    return run, db


small_run, small_db = _generated("small", SMALL)
recall_run, recall_db = _generated("recall", RECALL)
