{% snapshot snp_crm__contact_lifecycle_stages %}

    {{
        config(
            unique_key='contact_id',
            strategy='timestamp',
            updated_at='updated_at',
        )
    }}

    select
        contacts.contact_id,
        contacts.lifecycle_stage,
        contacts.is_deleted,
        contacts.updated_at

    from {{ ref('stg_crm__contacts') }} as contacts

{% endsnapshot %}
