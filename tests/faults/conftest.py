"""The fault suite (marker ``faults``, ``make test-faults``): real faults, not injected ones — a
small filesystem that fills up, processes killed with SIGKILL, files truncated on disk. Filling a
disk needs a private tmpfs: root and a working ``mount`` (CI runs as root); otherwise those tests
are skipped, saying why. Injected variants of the same faults, which need no privileges, live in
tests/serve/test_faults.py and tests/serve/test_publish_concurrency.py."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from ingest.conftest import DAY, Landing, orders_csv

from growthops.config import Settings, load_settings

__all__ = ["DAY", "orders_csv"]


def put(settings: Settings, source: str, name: str, text: str, day: date = DAY) -> Path:
    """Deliver an export file into landing (aged, so it counts as finished)."""
    return Landing(settings).put(source, name, text, day=day)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _mount_skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "filling a disk needs a private tmpfs mount: run as root (CI does)"
    if shutil.which("mount") is None or shutil.which("umount") is None:
        return "no mount/umount command"
    return None


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A 48 MB tmpfs mounted under the test's tmp dir (skipped, saying why, where it cannot be)."""
    reason = _mount_skip_reason()
    if reason:
        pytest.skip(reason)
    mountpoint = tmp_path / "small-disk"
    mountpoint.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mountpoint)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def fill(disk: Path, leave_bytes: int) -> Path:
    """Fill ``disk`` up to ``leave_bytes`` free; delete the returned file to free it again."""
    stat = os.statvfs(disk)
    ballast = disk / "ballast"
    with ballast.open("wb") as fh:
        fh.truncate(0)
        fh.write(b"\0" * max(stat.f_bavail * stat.f_frsize - leave_bytes, 0))
    return ballast


@pytest.fixture
def settings_on(monkeypatch):
    """``settings_on(root)``: the data root (landing, warehouse, runs) at ``root``."""

    def _on(root: Path) -> Settings:
        monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(root))
        monkeypatch.setenv("GX_ANALYTICS_ENABLED", "False")
        return load_settings()

    return _on
