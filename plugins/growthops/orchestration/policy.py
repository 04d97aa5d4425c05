"""Airflow's side of the one failure policy (:mod:`growthops.failures`), and the task defaults
every growthops DAG shares.

- :data:`DEFAULT_ARGS`: owner, failure callbacks (the on-call summary; notifiers when
  configured), retries with exponential backoff — what a *transient* failure (lock, I/O) gets — and, when
  ``[warehouse] writer_queue`` is set, the Celery queue of the one worker host that holds the data
  root (README "Multi-host topology"): every task that opens the build warehouse, the quarantine,
  the run reports or the serving file runs there. :data:`ANY_WORKER` sends a task that only reads
  the landing (the sensors) back to the default queue.
- :func:`run_stage`: call a stage; its :class:`~growthops.failures.StageFailure` (a data failure,
  report already written) becomes ``AirflowFailException`` — no retry, the task log ends with the
  report's summary, path and next commands. Anything else propagates and Airflow retries it.

Nothing heavy is imported here: DAG files import this module at parse time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from growthops.orchestration.notify import failure_callbacks

T = TypeVar("T")


def _queues() -> tuple[dict[str, str], dict[str, str]]:
    """``queue=`` of the data-root tasks and of the landing-only tasks (both empty when not set)."""
    from growthops.config import load_settings

    writer_queue = load_settings().writer_queue
    if not writer_queue:
        return {}, {}
    from airflow.configuration import conf

    return {"queue": writer_queue}, {"queue": conf.get("operators", "default_queue")}


DATA_HOST, ANY_WORKER = _queues()

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "growthops",
    # the on-call summary in the task log; notifications only when a connection is configured
    "on_failure_callback": failure_callbacks(),
    "retries": 3,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,  # a multiplier in Airflow 3.3: 30 s, 60 s, 120 s (True means 1x)
    "max_retry_delay": timedelta(minutes=10),
    **DATA_HOST,
}


def run_stage(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one stage function under the failure policy, in Airflow's terms."""
    from growthops.failures import StageFailure

    try:
        return fn(*args, **kwargs)
    except StageFailure as exc:
        from airflow.sdk.exceptions import AirflowFailException

        from growthops.reports import failure_message

        message = failure_message(exc.report_path) if exc.report_path else str(exc)
        raise AirflowFailException(message) from None
