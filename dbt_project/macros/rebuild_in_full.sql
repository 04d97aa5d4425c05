{#-
    should_full_refresh(): dbt's own rule (the model's `full_refresh` config, else the
    --full-refresh flag), and also true for a model growthops rebuilds in full because its
    definition (its SQL, a model or seed upstream, a macro, its config or a var) changed since the
    build that wrote its rows: the models named in env GROWTHOPS_REBUILD_IN_FULL, set for one
    build by growthops.build.definitions (DECISIONLOG 80). It overrides dbt's global macro of the
    same name, which is_incremental() and the incremental materialization call.
-#}
{% macro should_full_refresh() -%}
    {%- set config_full_refresh = config.get('full_refresh') -%}
    {%- if config_full_refresh is none -%}
        {%- set rebuilt_in_full = env_var('GROWTHOPS_REBUILD_IN_FULL', '').split(',') -%}
        {%- set config_full_refresh = flags.FULL_REFRESH
            or (model.resource_type == 'model' and model.name in rebuilt_in_full) -%}
    {%- endif -%}
    {%- do return(config_full_refresh) -%}
{%- endmacro %}
