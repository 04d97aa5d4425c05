"""Quiet, readable logs.

Great Expectations, dbt, cosmos and friends log hundreds of INFO lines on import (through the
root handlers Airflow installs) and GX may try to send usage analytics. ``quiet_third_party()``
is called before any of them is imported — by the package itself, so every entry point (Airflow
tasks, the CLI, tests) gets it — and keeps a failed task's log readable in one screen.
"""

from __future__ import annotations

import logging
import os

NOISY_LOGGERS = (
    "great_expectations",
    "dbt",
    "cosmos",
    "py.warnings",
    "urllib3",
    "fsspec",
    "sqlfluff",
    "alembic",
    "numexpr",
    "matplotlib",
)


def quiet_third_party(level: int = logging.WARNING) -> None:
    """Disable GX analytics and progress bars; raise noisy third-party loggers to ``level``."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("GX_DATA_CONTEXT_ENABLE_PROGRESS_BARS", "False")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(level)


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"growthops.{name.rsplit('.', 1)[-1]}")
