"""The one failure policy of every stage (ingest, build, gate, serve).

A stage runs its work inside :func:`stage_policy`:

- a **data failure** (the errors the stage names: bad rows, a failed check, a refused
  publication) writes the one-screen on-call report and becomes :class:`StageFailure`, which
  carries the report's path. It is never retried: the same data fails the same way.
- a **transient failure** (a lock on a DuckDB file, an I/O hiccup, PostgreSQL unreachable) is
  re-raised unchanged so the caller retries it; on the last try the report is written first, so
  a run that gives up still explains itself.

Airflow's side of the policy (``StageFailure`` -> ``AirflowFailException``, anything else ->
a retry) is :func:`growthops.orchestration.policy.run_stage`; the CLI prints the report instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from growthops.config import Settings


class StageFailure(RuntimeError):
    """A stage failed on data or code (not transient): its report is already written."""

    def __init__(self, message: str, report_path=None):
        super().__init__(message)
        self.report_path = report_path


def transient_types() -> tuple[type[BaseException], ...]:
    """Errors a retry can fix: a lock on a DuckDB file, an I/O hiccup, PostgreSQL unreachable."""
    import duckdb

    from growthops.errors import TransientError
    from growthops.warehouse import WarehouseLocked

    pg: tuple[type[BaseException], ...] = ()
    with contextlib.suppress(ImportError):  # the postgres extra is optional
        import psycopg2
        import psycopg2.errors

        pg = (psycopg2.OperationalError, psycopg2.errors.LockNotAvailable)
    return (TransientError, WarehouseLocked, duckdb.IOException, OSError, *pg)


@contextlib.contextmanager
def stage_policy(
    settings: Settings | None,
    *,
    kind: str,
    failed: str,
    transient: str,
    data_errors: tuple[type[BaseException], ...] = (),
    report: Callable[[BaseException], Any] | None = None,
    context: dict[str, Any] | None = None,
) -> Iterator[None]:
    """Run a stage's work under the policy.

    ``failed`` / ``transient`` open the report's summary of a data / transient failure (the error
    text is appended). ``report`` replaces the default report of a data failure (e.g. the ingest
    report with file, lines and sample rows) and returns its path. ``context`` adds fields such as
    ``source`` and ``day`` to the reports.
    """
    from growthops.reports import report_failure, report_if_final_try

    extra = dict(context or {})
    try:
        yield
    except StageFailure:
        raise
    except data_errors as exc:
        if report is not None:
            path = report(exc)
        else:
            path = report_failure(
                kind=kind,
                summary=f"{failed}: {exc}",
                details={"error": str(exc)},
                settings=settings,
                **extra,
            )
        raise StageFailure(str(exc), path) from None
    except transient_types() as exc:
        report_if_final_try(exc, summary=f"{transient}: {exc}", settings=settings, **extra)
        raise
