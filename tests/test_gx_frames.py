"""Letting go of validated frames: the collection runs only after large frames."""

from __future__ import annotations

import gc

from growthops import gx_frames


class _Sources:
    def __init__(self, names: set[str]) -> None:
        self.names = names

    def delete(self, name: str) -> None:
        self.names.remove(name)  # KeyError for a datasource that is not there


class _Context:
    def __init__(self, *names: str) -> None:
        self.data_sources = _Sources(set(names))


def test_drop_datasource_deletes_it_and_tolerates_one_never_added():
    context = _Context("a", "b")
    gx_frames.drop_datasource(context, "a")
    gx_frames.drop_datasource(context, "never-added")
    assert context.data_sources.names == {"b"}


def test_release_frames_collects_only_after_large_frames(monkeypatch):
    collections: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda *a: collections.append(1) or 0)
    gx_frames.release_frames(gx_frames.COLLECT_FROM_ROWS - 1)
    assert collections == []
    gx_frames.release_frames(gx_frames.COLLECT_FROM_ROWS)
    assert collections == [1]
