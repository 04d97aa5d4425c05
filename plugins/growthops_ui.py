"""Airflow plugin: the growthops links and report pages in the Airflow UI (see growthops.orchestration.ui)."""

from growthops.orchestration.ui import airflow_plugin

GrowthopsUIPlugin = airflow_plugin()
