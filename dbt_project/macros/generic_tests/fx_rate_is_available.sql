{#-
    Every row has a conversion rate to the reporting currency. A currency (or the reporting
    currency itself) without a usd_rate on or before the day fails the build here, naming the
    currency, the first and last day without a rate and the rows affected: such rows are never
    dropped and never converted at rate 1 (SPEC §2).
-#}
{% test fx_rate_is_available(model, column_name, currency_column, date_column) %}

select
    {{ currency_column }} as currency_without_rate,
    '{{ var("reporting_currency") }}' as reporting_currency,
    min({{ date_column }}) as first_day_without_rate,
    max({{ date_column }}) as last_day_without_rate,
    count(*) as rows_without_rate
from {{ model }}
where {{ column_name }} is null
group by {{ currency_column }}

{% endtest %}
