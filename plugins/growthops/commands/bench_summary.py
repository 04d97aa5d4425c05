"""The summary ``make bench`` prints and writes to ``bench-results/summary.md``: a table of the
stages, then the lines that compare them (the pipeline against the floor, the fixed cost)."""

from __future__ import annotations


def summary_markdown(results: dict[str, dict]) -> str:
    """The stages as a table (wall seconds, peak RSS), then the lines that compare them."""
    rows = [("stage", "wall s", "peak RSS MB")]
    rows += [(r["stage"], f"{r['wall_seconds']:.1f}", f"{r['peak_rss_mb']:,.0f}") for r in results.values()]
    lines = ["| " + " | ".join(r) + " |" for r in rows]
    lines.insert(1, "|---|---:|---:|")
    pipe, floor = results.get("pipeline"), results.get("floor")
    if pipe:
        lines += _pipeline_lines(pipe)
    if floor:
        lines.append(f"- floor (hand-written DuckDB SQL): {floor['floor_seconds']:.1f} s")
    if pipe and floor and floor["floor_seconds"]:
        lines.append(f"- **pipeline/floor: {pipe['backfill_seconds'] / floor['floor_seconds']:.1f}x**")
    lines += _fixed_lines(results.get("fixed"), pipe, floor)
    lines += _transform_lines(results.get("transform") or {})
    return "\n".join(lines) + "\n"


def _pipeline_lines(pipe: dict) -> list[str]:
    """The backfill by stage (seconds, share, peak RSS; GX within the gates) and the day through Airflow."""
    # the process's peak RSS when the stage ended: the stage that raised it shows the jump
    peaks = pipe.get("backfill_peak_rss_mb_after_stage", {})
    lines = ["", "| backfill stage | seconds | share | peak RSS MB at its end |", "|---|---:|---:|---:|"]
    for k, v in pipe["backfill_stage_seconds"].items():
        peak = f"{peaks[k]:,.0f}" if k in peaks else ""
        lines.append(f"| {k} | {v:.1f} | {pipe['backfill_stage_share'][k]} | {peak} |")
    gx = {"raw gate": pipe["raw_gate_gx_seconds_within_ingest"]}
    if "mart_gate_gx_seconds_within_mart_gate" in pipe:  # results written before it was measured lack it
        gx["mart gate"] = pipe["mart_gate_gx_seconds_within_mart_gate"]
        gx["raw and mart gate"] = sum(gx.values())
    for where, seconds in gx.items():
        lines.append(
            f"| of which GX ({where}) | {seconds:.1f} | {seconds / pipe['backfill_seconds']:.0%} | |"
        )
    lines += ["", f"- backfill: {pipe['backfill_seconds']:.1f} s",
              f"- one day through Airflow (every ingest DAG + transform, steady state): {pipe['daily_airflow_seconds']:.1f} s "
              f"({', '.join(f'{k} {v:.1f}' for k, v in pipe['daily_runs'].items())})"]  # fmt: skip
    if pipe.get("daily_peak_rss_mb"):
        after = pipe.get("daily_peak_rss_mb_after_run") or {}
        runs = ", ".join(f"{k.removeprefix('growthops_')} {v:,.0f}" for k, v in after.items() if v)
        lines.append(
            f"- peak RSS of the daily run (its process, dbt builds included): {pipe['daily_peak_rss_mb']:,.0f} MB"
            + (f" (so far, after each DAG run: {runs})" if runs else "")
        )
    if pipe.get("daily_transform_task_seconds"):
        tasks = ", ".join(f"{k} {v:.1f}" for k, v in pipe["daily_transform_task_seconds"].items())
        lines.append(f"- the day's transform DAG by task (s): {tasks}")
    return lines


def _transform_lines(transform: dict) -> list[str]:
    """Stage ``transform``: the transform DAG alone, by step, and its process's peak RSS."""
    lines = []
    for key, value in transform.items():
        if key.endswith("_seconds") and key != "wall_seconds":
            name = key.removesuffix("_seconds")
            ok = "" if transform.get(f"{name}_ok", True) else " (FAILED, see its log)"
            lines.append(f"- transform DAG, {name.replace('_', ' ')}: {value:.1f} s{ok}")
    if transform.get("transform_dag_peak_rss_mb"):
        lines.append(
            f"- transform DAG alone, peak RSS of its process: {transform['transform_dag_peak_rss_mb']:,.0f} MB"
        )
    return lines


def _fixed_lines(fixed: dict | None, pipe: dict | None, floor: dict | None) -> list[str]:
    """The fixed cost (stage ``fixed``) and, beside the full-size run, what is left above it."""
    if not fixed:
        return []
    tasks = ", ".join(f"{k} {v:.1f}" for k, v in fixed["daily_transform_task_seconds"].items())
    lines = [
        f"- fixed cost, the same runs on a world of {fixed['fixed_orders']:,} orders (scale {fixed['fixed_scale']:g}): "
        f"backfill {fixed['backfill_seconds']:.1f} s, one day through Airflow {fixed['daily_airflow_seconds']:.1f} s "
        f"({', '.join(f'{k} {v:.1f}' for k, v in fixed['daily_runs'].items())})"
        + (f"; its transform DAG by task (s): {tasks}" if tasks else "")
    ]  # fmt: skip
    if pipe:
        daily = pipe["daily_airflow_seconds"]
        above = daily - fixed["daily_airflow_seconds"]
        lines.append(
            f"- one day through Airflow above the fixed cost: {above:.1f} s of {daily:.1f} s "
            f"({max(above, 0.0) / daily:.0%})"
        )
        if floor and floor["floor_seconds"]:
            backfill_above = pipe["backfill_seconds"] - fixed["backfill_seconds"]
            lines.append(
                f"- backfill above the fixed cost: {backfill_above:.1f} s = "
                f"{backfill_above / floor['floor_seconds']:.1f}x the floor"
            )
    return lines
