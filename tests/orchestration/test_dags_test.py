"""The DAG-run process reports its own peak memory, not the size of the process it came from."""

from __future__ import annotations

import subprocess
import sys


def test_the_daily_runs_peak_memory_is_its_own_not_its_parents():
    # a parent of 400 MB starts a small child, as the bench's pipeline stage (the backfill still in
    # memory) starts the daily run: the child's ru_maxrss carries the parent's size across exec,
    # its VmHWM does not; then the child itself grows by 200 MB, which VmHWM sees
    child = (
        "import resource\n"
        "from growthops.orchestration.dags_test import peak_rss_mb\n"
        "before = peak_rss_mb()\n"
        "b = bytearray(200 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, before, peak_rss_mb())\n"
    )
    parent = (
        "import subprocess, sys\n"
        "b = bytearray(400 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])\n"
        f"print(subprocess.run([sys.executable, '-c', {child!r}], capture_output=True, text=True, check=True).stdout)\n"
    )
    out = subprocess.run([sys.executable, "-c", parent], check=True, capture_output=True, text=True).stdout
    inherited_maxrss, before, after = (float(x) for x in out.split())
    assert inherited_maxrss >= 400  # what a child of a large process reports as its ru_maxrss
    assert before < 100 and 200 <= after < 300
