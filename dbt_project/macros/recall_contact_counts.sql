{#-
    The contact counts every recall row carries (a send week of a campaign, or a whole campaign):
    every recall contact, those unknown to the CRM, the measured arms (lapsed at sent_at: targeted,
    holdout), the lapsed crossovers and the contacts excluded because they were not lapsed. One list
    for every model and test that carries, sums or compares them; their contract type is bigint.
-#}
{% macro recall_contact_counts() -%}
    {{ return([
        'contacts', 'unknown_contacts', 'targeted_contacts', 'holdout_contacts', 'crossovers', 'excluded_not_lapsed',
    ]) }}
{%- endmacro %}
