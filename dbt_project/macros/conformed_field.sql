{#-
    One column of a conformed schema from an explicit field map entry:
        {'name': ..., 'type': ..., 'default': <expression>, 'platforms': {<platform>: <expression>}}
    renders `cast(<expression> as <type>)`, choosing the platform's own expression when the map
    has one (`case <platform_column> when ... else <default> end`).
-#}
{% macro conformed_field(field, platform_column) -%}
    {%- set overrides = field.get('platforms', {}) -%}
    {%- if overrides -%}
        cast(case {{ platform_column }}
            {%- for platform, expression in overrides.items() %} when '{{ platform }}' then {{ expression }}
            {%- endfor %} else {{ field.default }} end as {{ field.type }})
    {%- else -%}
        cast({{ field.default }} as {{ field.type }})
    {%- endif -%}
{%- endmacro %}
