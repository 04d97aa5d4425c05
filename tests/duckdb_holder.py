"""Another process holding a DuckDB file read-write (a load, a stuck task, a careless analyst).

Importable from every test folder (``tests/`` is on ``sys.path`` through the root conftest).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOLDER = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1])
if sys.argv[3]:
    con.execute(sys.argv[3])
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


@contextmanager
def held_read_write(path: Path, *, seconds: float = 120, statement: str = "") -> Iterator[subprocess.Popen]:
    """A child process opens ``path`` read-write (DuckDB's file lock), runs ``statement`` if any and
    holds the file for ``seconds`` or until the block ends; yields the process (its PID is the one
    lock errors name)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(seconds), statement], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "locked", f"the process holding {path} did not start"
        yield proc
    finally:
        proc.kill()
        proc.wait()
