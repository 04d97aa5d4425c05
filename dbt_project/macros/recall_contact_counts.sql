{#-
    Select-list lines (each ending with a comma) of the contact counts of a recall row of `alias`
    (a send week of a campaign, or a whole campaign), as bigint: every recall contact, those unknown
    to the CRM, the measured arms (lapsed at sent_at: targeted, holdout), the lapsed crossovers and
    the contacts excluded because they were not lapsed. One list for every model that carries them.
-#}
{% macro recall_contact_counts(alias) -%}
    {%- set counts = [
        'contacts', 'unknown_contacts', 'targeted_contacts', 'holdout_contacts', 'crossovers', 'excluded_not_lapsed',
    ] -%}
    {%- for column in counts %}
    cast({{ alias }}.{{ column }} as bigint) as {{ column }},
    {%- endfor %}
{%- endmacro %}
