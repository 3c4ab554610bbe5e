"""Discovery on real fixture folders: languages, markers, ignore rules, symlinks, git."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.bootstrap import support
from uet.artifacts.files import FileEntry, ListingOptions, list_files
from uet.bootstrap import ScanOptions, WorkspaceError, scan_workspace
from uet.bootstrap.discovery import _read_files


def test_python_library_languages_lines_markers_and_dependencies(tmp_path: Path) -> None:
    root = support.python_library(tmp_path / "lib")
    search = support.tool_path(tmp_path / "bin", real=("git",), stubs=("ruff",))
    discovery = scan_workspace(
        root, ScanOptions(search_path=search, executables=("git", "ruff", "mypy"))
    )

    assert discovery.listing_mode == "git"
    assert discovery.project_name == "tinylib"
    python = next(stat for stat in discovery.languages if stat.language == "Python")
    assert (python.files, python.lines) == (2, 11)
    assert sum(stat.percentage for stat in discovery.languages) == pytest.approx(100, abs=0.1)
    assert discovery.paths_of("pyproject") == ("pyproject.toml",)
    assert discovery.paths_of("python_test_dirs") == ("tests",)
    assert discovery.paths_of("src_dirs") == ("src",)
    assert discovery.paths_of("git") == (".",)
    assert {"pytest", "ruff", "mypy"} <= discovery.dependencies
    assert sorted(discovery.executables) == ["git", "ruff"]
    assert discovery.vcs is not None and discovery.vcs.branch == "main"


def test_content_probes_find_dags_playbooks_and_sphinx(tmp_path: Path) -> None:
    support.dbt_project(tmp_path)
    support.terraform_ansible(tmp_path)
    support.write(
        tmp_path, {"docs/conf.py": "project = 'x'\nextensions = ['sphinx.ext.autodoc']\n"}
    )
    support.write(
        tmp_path, {"k8s/app.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {}\n"}
    )
    discovery = scan_workspace(tmp_path)

    assert discovery.paths_of("airflow_dag") == ("dags/daily_refresh.py",)
    assert discovery.paths_of("ansible_playbook") == ("ansible/site.yml",)
    assert discovery.paths_of("sphinx") == ("docs/conf.py",)
    assert discovery.paths_of("kubernetes") == ("k8s/app.yaml",)
    assert discovery.paths_of("terraform") == ("infra/main.tf", "infra/outputs.tf")
    assert discovery.paths_of("dbt_project") == ("dbt_project.yml",)
    assert discovery.paths_of("sql_dirs") == ("macros", "models", "tests")


def test_walk_honours_nested_gitignore_and_skips_vendored_folders(tmp_path: Path) -> None:
    support.write(
        tmp_path,
        {
            ".gitignore": "*.log\nbuild-output/\n",
            "keep.py": "x = 1\n",
            "debug.log": "noise\n",
            "build-output/a.py": "x = 1\n",
            "sub/.gitignore": "!important.log\nlocal.txt\n",
            "sub/important.log": "kept by negation\n",
            "sub/local.txt": "ignored below\n",
            "node_modules/pkg/index.js": "module.exports = 1\n",
            "env1/pyvenv.cfg": "home = /usr\n",
            "env1/lib/site.py": "x = 1\n",
        },
    )
    listing = list_files(tmp_path, ListingOptions(use_git=False))

    assert [entry.path for entry in listing.files] == [
        ".gitignore",
        "keep.py",
        "sub/.gitignore",
        "sub/important.log",
    ]
    assert listing.mode == "walk"
    assert listing.skipped.ignored == 3
    assert listing.skipped.vendored == 2


@pytest.mark.parametrize("use_git", [False, True], ids=["walk", "git"])
def test_the_scan_also_skips_build_output(tmp_path: Path, use_git: bool) -> None:
    support.write(
        tmp_path, {"main.py": "x = 1\n", "build/lib/main.py": "x = 1\n", "dist/x.js": "1\n"}
    )
    if use_git:
        support.git_repository(tmp_path)
    discovery = scan_workspace(tmp_path, ScanOptions(use_git=use_git))
    assert discovery.files == ("main.py",)
    assert discovery.listing_mode == ("git" if use_git else "walk")


def test_git_repository_with_5000_ignored_files_lists_only_project_files(tmp_path: Path) -> None:
    root = support.ignored_repository(tmp_path / "repo", count=5000)
    support.write(root, {"notes/todo.md": "untracked but not ignored\n"})
    by_git = scan_workspace(root)
    by_walk = scan_workspace(root, ScanOptions(use_git=False))

    assert by_git.listing_mode == "git"
    assert by_git.files == by_walk.files
    assert "notes/todo.md" in by_git.files
    assert not any(
        path.endswith((".log",)) or path.startswith("generated/") for path in by_git.files
    )
    assert len(by_git.files) == 7
    assert by_git.vcs is not None and by_git.vcs.untracked == 1


def test_symlink_loop_and_links_out_of_the_workspace_are_not_followed(tmp_path: Path) -> None:
    root = support.symlink_hazards(tmp_path / "ws", tmp_path / "outside")
    for use_git in (False, True):
        discovery = scan_workspace(root, ScanOptions(use_git=use_git))
        assert discovery.files == ("notes.txt",)
        messages = {problem.path: problem.message for problem in discovery.problems}
        assert "loop" in messages["loop_a"]
        assert "outside" in messages["to_root"]
        assert "outside" in messages["outside_file.py"]
        assert discovery.skipped.symlinks_outside == 2


def test_symlink_to_a_file_inside_the_workspace_is_kept(tmp_path: Path) -> None:
    support.write(tmp_path, {"real/module.py": "x = 1\n"})
    (tmp_path / "alias.py").symlink_to(tmp_path / "real" / "module.py")
    discovery = scan_workspace(tmp_path, ScanOptions(use_git=False))
    assert discovery.files == ("alias.py", "real/module.py")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_and_folder_are_problems_not_crashes(tmp_path: Path) -> None:
    support.write(tmp_path, {"ok.py": "x = 1\n", "secret.py": "y = 2\n", "locked/a.py": "z\n"})
    (tmp_path / "secret.py").chmod(0)
    (tmp_path / "locked").chmod(0)
    try:
        discovery = scan_workspace(tmp_path, ScanOptions(use_git=False))
    finally:
        (tmp_path / "secret.py").chmod(0o644)
        (tmp_path / "locked").chmod(0o755)
    paths = {problem.path for problem in discovery.problems}
    assert {"secret.py", "locked"} <= paths
    assert "ok.py" in discovery.files


def test_a_file_vanishing_during_the_scan_is_a_problem(tmp_path: Path) -> None:
    support.write(tmp_path, {"here.py": "x = 1\n"})
    entries = [FileEntry("here.py", 6), FileEntry("gone.py", 6)]
    reading = _read_files(tmp_path, entries, (), None)
    assert reading.language_lines["Python"] == 1
    assert [problem.path for problem in reading.problems] == ["gone.py"]


def test_binary_and_undecodable_files_are_tolerated(tmp_path: Path) -> None:
    (tmp_path / "blob.py").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "latin.md").write_bytes("caf\xe9\n".encode("latin-1"))
    discovery = scan_workspace(tmp_path, ScanOptions(use_git=False))
    lines = {stat.language: stat.lines for stat in discovery.languages}
    assert lines == {"Python": 0, "Markdown": 1}


def test_progress_reports_every_file_then_completion(tmp_path: Path) -> None:
    support.mkdocs_site(tmp_path)
    calls: list[tuple[int, int]] = []
    discovery = scan_workspace(
        tmp_path, ScanOptions(use_git=False), lambda done, total: calls.append((done, total))
    )
    total = len(discovery.files)
    assert calls[-1] == (total, total)
    assert [done for done, _ in calls[:-1]] == list(range(total))


def test_generated_uet_files_do_not_count_as_project_files(tmp_path: Path) -> None:
    support.write(
        tmp_path,
        {
            "main.py": "print(1)\n",
            "router_config.json": "{}\n",
            "workstreams/ws.json": "{}\n",
            "phases/PH-X.yaml": "a: 1\n",
            ".tasks/.gitkeep": "",
        },
    )
    discovery = scan_workspace(tmp_path, ScanOptions(use_git=False))
    assert discovery.files == ("main.py",)
    assert discovery.uet_artifacts == (
        "phases/PH-X.yaml",
        "router_config.json",
        "workstreams/ws.json",
    )


def test_max_files_truncates_with_a_problem(tmp_path: Path) -> None:
    support.write(tmp_path, {f"f{number}.txt": "x\n" for number in range(10)})
    discovery = scan_workspace(tmp_path, ScanOptions(use_git=False, max_files=4))
    assert discovery.truncated
    assert len(discovery.files) == 4


def test_missing_workspace_raises_workspace_error(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError):
        scan_workspace(tmp_path / "absent")


def test_many_test_folders_collapse_to_top_level_folders(tmp_path: Path) -> None:
    files = {f"pkg/mod{number}/tests/test_x.py": "def test_x():\n    pass\n" for number in range(7)}
    files["tests/test_top.py"] = "def test_y():\n    pass\n"
    support.write(tmp_path, files)
    discovery = scan_workspace(tmp_path, ScanOptions(use_git=False))
    assert discovery.paths_of("python_test_dirs") == ("pkg", "tests")
    assert len(discovery.paths_of("test_dirs")) == 8
