"""Deterministic sample-export generator (SPEC §10), used by ``growthops generate``.

``params`` holds the business assumptions (shares, rates, seasonality), ``simulate`` draws the
whole world with numpy (vectorised, one seeded ``numpy.random.Generator``), ``writer`` formats
and writes the landing files with DuckDB (one ``COPY`` per file), ``defects`` injects known bad
rows on request. The public entry point is :func:`growthops.generate.generate`.
"""
