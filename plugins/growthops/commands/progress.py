"""Live progress for the long commands (``backfill``, ``replay``, ``generate``).

The stage functions report through a ``progress(message)`` callback. :class:`Progress` is that
callback for a person: a message starting with ``[`` (``[ingest] orders …``, ``[dbt] build``)
starts a new step, any other message (``orders: chunk 3/9 …``) is detail within the current step.

- On a terminal: a ``rich`` live line — spinner, the current step and its latest detail, a bar of
  steps done (when the number of steps is known) and the elapsed time — with one line printed
  per finished step and its duration.
- Elsewhere (CI logs, a pipe, a file): plain lines, one per message, prefixed with the elapsed
  seconds; no control characters.

``--verbose`` (:func:`configure_logging`) also shows the INFO log lines of growthops and one
line per dbt node; by default only warnings and errors are logged.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import IO, Any

VERBOSE_LOGGERS = ("growthops", "dbt")
_HANDLER_NAME = "growthops.cli"


def add_verbose_argument(parser: Any) -> None:
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="also show the log lines of every stage and one line per dbt node (default: progress only)",
    )


class _CurrentStderr(logging.StreamHandler):
    """A handler that writes to ``sys.stderr`` as it is when a record is logged, not as it was when
    the handler was made: a caller that swaps stderr (a test's capture, a redirect) and closes the old
    one must not leave the process logging into a closed file."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _value: IO[str]) -> None:  # StreamHandler.__init__ assigns it; always sys.stderr
        pass


def configure_logging(verbose: bool, stream: IO[str] | None = None) -> None:
    """Warnings and errors on stderr; with ``verbose``, INFO of growthops and dbt too."""
    handler = logging.StreamHandler(stream) if stream is not None else _CurrentStderr()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:  # one per process
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in VERBOSE_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)


class Progress:
    """A ``progress(message)`` callback that renders live on a terminal, plain lines elsewhere."""

    def __init__(self, title: str, steps: int | None = None, *, file: IO[str] | None = None, live=None):
        from rich.console import Console

        self.title = title
        self.steps = steps
        self.console = Console(file=file or sys.stdout, highlight=False)
        self.live = self.console.is_terminal if live is None else live
        self.started = time.monotonic()
        self.done_steps: list[tuple[str, float]] = []
        self._step: str | None = None
        self._step_started = self.started
        self._bar = None
        self._task = None

    def __enter__(self) -> Progress:
        if self.live:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import Progress as LiveBar

            columns = [SpinnerColumn(), TextColumn("{task.description}", markup=False)]  # "[dbt]" is text
            if self.steps:
                columns += [BarColumn(bar_width=20), MofNCompleteColumn()]
            columns.append(TimeElapsedColumn())
            self._bar = LiveBar(*columns, console=self.console, transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self.title, total=self.steps)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._close_step(failed=exc_type is not None)
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def __call__(self, message: str) -> None:
        message = str(message).rstrip()
        if not message:
            return
        if message.startswith("[") or self._step is None:
            self._close_step()
            self._step, self._step_started = message, time.monotonic()
            self._show(message, None)
        else:
            self._show(self._step, message)

    def _show(self, step: str, detail: str | None) -> None:
        if self._bar is None:
            text = f"  {detail}" if detail else step
            self.console.print(f"[{self.elapsed():5.0f}s] {text}", markup=False, soft_wrap=True)
            return
        description = step if detail is None else f"{step} — {detail}"
        self._bar.update(self._task, description=description[: max(20, self.console.width - 40)])

    def _close_step(self, failed: bool = False) -> None:
        if self._step is None:
            return
        seconds = time.monotonic() - self._step_started
        self.done_steps.append((self._step, seconds))
        if self._bar is not None:
            mark = "FAILED" if failed else "done"
            self.console.print(f"{self._step} — {mark} ({seconds:.0f}s)", markup=False, soft_wrap=True)
            self._bar.advance(self._task)
        self._step = None

    def timings(self) -> str:
        """``ingest 12s, dbt 30s, …``: seconds per kind of step (``[ingest]`` …), for the summary."""
        per_kind: dict[str, float] = {}
        for step, seconds in self.done_steps:
            kind = step[1:].split("]", 1)[0] if step.startswith("[") else step.split()[0]
            per_kind[kind] = per_kind.get(kind, 0.0) + seconds
        return ", ".join(f"{kind} {seconds:.0f}s" for kind, seconds in per_kind.items())
