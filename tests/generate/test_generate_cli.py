"""``growthops generate`` command line: flags, help, default landing, errors."""

from __future__ import annotations

import argparse
import json

import pytest

from growthops import generate as gen


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="growthops generate")
    gen.add_arguments(parser)
    return parser.parse_args(argv)


def test_help_documents_scale_and_flags(capsys):
    with pytest.raises(SystemExit):
        parse(["--help"])
    out = capsys.readouterr().out
    for flag in ("--landing", "--start", "--end", "--scale", "--seed", "--defects", "--clean", "--quiet"):
        assert flag in out
    assert "10M orders" in out and "2023-01-01" in out and "_generated.json" in out


def test_run_writes_and_prints_summary(tmp_path, capsys):
    landing = tmp_path / "landing"
    code = gen.run(parse(["--landing", str(landing), "--start", "2025-01-01", "--end", "2025-01-20",
                          "--scale", "0.002", "--seed", "3", "--defects"]))  # fmt: skip
    assert code == 0
    captured = capsys.readouterr()
    assert "generated 2025-01-01..2025-01-20 (scale 0.002, seed 3)" in captured.out
    assert "defects" in captured.out
    assert "[" in captured.err and "done" in captured.err  # progress lines on stderr
    summary = json.loads((landing / gen.SUMMARY_NAME).read_text(encoding="utf-8"))
    assert summary["args"] == {
        "start": "2025-01-01",
        "end": "2025-01-20",
        "scale": 0.002,
        "seed": 3,
        "defects": True,
    }
    assert len(summary["files"]) == 20 * 8  # 3 platforms, crm, orders, fx, messages, costs
    assert f"{summary['totals']['rows']:,} rows" in captured.out


def test_default_landing_comes_from_settings(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path / "data"))
    assert (
        gen.run(parse(["--start", "2025-01-01", "--end", "2025-01-03", "--scale", "0.002", "--quiet"])) == 0
    )
    assert capsys.readouterr().err == ""
    assert (tmp_path / "data" / "landing" / gen.SUMMARY_NAME).is_file()
    assert (tmp_path / "data" / "landing" / "orders" / "2025-01-03" / "orders.csv").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--start", "2025-02-01", "--end", "2025-01-01"], "before start"),
        (["--scale", "0"], "scale must be"),
        (["--landing", "s3://bucket/landing"], "local folder"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(tmp_path, capsys, argv, message):
    if "--landing" not in argv:
        argv = ["--landing", str(tmp_path / "landing"), *argv]
    assert gen.run(parse([*argv, "--quiet"])) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "landing" / gen.SUMMARY_NAME).exists()


def test_bad_date_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit):
        parse(["--start", "2025-13-01"])
    assert "YYYY-MM-DD" in capsys.readouterr().err
