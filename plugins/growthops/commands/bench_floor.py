"""The floor: what the pipeline's work costs when written by hand in DuckDB SQL.

``bench_floor(ctx)`` is a stage of ``growthops.commands.bench``: one DuckDB connection (same
``memory_limit`` and spill directory as the pipeline) reads the landing files of ``ctx.landing``
with explicit schemas, keeps the latest version of every order, contact, rate and campaign day,
converts money to USD with the rate as of each day, and computes the daily funnel totals (spend,
impressions, clicks, signups, new customers, first-order and attributed revenue), signups, first
orders and the monthly cohort matrix. No validation, no ledger, no publication: the pipeline's
backfill divided by this is the "pipeline/floor" ratio that the bench prints.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

VALID = "('paid', 'shipped', 'delivered', 'partially_refunded')"
COUNTED = "('paid', 'shipped', 'delivered', 'partially_refunded', 'refunded')"


def _steps(landing: Path) -> list[tuple[str, str]]:
    csv = "header = true, filename = true, auto_detect = false"
    return [
        (
            "orders",
            f"""
create table orders as
select
    order_id,
    arg_max(struct_pack(contact_id, created_at, status, currency, gross_amount, discount_amount,
                        refund_amount), (updated_at, filename)) as o
from read_csv('{landing}/orders/*/orders*.csv', {csv}, columns = {{
    'order_id': 'varchar', 'contact_id': 'varchar', 'created_at': 'timestamptz',
    'updated_at': 'timestamptz', 'status': 'varchar', 'currency': 'varchar',
    'gross_amount': 'decimal(18,2)', 'discount_amount': 'decimal(18,2)',
    'refund_amount': 'decimal(18,2)'}})
group by order_id""",
        ),
        (
            "contacts",
            f"""
create table contacts as
select
    contact_id,
    arg_max(struct_pack(created_at, utm_source, is_deleted), (updated_at, filename)) as c
from read_csv('{landing}/crm/*/contacts*.csv', {csv}, columns = {{
    'contact_id': 'varchar', 'email': 'varchar', 'created_at': 'timestamptz',
    'updated_at': 'timestamptz', 'lifecycle_stage': 'varchar', 'utm_source': 'varchar',
    'utm_medium': 'varchar', 'utm_campaign': 'varchar', 'country': 'varchar',
    'is_deleted': 'boolean'}})
group by contact_id""",
        ),
        (
            "rates",
            f"""
create table rates as
select rate_date, currency, arg_max(usd_rate, filename) as usd_rate
from read_csv('{landing}/fx/*/rates*.csv', {csv}, columns = {{
    'rate_date': 'date', 'currency': 'varchar', 'usd_rate': 'double'}})
group by rate_date, currency""",
        ),
        (
            "campaign_days",
            f"""
create table campaign_days as
with unioned as (
    select "Day" as report_date, 'google_ads' as platform, "Campaign ID" as campaign_id,
           "Impr." as impressions, "Clicks" as clicks,
           cast(replace("Cost", ',', '') as decimal(18, 2)) as spend, "Currency code" as currency,
           filename
    from read_csv('{landing}/channel/*/google_ads*.csv', {csv}, columns = {{
        'Day': 'date', 'Campaign ID': 'varchar', 'Campaign': 'varchar', 'Impr.': 'bigint',
        'Clicks': 'bigint', 'Cost': 'varchar', 'Currency code': 'varchar'}})
    union all
    select "Reporting starts", 'meta_ads', "Campaign ID", "Impressions", "Link clicks",
           cast(replace("Amount spent", ',', '') as decimal(18, 2)), "Currency", filename
    from read_csv('{landing}/channel/*/meta_ads*.csv', {csv}, columns = {{
        'Reporting starts': 'date', 'Campaign ID': 'varchar', 'Campaign name': 'varchar',
        'Impressions': 'bigint', 'Link clicks': 'bigint', 'Amount spent': 'varchar',
        'Currency': 'varchar'}})
    union all
    select date, platform, campaign_id, impressions, clicks,
           cast(replace(spend, ',', '') as decimal(18, 2)), currency, filename
    from read_csv('{landing}/channel/*/tiktok_ads*.csv', {csv}, columns = {{
        'date': 'date', 'platform': 'varchar', 'campaign_id': 'varchar', 'campaign_name': 'varchar',
        'impressions': 'bigint', 'clicks': 'bigint', 'spend': 'varchar', 'currency': 'varchar'}})
)
select report_date, platform, campaign_id,
       arg_max(struct_pack(impressions, clicks, spend, currency), filename) as d
from unioned
group by report_date, platform, campaign_id""",
        ),
        (
            "converted",
            f"""
create table orders_usd as
select
    orders.order_id,
    orders.o.contact_id as contact_id,
    cast(orders.o.created_at at time zone 'UTC' as date) as order_date,
    orders.o.status in {VALID} as is_valid,
    case when orders.o.status in {COUNTED}
         then (orders.o.gross_amount - orders.o.discount_amount - orders.o.refund_amount)
              * coalesce(rates.usd_rate, 1.0)
         else 0 end as net_revenue_usd,
    orders.o.created_at as created_at
from orders
asof left join rates
    on rates.currency = orders.o.currency
    and cast(orders.o.created_at at time zone 'UTC' as date) >= rates.rate_date""",
        ),
        (
            "first_orders",
            """
create table first_orders as
select contact_id, arg_min(order_date, created_at) as first_order_date,
       arg_min(net_revenue_usd, created_at) as first_order_net_revenue
from orders_usd
where is_valid and contact_id is not null and contact_id <> ''
group by contact_id""",
        ),
        (
            "signups",
            """
create table signups as
select cast(c.created_at at time zone 'UTC' as date) as signup_date,
       coalesce(c.utm_source, 'organic') as channel, count(*) as signups
from contacts
where not coalesce(c.is_deleted, false)
group by all""",
        ),
        (
            "funnel_daily",
            """
create table funnel_daily as
with spend as (
    select campaign_days.report_date as day, sum(campaign_days.d.impressions) as impressions,
           sum(campaign_days.d.clicks) as clicks,
           sum(campaign_days.d.spend * coalesce(rates.usd_rate, 1.0)) as spend
    from campaign_days
    asof left join rates
        on rates.currency = campaign_days.d.currency and campaign_days.report_date >= rates.rate_date
    group by all
),
sign as (select signup_date as day, sum(signups) as signups from signups group by all),
firsts as (
    select first_order_date as day, count(*) as new_customers,
           sum(first_order_net_revenue) as first_order_revenue
    from first_orders group by all
),
revenue as (select order_date as day, sum(net_revenue_usd) as revenue from orders_usd group by all)
select *
from spend
full join sign using (day)
full join firsts using (day)
full join revenue using (day)""",
        ),
        (
            "cohorts",
            """
create table cohort_matrix as
select date_trunc('month', first_orders.first_order_date) as cohort_month,
       datediff('month', date_trunc('month', first_orders.first_order_date),
                date_trunc('month', orders_usd.order_date)) as months_since,
       count(distinct orders_usd.contact_id) as active_customers,
       sum(orders_usd.net_revenue_usd) as revenue
from orders_usd
join first_orders using (contact_id)
where orders_usd.is_valid
group by all""",
        ),
    ]


def run_floor(landing: Path, workdir: Path, memory_limit: str = "4GB") -> dict[str, Any]:
    import duckdb

    spill = workdir / "floor-tmp"
    spill.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"memory_limit": memory_limit, "temp_directory": str(spill)})
    con.execute("set enable_progress_bar = false")
    seconds: dict[str, float] = {}
    try:
        for name, sql in _steps(landing):
            t = time.perf_counter()
            con.execute(sql)
            seconds[name] = round(time.perf_counter() - t, 2)
        rows = {
            t: con.execute(f"select count(*) from {t}").fetchone()[0]
            for t in ("orders", "funnel_daily", "first_orders", "cohort_matrix")
        }
    finally:
        con.close()
    return {"floor_seconds": round(sum(seconds.values()), 2), "step_seconds": seconds, "rows": rows}


def read_landing_once(landing: Path) -> tuple[int, int]:
    """Read every landing file once (bytes discarded): (files, bytes).

    The floor runs first in a bench: on a cold page cache it would time the disk, and the
    pipeline that runs after it the memory (a 1M-orders floor measured 19.6 s cold, 8.3 s warm)."""
    files = size = 0
    for path in sorted(landing.rglob("*")):
        if path.is_file():
            with path.open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    size += len(chunk)
            files += 1
    return files, size


def bench_floor(ctx: Any) -> dict[str, Any]:
    """``growthops.commands.bench`` stage: the floor, timed on a warm page cache."""
    t = time.perf_counter()
    files, size = read_landing_once(ctx.landing)
    warmup = time.perf_counter() - t
    result = run_floor(ctx.landing, ctx.workdir)
    return {
        "floor_seconds": result["floor_seconds"],
        "landing_read_once": {"files": files, "bytes": size, "seconds": round(warmup, 2)},
        "floor_orders": int(result["rows"]["orders"]),
        "detail": result,
    }
