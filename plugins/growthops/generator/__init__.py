"""Deterministic sample-export generator (SPEC §10, §11), used by ``growthops generate``.

``params`` holds the business assumptions (shares, rates, seasonality, planted recall lift),
``simulate`` wires the world together from ``basics`` (calendar, draws), ``ads`` (campaigns, fx,
ad performance), ``contacts`` (signups, CRM lifecycle ladder), ``orders`` (repeat purchasing,
dormant spells, status lifecycle, money), ``recall`` (recall campaigns with holdout and planted
reactivations), ``messages`` and ``costs`` — all vectorised numpy on seeded generators. ``writer``
and ``writer_ops`` format and write the landing files with DuckDB (one ``COPY``-like query per
batch of days), ``defects`` injects known bad rows on request. The public entry point is
:func:`growthops.generate.generate`.
"""
