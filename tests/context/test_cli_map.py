"""``uet map`` on the fixture repository, as a real subprocess: the map of its most
referenced file, the token budget, ``--json``, the cache under ``.uet/``, a progress bar on
a terminal for a cold build (and none on a pipe), and a folder that is not one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.context.repo_fixture import MOST_REFERENCED, build_fixture_repo
from tests.terminal import run_on_terminal, terminal_env
from uet.context.tokens import count_tokens


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture_repo(tmp_path_factory.mktemp("map") / "repo")


def _uet(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uet", *args],
        cwd=cwd,
        env=terminal_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_map_shows_the_most_referenced_file(repo: Path) -> None:
    result = _uet("map", str(repo), cwd=repo.parent)
    assert result.returncode == 0, result.stderr
    assert MOST_REFERENCED in result.stdout and "class Inventory" in result.stdout
    assert result.stderr == ""  # no bar on a pipe, nothing else to say
    assert (repo / ".uet" / "repomap.db").is_file()
    again = _uet("map", cwd=repo)  # DIR defaults to the current folder; warm this time
    assert again.returncode == 0 and again.stdout == result.stdout


@pytest.mark.parametrize("tokens", [40, 120])
def test_the_map_fits_the_budget(repo: Path, tokens: int) -> None:
    full = _uet("map", str(repo), "--tokens", "4096", cwd=repo)
    small = _uet("map", str(repo), "--tokens", str(tokens), cwd=repo)
    assert small.returncode == 0, small.stderr
    assert 0 < count_tokens(small.stdout) <= tokens < count_tokens(full.stdout)


def test_json(repo: Path) -> None:
    result = _uet("map", str(repo), "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert MOST_REFERENCED in json.dumps(json.loads(result.stdout))


def test_focus_leaves_the_focused_file_out(repo: Path) -> None:
    result = _uet("map", "--focus", MOST_REFERENCED, "--tokens", "4096", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "app/service.py" in result.stdout
    assert "class Inventory" not in result.stdout


def test_not_a_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = _uet("map", str(tmp_path / "missing"), cwd=tmp_path)
    assert result.returncode == 2
    assert "not a directory" in result.stderr and result.stdout == ""


def test_a_bad_budget_is_a_usage_error(tmp_path: Path) -> None:
    result = _uet("map", "--tokens", "0", cwd=tmp_path)
    assert result.returncode == 2 and "positive" in result.stderr


def test_a_cold_build_shows_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    repo = build_fixture_repo(tmp_path / "big")
    for number in range(80):
        (repo / f"module{number}.py").write_text(f"def function{number}():\n    pass\n", "utf-8")
    code, output = run_on_terminal(
        [sys.executable, "-m", "uet", "map", str(repo)], cwd=tmp_path, env=terminal_env()
    )
    assert code == 0, output
    assert "parsing" in output and "class Inventory" in output
    code, quiet = run_on_terminal(
        [sys.executable, "-m", "uet", "map", "-q", str(repo)], cwd=tmp_path, env=terminal_env()
    )
    assert code == 0 and "parsing" not in quiet  # warm, and quiet anyway


def test_a_workspace_that_cannot_keep_the_cache_still_gets_its_map(tmp_path: Path) -> None:
    repo = build_fixture_repo(tmp_path / "repo")
    (repo / ".uet").write_text("a file where the state folder goes\n", "utf-8")
    result = _uet("map", str(repo), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "class Inventory" in result.stdout
    assert "not cached" in result.stderr
