"""Landing problems that refuse a load before anything is read: the same words for every command.

- a day folder dated after today (an exporter with a fast clock) is never loaded: clock skew;
- a file in a source's day folder that no declared pattern accepts may be the day's export under
  another name (``orders (1).csv``), so a load of that day is refused unless ``[ingest]
  ignore_unexpected_files`` says such files are known noise.

``growthops ingest`` loads the rest and exits 1; ``growthops backfill`` (and its DAG) refuses the
whole range before loading anything (:func:`refuse_range`), since it publishes at the end.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from growthops import next_steps
from growthops.config import Settings
from growthops.ingest.landing import UnexpectedFile, daterange, future_days, unexpected_files


def today(settings: Settings, now: datetime | None = None) -> date:
    """The latest calendar day anywhere the exports may come from (reporting timezone or UTC)."""
    now = now or datetime.now(UTC)
    return max(now.date(), now.astimezone(ZoneInfo(settings.reporting_timezone)).date())


def clock_skew_message(source: str, days: list[date], last_day: date) -> str:
    shown = ", ".join(d.isoformat() for d in days[:5]) + (
        f" (+{len(days) - 5} more)" if len(days) > 5 else ""
    )
    return (
        f"{source}: REFUSED day folder(s) dated after today ({last_day}): {shown} — clock skew at the exporter? "
        "Not loaded. Check the exporter's clock, rename the folder to the export's real day, then ingest it."
    )


def range_problems(
    settings: Settings, sources: tuple[str, ...], start: date, end: date, last_day: date
) -> tuple[dict[str, list[date]], list[UnexpectedFile]]:
    """Future day folders per source inside ``[start, end]``, and the unexpected files up to today
    (none when ``ignore_unexpected_files`` is set)."""
    future = {s: [d for d in future_days(settings, s, last_day) if start <= d <= end] for s in sources}
    unexpected = []
    if not settings.ignore_unexpected_files:
        unexpected = [
            u
            for s in sources
            for d in daterange(start, min(end, last_day))
            for u in unexpected_files(settings, s, d)
        ]
    return {s: days for s, days in future.items() if days}, unexpected


def refuse_range(settings: Settings, sources: tuple[str, ...], start: date, end: date) -> None:
    """Raise :class:`~growthops.failures.StageFailure` (report written) if ``[start, end]`` holds a
    future day folder or an unexpected file of ``sources``; nothing has been loaded then."""
    from growthops.failures import StageFailure
    from growthops.reports import Check, report_failure

    last_day = today(settings)
    future, unexpected = range_problems(settings, sources, start, end, last_day)
    if not future and not unexpected:
        return
    lines, checks, commands = [], [], []
    for source, days in future.items():
        lines.append(clock_skew_message(source, days, last_day))
        checks.append(
            Check(
                "future_day", [d.isoformat() for d in days], f"days up to {last_day}", f"{source}: clock skew"
            )
        )
        commands += next_steps.future_day(source, days[0].isoformat())
    for u in unexpected:
        lines.append(f"UNEXPECTED FILE {u.describe()}")
        checks.append(Check("unexpected_file", u.rel_path, f"a name matching {u.accepted}", "not loaded"))
        commands += next_steps.unexpected_file(u.source, u.day.isoformat(), u.rel_path, u.accepted)
    summary = f"{start} .. {end}: refused before loading anything: " + "; ".join(lines)
    path = report_failure(
        "contract mismatch",
        summary,
        checks=checks,
        commands=[*dict.fromkeys(commands), next_steps.status()],
        details={"problems": lines},
    )
    raise StageFailure("\n".join(lines), path)
