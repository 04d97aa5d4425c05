"""
### growthops_ingest_<source> — one daily ingest DAG per declared source

The sources (fx, channel, crm, orders, messages, costs) are declared once in
`plugins/growthops/sources.py`; each gets the DAG `growthops_ingest_<source>`:
wait for the day's export (sensor, reschedule mode) >> gate and load it into its raw table
(pool `growthops_duckdb`), emitting the Asset `growthops://raw/<source>` on success.
Each DAG's own `doc_md` says what its export is and how to replay it.
"""

from __future__ import annotations

from airflow.sdk import DAG

from growthops.orchestration.ingest_tasks import ingest_dag
from growthops.sources import DECLARED

INGEST_DAGS: dict[str, DAG] = {source.dag_id: ingest_dag(source) for source in DECLARED}
globals().update(INGEST_DAGS)  # module-level names, one per DAG id
