"""Benchmarks: ``python -m growthops.commands.bench`` (``make bench``).

Runs each stage in its own child process (so peak RSS is the stage's own, from
``resource.getrusage``), in order, against one scratch working directory, and prints wall time and
peak memory per stage; results also go to ``bench-results/<stage>.json``. The scratch directory is
deleted afterwards unless ``--keep``.

Stages are functions ``stage(ctx: BenchContext) -> dict`` registered in :data:`STAGES`; a later
stage (ingest, dbt) finds the exports of ``generate`` under ``ctx.landing``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from growthops.commands.bench_summary import summary_markdown

BYTES_PER_SCALE = 4e9  # CSV written by generate at scale 1.0 (2.7 GB measured), with headroom


@dataclass(frozen=True)
class BenchContext:
    workdir: Path
    scale: float
    start: date
    end: date
    seed: int

    @property
    def landing(self) -> Path:
        return self.workdir / "landing"


def _tree_size(root: Path) -> tuple[int, int]:
    files = size = 0
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            files += 1
            size += (Path(dirpath) / name).stat().st_size
    return files, size


def bench_generate(ctx: BenchContext) -> dict:
    from growthops.generate import generate

    def progress(message: str) -> None:
        print(f"  generate {message}", file=sys.stderr, flush=True)

    summary = generate(ctx.landing, ctx.start, ctx.end, ctx.scale, ctx.seed, progress=progress, clean=True)
    files, size = _tree_size(ctx.landing)
    return {
        "orders": summary["facts"]["orders"],
        "contacts": summary["facts"]["contacts_in_crm"],
        "campaigns": summary["facts"]["campaigns"],
        "rows": summary["totals"]["rows"],
        "files": files,
        "bytes": size,
    }


def as_if_loaded_day_by_day(settings: Any) -> int:
    """Date every backfilled batch's load the morning after its export day (raw rows, ledger,
    rejects), as if the history had been loaded by the daily DAGs; returns the batches re-dated.

    The incremental models rebuild what was loaded within ``fct_orders_lookback_days`` of the
    newest load they hold. A backfill loads three years in one moment, so the first daily run
    after it recomputes every order (a one-off); re-dating the history before the backfill's build
    makes the bench's "one day" the steady state of daily production: the new day's batches plus
    the lookback. The build, gate and publication do the same work either way.
    """
    from growthops.contracts import CONTRACTS
    from growthops.ingest.ledger import LEDGER_TABLE, REJECTS_TABLE
    from growthops.warehouse import connect

    morning_after = "cast({day} as timestamp) + interval 1 day + interval 2 hour"
    con = connect(settings.warehouse_path, settings=settings)
    try:
        con.execute("begin")
        for contract in CONTRACTS.values():
            con.execute(
                f"update {contract.raw_table} set _loaded_at = {morning_after.format(day='_batch_day')}"
            )
        con.execute(f"update {REJECTS_TABLE} set rejected_at = {morning_after.format(day='day')}")
        (batches,) = con.execute(
            f"""
            update {LEDGER_TABLE}
            set started_at = {morning_after.format(day="day")},
                finished_at = {morning_after.format(day="day")} + (finished_at - started_at)
            """
        ).fetchone()
        con.execute("commit")
    finally:
        con.close()
    return int(batches)


def fresh_pipeline_dirs(ctx: BenchContext) -> tuple[Path, Path]:
    """The pipeline stage's data root and Airflow home, emptied: a run on a kept workdir would
    otherwise find every batch loaded (ingest loads nothing) and the marts built (dbt runs
    incrementally), and time neither."""
    dirs = (ctx.workdir / "pipeline-data", ctx.workdir / "pipeline-airflow")
    for path in dirs:
        if path.exists():
            print(f"bench pipeline: removing the previous run's {path}", file=sys.stderr, flush=True)
            shutil.rmtree(path)
    return dirs


def bench_pipeline(ctx: BenchContext) -> dict:
    """Backfill ``start .. end-1`` and publish; then the daily path for ``end`` through Airflow.

    Reports the backfill wall time and the share of each stage (ingest with its raw gate, dbt,
    mart gate, publish), and the wall time of one day through Airflow: every source's ingest DAG
    and the transform DAG, run with ``dag.test()`` in one process (Airflow start-up included), in
    the steady state of daily production (:func:`as_if_loaded_day_by_day`).
    """
    from datetime import timedelta

    from growthops.build.dbt import MANIFEST_PATH
    from growthops.commands.backfill import publish_backfill, run_backfill
    from growthops.commands.bench_transform import transform_task_seconds
    from growthops.config import SOURCES, load_settings
    from growthops.orchestration.dags_test import dags_test_many

    if not MANIFEST_PATH.exists():  # the transform DAG renders from it: fail now, not after the backfill
        raise FileNotFoundError(f"dbt manifest not found at {MANIFEST_PATH}: run `make manifest` first")

    repo = Path(__file__).resolve().parents[3]
    data_dir, airflow_home = fresh_pipeline_dirs(ctx)
    env = {
        "GROWTHOPS_DATA_DIR": str(data_dir),
        "GROWTHOPS_LANDING_DIR": str(ctx.landing),
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(repo / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(repo / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    os.environ.update(env)
    settings = load_settings()

    def progress(message: str) -> None:
        print(f"  pipeline {message}", file=sys.stderr, flush=True)

    last = ctx.end - timedelta(days=1)
    t = time.perf_counter()
    result = run_backfill(settings, ctx.start, last, publish=False, progress=progress)
    backfill_seconds = time.perf_counter() - t
    progress(
        f"re-dated {as_if_loaded_day_by_day(settings):,} batches to the morning after their day (not timed)"
    )
    t = time.perf_counter()
    result = publish_backfill(settings, result, progress=progress)
    backfill_seconds += time.perf_counter() - t
    gx = sum(r.timings.get("gx_rows", 0) + r.timings.get("gx_files", 0) for r in result.loads.values())
    stages = {k: round(v, 1) for k, v in result.seconds.items()}
    progress(  # kept in the log even if the daily run below fails
        f"backfill {backfill_seconds:.1f} s, stages {stages}, raw gate GX {gx:.1f} s, "
        f"peak RSS MB after stage {dict(result.peak_rss_mb)}"
    )

    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([airflow, "db", "migrate"], env={**os.environ}, capture_output=True, check=True)
    subprocess.run(
        [sys.executable, "-m", "growthops.orchestration.airflow_setup"], capture_output=True, check=True
    )
    runs = [{"dag_id": f"growthops_ingest_{s}", "logical_date": ctx.end.isoformat()} for s in SOURCES] + [
        {"dag_id": "growthops_transform", "logical_date": ctx.end.isoformat()}
    ]
    t = time.perf_counter()
    daily = dags_test_many(runs, log_path=ctx.workdir / "pipeline-airflow.log")
    daily_seconds = time.perf_counter() - t
    if not all(r["ok"] for r in daily) or len(daily) < len(runs):
        raise RuntimeError(f"daily run failed: {daily}; log {ctx.workdir / 'pipeline-airflow.log'}")
    # the daily run's own process, its tasks and their in-process dbt builds included
    daily_peak_rss_mb = max((r.get("peak_rss_mb") or 0.0 for r in daily), default=0.0)
    transform_tasks = transform_task_seconds(airflow_home / "airflow.db")
    total = sum(result.seconds.values())
    return {
        "orders_rows_loaded": int(result.loads["orders"].rows_loaded),
        "fct_orders_rows": int(result.row_counts.get("fct_orders", 0)),
        "backfill_seconds": round(backfill_seconds, 1),
        "backfill_stage_seconds": stages,
        "backfill_peak_rss_mb_after_stage": dict(result.peak_rss_mb),
        "backfill_stage_share": {k: f"{v / total:.0%}" for k, v in result.seconds.items()},
        "raw_gate_gx_seconds_within_ingest": round(gx, 1),
        "mart_gate_gx_seconds_within_mart_gate": round(result.mart_gate_gx_seconds, 1),
        "daily_airflow_seconds": round(daily_seconds, 1),
        "daily_runs": {r["dag_id"]: round(r["seconds"], 1) for r in daily},
        "daily_transform_task_seconds": transform_tasks,
        "daily_peak_rss_mb": daily_peak_rss_mb,
        # the daily run process's peak so far after each DAG run: which run raised it
        "daily_peak_rss_mb_after_run": {r["dag_id"]: r.get("peak_rss_mb") for r in daily},
    }


FIXED_SCALE = 0.001  # ~9K orders over the bench's dates: what the runs cost whatever the data


def bench_fixed(ctx: BenchContext) -> dict:
    """The pipeline's fixed cost: :func:`bench_pipeline` (backfill, then one day through Airflow) on
    a world generated at :data:`FIXED_SCALE` over the same dates, in ``<workdir>/fixed``.

    Airflow's start-up and per-task work, the imports of Great Expectations and dbt, dbt's parse
    and its per-node work (hundreds of nodes, each compiled, run and recorded) cost the same at 9K
    orders as at 10M; what a run costs above this is what its data costs.
    """
    small = BenchContext(ctx.workdir / "fixed", FIXED_SCALE, ctx.start, ctx.end, ctx.seed)
    generated = bench_generate(small)
    pipe = bench_pipeline(small)
    keep = (
        "backfill_seconds",
        "backfill_stage_seconds",
        "daily_airflow_seconds",
        "daily_runs",
        "daily_transform_task_seconds",
    )
    return {"fixed_scale": FIXED_SCALE, "fixed_orders": generated["orders"], **{k: pipe[k] for k in keep}}


def bench_floor(ctx: BenchContext) -> dict:
    from growthops.commands.bench_floor import bench_floor as floor

    return floor(ctx)


def bench_transform(ctx: BenchContext) -> dict:
    from growthops.commands.bench_transform import bench_transform as transform

    return transform(ctx)


STAGES: dict[str, Callable[[BenchContext], dict]] = {
    "generate": bench_generate,
    "floor": bench_floor,
    "pipeline": bench_pipeline,
    "fixed": bench_fixed,
    "transform": bench_transform,
}


def run_stage(name: str, ctx: BenchContext) -> dict:
    """Run one stage in this process; return its metrics plus wall time and peak RSS."""
    started = time.perf_counter()
    metrics = STAGES[name](ctx)
    wall = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return {"stage": name, "wall_seconds": round(wall, 2), "peak_rss_mb": round(peak_kb / 1024, 1), **metrics}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m growthops.commands.bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--scale", type=float, default=1.0, help="generator scale (default 1.0 = 10M orders)")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2023, 1, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2025, 12, 31))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--stages", default=",".join(STAGES), help=f"comma-separated, from: {', '.join(STAGES)}"
    )
    parser.add_argument(
        "--workdir", type=Path, default=None, help="scratch directory (default: a new temp dir)"
    )
    parser.add_argument("--out", type=Path, default=Path("bench-results"), help="where results are written")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--run-stage", default=None, help=argparse.SUPPRESS)  # child mode
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.run_stage:  # child: run one stage, print its result as the last stdout line
        ctx = BenchContext(args.workdir, args.scale, args.start, args.end, args.seed)
        print(json.dumps(run_stage(args.run_stage, ctx)), flush=True)
        return 0

    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        print(f"unknown stage(s): {', '.join(unknown)}; known: {', '.join(STAGES)}", file=sys.stderr)
        return 2
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="growthops-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(workdir).free
    if "generate" in stages and free < BYTES_PER_SCALE * args.scale:
        print(
            f"not enough disk in {workdir}: {free / 1e9:.1f} GB free, need ~{BYTES_PER_SCALE * args.scale / 1e9:.1f} GB"
        )
        return 2
    ctx = BenchContext(workdir, args.scale, args.start, args.end, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    try:
        for stage in stages:
            print(
                f"bench {stage}: scale {args.scale:g}, {args.start}..{args.end}, workdir {workdir}",
                flush=True,
            )
            cmd = [sys.executable, "-m", "growthops.commands.bench", "--run-stage", stage]
            cmd += ["--workdir", str(workdir), "--scale", str(args.scale), "--seed", str(args.seed)]
            cmd += ["--start", args.start.isoformat(), "--end", args.end.isoformat()]
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
            if proc.returncode != 0:
                print(f"bench {stage} failed with exit code {proc.returncode}", file=sys.stderr)
                return proc.returncode or 1
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            result["context"] = {k: str(v) for k, v in asdict(ctx).items() if k != "workdir"}
            (args.out / f"{stage}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
            results[stage] = result
            extra = ", ".join(
                f"{k} {v:,}" for k, v in result.items() if isinstance(v, int) and k not in ("stage",)
            )
            print(
                f"bench {stage}: {result['wall_seconds']:.1f} s wall, peak RSS {result['peak_rss_mb']:,.0f} MB; {extra}",
                flush=True,
            )
        summary = summary_markdown(results)
        (args.out / "summary.md").write_text(summary, encoding="utf-8")
        (args.out / "summary.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(summary, flush=True)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
