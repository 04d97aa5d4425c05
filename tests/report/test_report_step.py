"""The report step of ``growthops backfill`` and ``replay`` after they publish."""

from __future__ import annotations

from conftest import SECOND_RUN

from growthops.config import load_settings


def test_report_step_builds_the_served_version_and_names_its_page(env):
    from growthops.commands.report import report_line_after_publication

    steps: list[str] = []
    line = report_line_after_publication(env, steps.append)
    page = env.data_dir / "reports" / SECOND_RUN / "index.html"
    assert line == f"report: {page}"
    assert steps == ["[report] growth report of the published version"]
    assert page.read_bytes() == (env.data_dir / "reports" / "latest" / "index.html").read_bytes()


def test_report_step_never_fails_the_publication(tmp_path, monkeypatch):
    from growthops.commands.report import report_line_after_publication

    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path / "nothing-published"))
    line = report_line_after_publication(load_settings(), lambda _m: None)
    assert line.startswith("report: not built (the publication stands")
    assert line.endswith("retry: growthops report")
    assert not (tmp_path / "nothing-published" / "reports").exists()
