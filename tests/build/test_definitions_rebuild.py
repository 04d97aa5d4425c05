"""An edited ``channel_mapping`` seed re-attributes every stored order in the next incremental
build (DECISIONLOG 80): on a copy of the published world and a copy of the dbt project whose seed
maps tiktok to meta_ads."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import duckdb
import pytest
from world import point_at

from growthops.build import dbt, definitions
from growthops.build.stage import build_marts
from growthops.config import Settings, load_settings
from growthops.failures import StageFailure

TIKTOK = "30,tiktok,%,tiktok_ads"


def _copy_project(source: Path, dest: Path) -> Path:
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    return dest


@pytest.fixture(scope="module")
def watermarked_world(copy_world, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(data root, dbt project): the published world rebuilt by a copy of the project without the
    late-update lookback. The world's batches were all loaded seconds ago, so any lookback would
    make every incremental run rebuild every row; without it a run rebuilds only what its inputs
    or its definition moved, as in production after the first days."""
    root = tmp_path_factory.mktemp("watermarked")
    project = _copy_project(dbt.DBT_PROJECT_DIR, root / "dbt_project")
    config = project / "dbt_project.yml"
    text = config.read_text(encoding="utf-8")
    assert "  fct_orders_lookback_days: 3\n" in text
    config.write_text(
        text.replace("  fct_orders_lookback_days: 3\n", "  fct_orders_lookback_days: 0\n"), encoding="utf-8"
    )
    data = copy_world(root / "data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(dbt, "DBT_PROJECT_DIR", project)
        point_at(mp, data)
        build_marts(load_settings())  # a var changed: every incremental model is rebuilt in full
    return data, project


@pytest.fixture
def edited_world(watermarked_world, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A copy of the watermarked world and its project; the project's seed sends tiktok to meta_ads."""
    data, project = watermarked_world
    project = _copy_project(project, tmp_path / "dbt_project")
    mapping = project / "seeds" / "channel_mapping.csv"
    text = mapping.read_text(encoding="utf-8")
    assert TIKTOK in text
    mapping.write_text(text.replace(TIKTOK, "30,tiktok,%,meta_ads"), encoding="utf-8")
    monkeypatch.setattr(dbt, "DBT_PROJECT_DIR", project)
    shutil.copytree(data, tmp_path / "data")
    point_at(monkeypatch, tmp_path / "data")
    return load_settings()


def _orders_by_channel(settings: Settings) -> dict[str, int]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.execute("select channel, count(*) from marts.fct_orders group by channel").fetchall()
    return dict(rows)


def test_an_edited_channel_mapping_reattributes_the_stored_orders(edited_world, caplog):
    before = _orders_by_channel(edited_world)
    assert before["tiktok_ads"] > 0

    with caplog.at_level(logging.INFO, logger="growthops"):
        build_marts(edited_world)  # its attribution test compares every order with its contact

    after = _orders_by_channel(edited_world)
    assert "tiktok_ads" not in after
    assert after["meta_ads"] == before["meta_ads"] + before["tiktok_ads"]
    assert {c: n for c, n in after.items() if c != "meta_ads"} == {
        c: n for c, n in before.items() if c not in ("meta_ads", "tiktok_ads")
    }
    # the four incremental models below the seed, and only they, were rebuilt in full
    rebuilt = [r.getMessage() for r in caplog.records if "rebuilding in full" in r.getMessage()]
    assert rebuilt == [
        "dbt: rebuilding in full fct_orders (channel_mapping); int_customer_segments_dated (channel_mapping); "
        "int_messages_converted (channel_mapping); int_orders_attributed (channel_mapping): "
        "their definition changed since the build of their rows"
    ]
    # and the record now holds the edited definitions: the next build is incremental throughout
    manifest = dbt._parsed_manifest(edited_world)
    assert definitions.plan(edited_world, manifest, dbt.project_vars(edited_world)).changed == {}


def test_kept_incremental_the_stale_attribution_stops_the_build(edited_world):
    """The hole this closes: recorded as built (so nothing is rebuilt in full), the stored orders
    keep tiktok_ads and the attribution test fails the build."""
    manifest = dbt._parsed_manifest(edited_world)
    plan = definitions.plan(edited_world, manifest, dbt.project_vars(edited_world))
    definitions.record(edited_world, plan, plan.current)

    with pytest.raises(StageFailure) as failure:
        build_marts(edited_world)
    assert "assert_order_attribution_matches_contacts" in Path(failure.value.report_path).read_text(
        encoding="utf-8"
    )
