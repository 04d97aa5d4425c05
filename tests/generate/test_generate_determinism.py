"""Same seed and arguments -> byte-identical files; summary counts are exact."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

from growthops.generate import SUMMARY_NAME, generate

ARGS = {"start": date(2024, 12, 20), "end": date(2025, 2, 10), "scale": 0.005}


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a = generate(tmp_path / "a", seed=11, **ARGS)
    b = generate(tmp_path / "b", seed=11, **ARGS)
    c = generate(tmp_path / "c", seed=12, **ARGS)
    assert a == b
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")
    assert tree_digest(tmp_path / "a") != tree_digest(tmp_path / "c")
    # a different seed changes the data, not the layout
    assert set(a["files"]) == set(c["files"])
    assert a["files"] != c["files"]


def test_rerun_into_same_landing_is_identical_and_clean_removes_stale_days(tmp_path):
    landing = tmp_path / "landing"
    generate(landing, seed=1, **ARGS)
    first = tree_digest(landing)
    generate(landing, seed=1, **ARGS)
    assert tree_digest(landing) == first
    generate(landing, seed=1, start=date(2025, 3, 1), end=date(2025, 3, 5), scale=0.005, clean=True)
    assert sorted(p.name for p in (landing / "orders").iterdir()) == [f"2025-03-0{d}" for d in range(1, 6)]


def test_summary_counts_equal_file_line_counts(small_run):
    landing, summary = small_run
    assert json.loads((landing / SUMMARY_NAME).read_text(encoding="utf-8")) == summary
    for rel, rows in summary["files"].items():
        text = (landing / rel).read_bytes()
        assert text.endswith(b"\n")
        assert text.count(b"\n") - 1 == rows, rel  # no field contains a newline; header = 1 line
    for source, info in summary["sources"].items():
        files = {k: v for k, v in summary["files"].items() if k.startswith(source + "/")}
        assert (
            info["files"] == len(files) and info["rows"] == sum(files.values()) == summary["totals"][source]
        )
        per_day_total = sum(sum(v.values()) if isinstance(v, dict) else v for v in info["per_day"].values())
        assert per_day_total == info["rows"]
    assert summary["totals"]["rows"] == sum(summary["files"].values())
    assert summary["sources"]["channel"]["per_day"]["2025-02-01"] == {
        p: summary["files"][f"channel/2025-02-01/{p}.csv"] for p in ("google_ads", "meta_ads", "tiktok_ads")
    }
    assert summary["args"] == {
        "start": "2025-01-01",
        "end": "2025-04-30",
        "scale": 0.02,
        "seed": 7,
        "defects": False,
    }
    assert summary["facts"]["order_rows"] == summary["totals"]["orders"]


def test_messages_costs_and_planted_truth_are_deterministic(tmp_path):
    args = {"start": date(2025, 1, 1), "end": date(2025, 5, 31), "scale": 0.005}
    a = generate(tmp_path / "a", seed=11, **args)
    b = generate(tmp_path / "b", seed=11, **args)
    c = generate(tmp_path / "c", seed=12, **args)
    assert a == b and len(a["recall_campaigns"]) == 3  # the last one immature
    for source in ("messages", "costs"):
        assert tree_digest(tmp_path / "a" / source) == tree_digest(tmp_path / "b" / source)
        assert tree_digest(tmp_path / "a" / source) != tree_digest(tmp_path / "c" / source)
    assert a["recall_campaigns"] != c["recall_campaigns"]
    assert [r["campaign_id"] for r in a["recall_campaigns"]] == [
        r["campaign_id"] for r in c["recall_campaigns"]
    ]
