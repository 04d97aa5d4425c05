{#-
    Calendar day, in the reporting timezone (var `reporting_timezone`), of a UTC timestamp
    (raw timestamps are stored as UTC `timestamp` without offset).
-#}
{% macro to_reporting_date(utc_timestamp) -%}
    {{ return(adapter.dispatch('to_reporting_date', 'growthops')(utc_timestamp)) }}
{%- endmacro %}

{% macro default__to_reporting_date(utc_timestamp) -%}
    {%- set timezone = var('reporting_timezone') -%}
    {%- if timezone | upper in ('UTC', 'ETC/UTC', 'Z') -%}
        cast({{ utc_timestamp }} as date)
    {%- else -%}
        cast(({{ utc_timestamp }} at time zone 'UTC') at time zone '{{ timezone }}' as date)
    {%- endif -%}
{%- endmacro %}

{#- DuckDB: `at time zone` needs the ICU extension, which the Python wheel bundles. -#}
{% macro duckdb__to_reporting_date(utc_timestamp) -%}
    {{ growthops.default__to_reporting_date(utc_timestamp) }}
{%- endmacro %}
