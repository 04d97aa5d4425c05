"""growthops.build.postgres without a server: type mappings and the warehouse-target switch."""

from __future__ import annotations

import pytest

from growthops.build import postgres as pg_warehouse
from growthops.contracts import CONTRACTS, LINEAGE_COLUMNS


def test_every_raw_column_type_maps_to_postgres_and_back_exactly():
    types = {c.type for contract in CONTRACTS.values() for c in (*contract.columns, *LINEAGE_COLUMNS)}
    for duck in types:
        pg = pg_warehouse.pg_type(duck)
        if pg.startswith("numeric("):
            precision, scale = (int(x) for x in pg[len("numeric(") : -1].split(","))
            back = pg_warehouse.duckdb_type("numeric", precision, scale)
        else:
            back = pg_warehouse.duckdb_type(
                {"timestamp": "timestamp without time zone", "varchar": "character varying"}.get(pg, pg),
                None,
                None,
            )
        assert back == duck.replace(" ", ""), (duck, pg, back)


@pytest.mark.parametrize("duck", ["HUGEINT", "VARCHAR[]", "STRUCT(a INTEGER)"])
def test_a_type_without_an_exact_postgres_type_is_refused(duck):
    with pytest.raises(pg_warehouse.PgWarehouseError, match="no PostgreSQL type"):
        pg_warehouse.pg_type(duck)


def test_an_unconstrained_numeric_mart_column_is_refused():
    # a mart column without declared precision could not be compared to the cent
    with pytest.raises(pg_warehouse.PgWarehouseError, match="unconstrained numeric"):
        pg_warehouse.duckdb_type("numeric", None, None)


def test_describe_names_the_database_without_the_password():
    from growthops.config import load_settings

    settings = load_settings(
        env={
            "GROWTHOPS_PG_HOST": "db.internal",
            "GROWTHOPS_PG_PASSWORD": "s3cret",
            "GROWTHOPS_PG_DBNAME": "wh",
        }
    )
    assert pg_warehouse.describe(settings) == "postgresql://growthops@db.internal:5432/wh"
    assert "s3cret" not in pg_warehouse.describe(settings)
