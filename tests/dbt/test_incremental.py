"""Every incremental model (the latest-version staging models and the order chain) built after late
updates equals a full refresh, row for row (the shared warehouse; per-model rebuild counts and
more late cases: test_incremental_order_chain.py, test_incremental_staging.py)."""

from __future__ import annotations

import duckdb
from conftest import ORACLE_VARS
from dbt_helpers import explain, put_back, run_dbt
from dbt_order_chain import CHAIN, incremental_models, model_table


def test_second_build_was_incremental_and_not_everything_was_rebuilt(built_warehouse):
    # the second build ran the incremental branch (watermark filter + delete+insert) of every
    # incremental model: the latest-version staging models and the order chain ...
    compiled = built_warehouse["second_incremental_sql"]
    assert set(CHAIN) < set(compiled)
    for model, sql in compiled.items():
        assert ("rebuild_loaded_after" if model in CHAIN else "restage_loaded_after") in sql, model
    # ... and the watermark left orders out: it was not a disguised full rebuild
    con = duckdb.connect(str(built_warehouse["path"]), read_only=True)
    cutoff = built_warehouse["first_watermark"]
    untouched, total = con.execute(
        "select count(*) filter (where inputs_loaded_at <= ?), count(*) from marts.fct_orders", [cutoff]
    ).fetchone()
    con.close()
    assert 0 < untouched < total


def test_incremental_run_caught_the_late_updates(built_warehouse):
    late = built_warehouse["late"]
    con = duckdb.connect(str(built_warehouse["path"]), read_only=True)
    rows = {
        r[0]: r[1:]
        for r in con.execute(
            "select order_id, status, is_first_order, channel, campaign, customer_id from marts.fct_orders"
        ).fetchall()
    }
    new_contact_orders = con.execute(
        "select distinct channel, campaign from marts.fct_orders where customer_id = ?", [late.new_contact_id]
    ).fetchall()
    # orders of the re-delivered fx day are converted with the corrected EUR rate (the newest file)
    fx_check = con.execute(
        """
        with rates as (
            select currency, usd_rate, _loaded_at,
                   row_number() over (partition by currency order by _loaded_at desc) as newest
            from raw.fx_rates where date = $day
        ),
        -- the re-delivered batch replaced the original one, whose EUR rate was 2 % lower
        eur as (
            select usd_rate as new_rate, usd_rate / 1.02 as old_rate
            from rates where currency = 'EUR' and newest = 1
        )
        select count(*),
               max(abs(cast(o.fx_rate as double) - r.usd_rate / eur.new_rate)),
               min(abs(cast(o.fx_rate as double) - r.usd_rate / eur.old_rate))
        from marts.fct_orders as o
        join rates as r on o.currency = r.currency and r.newest = 1
        cross join eur
        where o.order_date = $day and o.currency = 'USD'
        """,
        {"day": late.fx_day},
    ).fetchone()
    con.close()
    # a refunded first order: no longer first, the customer's second valid order is
    assert rows[late.refunded_first_order_id][:2] == ("refunded", False)
    assert rows[late.promoted_order_id][1] is True
    # a contact exported after its orders: the orders are attributed to it now
    assert new_contact_orders == [("google_ads", late.new_contact_campaign)]
    orders_that_day, error_vs_corrected, error_vs_original = fx_check
    assert orders_that_day > 0
    assert error_vs_corrected < 1e-9 < error_vs_original


def test_every_incremental_model_is_covered(built_warehouse, dbt_work_dir):
    names = {m.name for m in incremental_models(dbt_work_dir)}
    assert set(CHAIN) | {"stg_orders__orders", "stg_crm__contacts", "stg_messages__sends"} <= names


def test_incremental_equals_full_refresh(built_warehouse, dbt_work_dir):
    warehouse = built_warehouse["path"]
    models = incremental_models(dbt_work_dir)
    incremental = {m.name: model_table(warehouse, m) for m in models}
    with put_back(warehouse):  # in place, in the build's work dir: no second full parse
        run = run_dbt(
            warehouse,
            ["run", "--select", *(m.name for m in models), "--full-refresh"],
            work_dir=dbt_work_dir,
            vars=ORACLE_VARS,
        )
        assert run.success, explain(run)
        refreshed = {m.name: model_table(warehouse, m) for m in models}
    for model, rows in incremental.items():
        full = refreshed[model]
        assert len(full) == len(rows) > 0, model
        assert full == rows, model
