"""The growth report: static HTML pages of one published serving version (the last stage).

It reads only the published serving file (read-only) and writes
``<data>/reports/<run_id>/{index,operations,quality}.html`` plus ``plotly.min.js`` beside them
(so the pages open offline), and refreshes ``<data>/reports/latest/``.

Modules, in data-flow order: :mod:`.queries` and :mod:`.quality` (DuckDB SQL against the serving
file), :mod:`.charts` (plotly figure specs), :mod:`.page` (HTML), :mod:`.sections` (what each page
holds), :mod:`.build` (files, ``latest/``); the command is ``growthops.commands.report``.
"""
