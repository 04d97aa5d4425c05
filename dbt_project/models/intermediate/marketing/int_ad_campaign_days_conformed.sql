{#-
    The explicit field map of the conformed ad schema: every ad platform lands in these columns,
    in this order, with these types. Platform-native headers (Google "Impr.", Meta "Amount spent",
    ...) are mapped to the canonical export columns at ingestion (config/platforms/<platform>.json);
    this map is where a platform whose canonical column means something else, or that needs a
    field from its `_extra` columns, gets its own expression (key = platform, `default` = all
    others). See DECISIONLOG.md.
-#}
{%- set field_map = [
    {'name': 'report_date', 'type': 'date', 'default': 'campaign_days.report_date'},
    {'name': 'platform', 'type': 'varchar', 'default': 'campaign_days.platform'},
    {'name': 'campaign_id', 'type': 'varchar', 'default': 'campaign_days.campaign_id'},
    {'name': 'campaign_name', 'type': 'varchar', 'default': 'campaign_days.campaign_name'},
    {'name': 'campaign_key', 'type': 'varchar', 'default': 'campaign_days.campaign_key'},
    {'name': 'impressions', 'type': 'bigint', 'default': 'campaign_days.impressions'},
    {'name': 'clicks', 'type': 'bigint', 'default': 'campaign_days.clicks'},
    {'name': 'spend_local', 'type': 'decimal(18, 4)', 'default': 'campaign_days.spend_local'},
    {'name': 'currency', 'type': 'varchar', 'default': 'campaign_days.currency'},
    {'name': 'source_batch_id', 'type': 'varchar', 'default': 'campaign_days.source_batch_id'},
    {'name': 'source_loaded_at', 'type': 'timestamp', 'default': 'campaign_days.source_loaded_at'},
] -%}

with

campaign_days as (

    select * from {{ ref('stg_channel__campaign_days') }}

),

platform_channels as (

    select * from {{ ref('platform_channels') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_filled_daily') }}

),

conformed as (

    select
        {% for field in field_map -%}
            {{ growthops.conformed_field(field, 'campaign_days.platform') }} as {{ field.name }}
            {%- if not loop.last %},{% endif %}
        {% endfor %}

    from campaign_days

),

-- platform -> channel (seed); spend in the reporting currency at its report date
enriched as (

    select
        conformed.report_date,
        conformed.platform,
        platform_channels.channel,
        conformed.campaign_id,
        conformed.campaign_name,
        conformed.campaign_key,
        conformed.impressions,
        conformed.clicks,
        conformed.spend_local,
        conformed.currency,
        fx_rates.to_reporting_rate as fx_rate,
        {{ growthops.convert_money('conformed.spend_local', 'fx_rates.to_reporting_rate') }} as spend,
        conformed.source_batch_id,
        conformed.source_loaded_at

    from conformed
    left join platform_channels
        on conformed.platform = lower(trim(platform_channels.platform))
    left join fx_rates
        on
            conformed.currency = fx_rates.currency
            and conformed.report_date = fx_rates.rate_day

)

select * from enriched
