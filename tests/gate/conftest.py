"""A hand-made build DB: raw tables (from the contracts) and small marts computed by hand from them.

Reporting currency USD, timezone UTC. Hand computation (what every reconciliation expects):

fx (usd_rate): EUR 1.10 from 2025-01-01; EUR 1.20 from 2025-01-03 restated to 1.25 by a newer
file; GBP 1.25 from 2025-01-01; USD = 1 by definition (no row).

channel (latest file per date x platform x campaign_id):
  2025-01-02 google_ads c1 100 USD                       -> 100.00
  2025-01-02 meta_ads   m1  50 EUR x 1.10                ->  55.00
  2025-01-03 google_ads c1  80 USD, restated to 90       ->  90.00
  2025-01-03 meta_ads   m1  10 EUR x 1.25 (restated rate) ->  12.50
  spend per day: 2025-01-02 155.00, 2025-01-03 102.50

orders (latest version by updated_at), net = gross - discount - refund for valid + refunded:
  o1 2025-01-02 paid 100-10-0 USD, then partially_refunded 100-10-20  -> 70.00
  o2 2025-01-02 23:30 UTC delivered 50 EUR x 1.10                      -> 55.00
  o3 2025-01-03 cancelled 40 GBP                                       ->  0 (not counted)
  o4 2025-01-03 refunded 30-0-30 USD                                   ->  0
  o5 2025-01-03 guest paid 20 GBP x 1.25                               -> 25.00
  net revenue per day: 2025-01-02 125.00, 2025-01-03 25.00
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from gate_checks import TINY_SUITE

from growthops.config import load_settings
from growthops.warehouse import create_raw_tables

RAW_SQL = """
insert into raw.fx_rates (date, currency, usd_rate, _batch_id, _batch_day, _source_file, _source_line, _loaded_at) values
    ('2025-01-01', 'EUR', 1.10, 'fx:d1', '2025-01-01', 'fx/2025-01-01/rates.csv', 2, '2025-01-02 01:00'),
    ('2025-01-01', 'GBP', 1.25, 'fx:d1', '2025-01-01', 'fx/2025-01-01/rates.csv', 3, '2025-01-02 01:00'),
    ('2025-01-03', 'EUR', 1.20, 'fx:d3', '2025-01-03', 'fx/2025-01-03/rates.csv', 2, '2025-01-04 01:00'),
    ('2025-01-03', 'EUR', 1.25, 'fx:d3b', '2025-01-04', 'fx/2025-01-04/rates.csv', 2, '2025-01-05 01:00');

insert into raw.channel_performance
    (date, platform, campaign_id, campaign_name, impressions, clicks, spend, currency,
     _batch_id, _batch_day, _source_file, _source_line, _loaded_at) values
    ('2025-01-02', 'google_ads', 'c1', 'Brand', 1000, 50, 100, 'USD', 'ch:d2', '2025-01-02', 'channel/2025-01-02/google_ads.csv', 2, '2025-01-03 01:00'),
    ('2025-01-02', 'meta_ads', 'm1', 'Promo', 400, 10, 50, 'EUR', 'ch:d2m', '2025-01-02', 'channel/2025-01-02/meta_ads.csv', 2, '2025-01-03 01:00'),
    ('2025-01-03', 'google_ads', 'c1', 'Brand', 800, 40, 80, 'USD', 'ch:d3', '2025-01-03', 'channel/2025-01-03/google_ads.csv', 2, '2025-01-04 01:00'),
    ('2025-01-03', 'google_ads', 'c1', 'Brand', 900, 45, 90, 'USD', 'ch:d4', '2025-01-04', 'channel/2025-01-04/google_ads.csv', 3, '2025-01-05 01:00'),
    ('2025-01-03', 'meta_ads', 'm1', 'Promo', 200, 4, 10, 'EUR', 'ch:d3m', '2025-01-03', 'channel/2025-01-03/meta_ads.csv', 2, '2025-01-04 01:00');

insert into raw.shop_orders
    (order_id, contact_id, created_at, updated_at, status, currency, gross_amount, discount_amount, refund_amount,
     _batch_id, _batch_day, _source_file, _source_line, _loaded_at) values
    ('o1', 'k1', '2025-01-02 10:00', '2025-01-02 10:00', 'paid', 'USD', 100, 10, 0, 'or:d2', '2025-01-02', 'orders/2025-01-02/orders.csv', 2, '2025-01-03 01:00'),
    ('o2', 'k2', '2025-01-02 23:30', '2025-01-02 23:30', 'delivered', 'EUR', 50, 0, 0, 'or:d2', '2025-01-02', 'orders/2025-01-02/orders.csv', 3, '2025-01-03 01:00'),
    ('o1', 'k1', '2025-01-02 10:00', '2025-01-03 09:00', 'partially_refunded', 'USD', 100, 10, 20, 'or:d3', '2025-01-03', 'orders/2025-01-03/orders.csv', 2, '2025-01-04 01:00'),
    ('o3', 'k2', '2025-01-03 08:00', '2025-01-03 08:00', 'cancelled', 'GBP', 40, 0, 0, 'or:d3', '2025-01-03', 'orders/2025-01-03/orders.csv', 3, '2025-01-04 01:00'),
    ('o4', 'k3', '2025-01-03 09:00', '2025-01-03 12:00', 'refunded', 'USD', 30, 0, 30, 'or:d3', '2025-01-03', 'orders/2025-01-03/orders.csv', 4, '2025-01-04 01:00'),
    ('o5', null, '2025-01-03 10:00', '2025-01-03 10:00', 'paid', 'GBP', 20, 0, 0, 'or:d3', '2025-01-03', 'orders/2025-01-03/orders.csv', 5, '2025-01-04 01:00');
"""

MARTS_SQL = """
create schema marts;

create table marts.fct_orders as select * from (values
    ('o1', 'k1', date '2025-01-02', 'partially_refunded', true, true, 70.0000::decimal(18,4), 'google_ads', 'brand', 'or:d3'),
    ('o2', 'k2', date '2025-01-02', 'delivered', true, true, 55.0000::decimal(18,4), 'meta_ads', 'promo', 'or:d2'),
    ('o3', 'k2', date '2025-01-03', 'cancelled', false, false, 0.0000::decimal(18,4), 'meta_ads', 'promo', 'or:d3'),
    ('o4', 'k3', date '2025-01-03', 'refunded', false, false, 0.0000::decimal(18,4), 'direct', '(none)', 'or:d3'),
    ('o5', null, date '2025-01-03', 'paid', true, false, 25.0000::decimal(18,4), 'unattributed', '(none)', 'or:d3')
) as t(order_id, customer_id, order_date, status, is_valid, is_first_order, net_revenue, channel, campaign, source_batch_id);

create table marts.dim_customers as select * from (values
    ('k1', 'google_ads', 'brand', date '2025-01-01', 'customer', date '2025-01-02', 1, 70.0000::decimal(18,4), date '2025-01-02', 1),
    ('k2', 'meta_ads', 'promo', date '2025-01-01', 'customer', date '2025-01-02', 1, 55.0000::decimal(18,4), date '2025-01-02', 1),
    ('k3', 'direct', '(none)', date '2025-01-02', 'lead', null, 0, 0.0000::decimal(18,4), null, null)
) as t(customer_id, first_touch_channel, first_touch_campaign, signup_date, lifecycle_stage, first_order_date,
       orders_count, lifetime_net_revenue, last_order_date, days_since_last_order);

create table marts.mart_channel_funnel_daily as select * from (values
    (date '2025-01-02', 'google_ads', 'brand', 100.0000, 1000, 50, 2, 1, 70.0000, 70.0000, 0.05, 2.0000, 50.0000, 100.0000, 0.7),
    (date '2025-01-02', 'meta_ads', 'promo', 55.0000, 400, 10, 1, 1, 55.0000, 55.0000, 0.025, 5.5000, 55.0000, 55.0000, 1.0),
    (date '2025-01-03', 'google_ads', 'brand', 90.0000, 900, 45, 0, 0, 0.0000, 0.0000, 0.05, 2.0000, null, null, 0.0),
    (date '2025-01-03', 'meta_ads', 'promo', 12.5000, 200, 4, 0, 0, 0.0000, 0.0000, 0.02, 3.1250, null, null, 0.0),
    (date '2025-01-03', 'unattributed', '(none)', 0.0000, 0, 0, 0, 0, 0.0000, 25.0000, null, null, null, null, null)
) as t(report_date, channel, campaign, spend, impressions, clicks, signups, new_customers,
       first_order_revenue, attributed_revenue, ctr, cpc, cpl, cac, roas);
alter table marts.mart_channel_funnel_daily alter spend type decimal(18,4);
alter table marts.mart_channel_funnel_daily alter attributed_revenue type decimal(18,4);

create table marts.mart_funnel_stages as select * from (values
    (date '2025-01-01', 'google_ads', 1, 1, 1, 0, 1.0, 1.0, 0.0),
    (date '2025-01-01', 'meta_ads', 1, 1, 1, 0, 1.0, 1.0, 0.0),
    (date '2025-01-01', 'direct', 1, 0, 0, 0, 0.0, 0.0, null)
) as t(signup_month, channel, signups, engaged, customers, repeat_customers, engaged_rate, customer_rate, repeat_rate);

create table marts.mart_cohort_retention as select * from (values
    (date '2025-01-01', 'google_ads', 0, 1, 1, 1.0, 70.0, 70.0, 70.0),
    (date '2025-01-01', 'meta_ads', 0, 1, 1, 1.0, 55.0, 55.0, 55.0),
    (date '2025-01-01', 'all', 0, 2, 2, 1.0, 125.0, 125.0, 62.5)
) as t(cohort_month, channel, months_since_first_order, cohort_size, active_customers, retention_rate,
       net_revenue, cumulative_net_revenue, ltv_per_customer);

create table marts.mart_reactivation_candidates as select * from (values
    ('k9', 120, 2, 80.0)
) as t(customer_id, days_since_last_order, orders_count, lifetime_net_revenue);
"""


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path / "data"))
    return load_settings()


@pytest.fixture
def con(tmp_path):
    """The hand-made build DB, open for writing (tests tamper with it)."""
    c = duckdb.connect(str(tmp_path / "build.duckdb"))
    create_raw_tables(c)
    c.execute(RAW_SQL)
    c.execute(MARTS_SQL)
    yield c
    c.close()


@pytest.fixture
def raw_sql() -> str:
    """The INSERTs of the hand-made raw tables (for tests that build their own DB)."""
    return RAW_SQL


@pytest.fixture
def tiny_suite(tmp_path) -> Path:
    """The one-expectation suite as a file (reconciliation tests need no full GX run)."""
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY_SUITE))
    return path
