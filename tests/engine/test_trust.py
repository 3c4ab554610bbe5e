"""Trust answers are remembered per workspace, outside the workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

from uet.engine.trust import remember_trust, trust_file, trusted


def test_answers_are_remembered_per_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    assert trusted(first) is None
    remember_trust(first, True)
    remember_trust(second, False)
    assert trusted(first) is True and trusted(second) is False
    assert trust_file().is_relative_to(tmp_path / "state")
    assert not any(path.name == "trust.json" for path in first.rglob("*"))


def test_a_corrupt_file_means_nothing_was_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    trust_file().parent.mkdir(parents=True)
    trust_file().write_text("{not json", "utf-8")
    assert trusted(tmp_path) is None
    remember_trust(tmp_path, True)
    assert trusted(tmp_path) is True
