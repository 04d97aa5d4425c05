{#-
    Two-sided 95 % quantile of the standard normal distribution (normal approximation of the
    recall rate difference, SPEC §11).
-#}
{% macro normal_quantile_975() -%}
    cast(1.959963984540054 as double precision)
{%- endmacro %}

{#-
    Two-sided 95 % quantile of Student's t with `df` (double, may be fractional: Welch) degrees of
    freedom, by the Cornish-Fisher expansion around the normal quantile (Abramowitz & Stegun
    26.7.5, four terms; error < 1e-4 from df = 5 on, e.g. df 10: 2.22813 vs 2.22814). The
    coefficients are computed here at compile time, so the SQL is plain double arithmetic,
    identical on every warehouse. Falls back to the normal quantile when df is null.
-#}
{% macro student_t_quantile_975(df) -%}
    {%- set z = 1.959963984540054 -%}
    {%- set g1 = (z ** 3 + z) / 4 -%}
    {%- set g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96 -%}
    {%- set g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384 -%}
    {%- set g4 = (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / 92160 -%}
    {%- set nu = 'cast(' ~ df ~ ' as double precision)' -%}
    coalesce(
        {{ growthops.normal_quantile_975() }}
        + cast({{ '%.17g' | format(g1) }} as double precision) / {{ nu }}
        + cast({{ '%.17g' | format(g2) }} as double precision) / ({{ nu }} * {{ nu }})
        + cast({{ '%.17g' | format(g3) }} as double precision) / ({{ nu }} * {{ nu }} * {{ nu }})
        + cast({{ '%.17g' | format(g4) }} as double precision) / ({{ nu }} * {{ nu }} * {{ nu }} * {{ nu }}),
        {{ growthops.normal_quantile_975() }}
    )
{%- endmacro %}

{#-
    Select-list lines (each ending with a comma) computing the recall lift statistics of one row
    of arm sums (columns of int_recall_campaign_weeks_aggregated, summed or not) named by `alias`.
    Exact decimal sums are cast to double only here, so the statistics are the same double
    arithmetic on every warehouse:
      reactivation rates r = reactivated / contacts per arm; rate difference d = r_t - r_h with the
      normal-approximation standard error sqrt(r_t (1 - r_t) / n_t + r_h (1 - r_h) / n_h);
      revenue per contact: sample variance per arm s^2 = (sum x^2 - (sum x)^2 / n) / (n - 1) (n >= 2),
      Welch standard error sqrt(s_t^2 / n_t + s_h^2 / n_h) and Welch-Satterthwaite degrees of freedom.
-#}
{% macro recall_lift_statistics(alias) -%}
    {%- set n_t = 'cast(' ~ alias ~ '.targeted_contacts as double precision)' -%}
    {%- set n_h = 'cast(' ~ alias ~ '.holdout_contacts as double precision)' -%}
    {%- set s_t = 'cast(' ~ alias ~ '.window_revenue_targeted as double precision)' -%}
    {%- set s_h = 'cast(' ~ alias ~ '.window_revenue_holdout as double precision)' -%}
    {%- set q_t = 'cast(' ~ alias ~ '.window_revenue_squared_targeted as double precision)' -%}
    {%- set q_h = 'cast(' ~ alias ~ '.window_revenue_squared_holdout as double precision)' -%}
    {{ growthops.safe_divide(alias ~ '.reactivated_targeted', alias ~ '.targeted_contacts') }} as rate_targeted,
    {{ growthops.safe_divide(alias ~ '.reactivated_holdout', alias ~ '.holdout_contacts') }} as rate_holdout,
    case
        when {{ alias }}.targeted_contacts >= 2
            then greatest(({{ q_t }} - {{ s_t }} * {{ s_t }} / {{ n_t }}) / ({{ n_t }} - 1), 0) / {{ n_t }}
    end as revenue_mean_variance_targeted,
    case
        when {{ alias }}.holdout_contacts >= 2
            then greatest(({{ q_h }} - {{ s_h }} * {{ s_h }} / {{ n_h }}) / ({{ n_h }} - 1), 0) / {{ n_h }}
    end as revenue_mean_variance_holdout,
{%- endmacro %}

{#-
    Select-list lines (each ending with a comma) of the recall outcome columns of a row of
    `alias` carrying the arm sums and the columns of recall_lift_statistics. SPEC §11 nulls:
    every outcome is null until the row is mature; lift (incremental_*, bounds) is null without
    holdout or targeted contacts; cost per incremental reactivation is null when incremental <= 0.
    `cost_column` names the row's cost (weekly rows: message_cost; the campaign: message plus
    retention-purpose costs).
-#}
{% macro recall_outcome_columns(alias, cost_column='message_cost') -%}
    {%- set mature = alias ~ '.is_mature' -%}
    {%- set lift = '(' ~ alias ~ '.is_mature and ' ~ alias ~ '.targeted_contacts > 0 and ' ~ alias ~ '.holdout_contacts > 0)' -%}
    {%- set n_t = 'cast(' ~ alias ~ '.targeted_contacts as double precision)' -%}
    {%- set n_h = 'cast(' ~ alias ~ '.holdout_contacts as double precision)' -%}
    {%- set r_t = alias ~ '.rate_targeted' -%}
    {%- set r_h = alias ~ '.rate_holdout' -%}
    {%- set rate_difference = '(' ~ r_t ~ ' - ' ~ r_h ~ ')' -%}
    {%- set rate_se = growthops.square_root(r_t ~ ' * (1 - ' ~ r_t ~ ') / ' ~ n_t ~ ' + ' ~ r_h ~ ' * (1 - ' ~ r_h ~ ') / ' ~ n_h) -%}
    {%- set rate_margin = '(' ~ growthops.normal_quantile_975() ~ ' * ' ~ rate_se ~ ')' -%}
    {%- set u_t = alias ~ '.revenue_mean_variance_targeted' -%}
    {%- set u_h = alias ~ '.revenue_mean_variance_holdout' -%}
    {%- set welch_df = '(' ~ u_t ~ ' + ' ~ u_h ~ ') * (' ~ u_t ~ ' + ' ~ u_h ~ ') / nullif(' ~ u_t ~ ' * ' ~ u_t ~ ' / (' ~ n_t ~ ' - 1) + ' ~ u_h ~ ' * ' ~ u_h ~ ' / (' ~ n_h ~ ' - 1), 0)' -%}
    {%- set revenue_margin = '(' ~ growthops.student_t_quantile_975(welch_df) ~ ' * ' ~ growthops.square_root(u_t ~ ' + ' ~ u_h) ~ ' * ' ~ n_t ~ ')' -%}
    {%- set incremental_revenue = '(' ~ alias ~ '.window_revenue_targeted - ' ~ growthops.money_divide(alias ~ '.window_revenue_holdout * ' ~ alias ~ '.targeted_contacts', alias ~ '.holdout_contacts') ~ ')' -%}
    {%- set incremental_reactivations = '(' ~ rate_difference ~ ' * ' ~ n_t ~ ')' -%}
    cast(case when {{ mature }} then {{ alias }}.reactivated_targeted end as bigint) as reactivated_targeted,
    cast(case when {{ mature }} then {{ alias }}.reactivated_holdout end as bigint) as reactivated_holdout,
    case when {{ mature }} then {{ r_t }} end as reactivation_rate_targeted,
    case when {{ mature }} then {{ r_h }} end as reactivation_rate_holdout,
    cast(case when {{ mature }} then {{ alias }}.window_revenue_targeted end as decimal(18, 4)) as window_revenue_targeted,
    cast(case when {{ mature }} then {{ alias }}.window_revenue_holdout end as decimal(18, 4)) as window_revenue_holdout,
    cast(
        case
            when {{ mature }} then {{ growthops.money_divide(alias ~ '.window_revenue_targeted', alias ~ '.targeted_contacts') }}
        end as decimal(18, 4)
    ) as window_revenue_per_contact_targeted,
    cast(
        case
            when {{ mature }} then {{ growthops.money_divide(alias ~ '.window_revenue_holdout', alias ~ '.holdout_contacts') }}
        end as decimal(18, 4)
    ) as window_revenue_per_contact_holdout,
    case when {{ lift }} then {{ incremental_reactivations }} end as incremental_reactivations,
    case when {{ lift }} then ({{ rate_difference }} - {{ rate_margin }}) * {{ n_t }} end as incremental_reactivations_lower,
    case when {{ lift }} then ({{ rate_difference }} + {{ rate_margin }}) * {{ n_t }} end as incremental_reactivations_upper,
    cast(case when {{ lift }} then {{ incremental_revenue }} end as decimal(18, 4)) as incremental_revenue,
    cast(
        case
            when {{ lift }} then {{ incremental_revenue }} - cast({{ revenue_margin }} as decimal(18, 4))
        end as decimal(18, 4)
    ) as incremental_revenue_lower,
    cast(
        case
            when {{ lift }} then {{ incremental_revenue }} + cast({{ revenue_margin }} as decimal(18, 4))
        end as decimal(18, 4)
    ) as incremental_revenue_upper,
    case
        when {{ lift }} then ({{ rate_difference }} - {{ rate_margin }}) > 0 or ({{ rate_difference }} + {{ rate_margin }}) < 0
    end as is_significant,
    cast({{ alias }}.{{ cost_column }} as decimal(18, 4)) as cost,
    cast(
        case
            when {{ lift }} and {{ incremental_reactivations }} > 0
                then cast({{ alias }}.{{ cost_column }} as double precision) / {{ incremental_reactivations }}
        end as decimal(18, 4)
    ) as cost_per_incremental_reactivation,
    cast(case when {{ mature }} then {{ alias }}.attributed_reactivations end as bigint) as attributed_reactivations,
{%- endmacro %}
