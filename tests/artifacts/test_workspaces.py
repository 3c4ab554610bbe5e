"""Workspace boundaries on real repositories: ``uet validate FOLDER`` matches conventions
relative to the workspace root, a folder without artifacts is not a green run, nested
projects are separate workspaces, and a file following a non-UET JSON Schema is left alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from uet.artifacts import check_text
from uet.artifacts.index import WorkspaceIndex
from uet.artifacts.workspace import Owners, workspace_root

REPO_ROOT = Path(__file__).resolve().parents[2]
PROFILE = (REPO_ROOT / "examples" / "sample-workspace" / "PROJECT_PROFILE.yaml").read_text("utf-8")
INTENTIONALLY_BROKEN = {"editor-clients/fixtures/workspace/workstreams/ws-invalid.yaml"}

BROKEN_WORKSTREAM = """\
workstream_id: WS-BROKEN
project_id: PRJ-1
phase_id: PH-BUILD
name: Broken
objective: One mistake.
tasks:
  - task_id: lint
    name: Lint
    kind: lint
    colour: blue
"""
PHASE = (REPO_ROOT / "tests" / "lsp" / "workspaces" / "basic" / "phases" / "build.yaml").read_text(
    "utf-8"
)
BROKEN_PHASE = PHASE + "colour: blue\n"


def phase(phase_id: str) -> str:
    return PHASE.replace("PH-BUILD", phase_id)


def workstream(workstream_id: str, phase_id: str) -> str:
    return (
        f"workstream_id: {workstream_id}\nproject_id: PRJ-1\nphase_id: {phase_id}\n"
        "name: Build\nobjective: Build it.\ntasks:\n"
        "  - task_id: lint\n    name: Lint\n    kind: lint\n"
    )


def write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")


def git_init(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True, timeout=60)


def uet(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uet", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def records(*args: str, cwd: Path) -> tuple[int, list[dict[str, Any]], str]:
    result = uet("validate", "--format", "json", *args, cwd=cwd)
    found = json.loads(result.stdout) if result.stdout.strip() else []
    return result.returncode, found, result.stderr


# -- a named folder is checked as part of its workspace ---------------------------------


@pytest.mark.parametrize(
    ("folder", "name", "text", "code"),
    [
        ("workstreams", "w.yaml", BROKEN_WORKSTREAM, "UET203"),
        ("phases", "PH-BUILD.yaml", BROKEN_PHASE, "UET203"),
    ],
)
def test_validate_a_named_folder_matches_conventions_from_the_workspace_root(
    tmp_path: Path, folder: str, name: str, text: str, code: str
) -> None:
    project = tmp_path / "project"
    git_init(project)
    write(project, {f"{folder}/{name}": text})
    status, found, stderr = records(f"{folder}/", cwd=project)
    assert status == 1, stderr
    assert [(item["path"], item["code"]) for item in found] == [(f"{folder}/{name}", code)]
    # Named from elsewhere, by an absolute path: the same workspace root, the same answer.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    status, found, stderr = records(str(project / folder), cwd=elsewhere)
    assert status == 1, stderr
    assert [item["code"] for item in found] == [code]


def test_without_a_project_or_git_the_current_folder_is_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"workstreams/w.yaml": BROKEN_WORKSTREAM})
    status, found, stderr = records("workstreams", cwd=tmp_path)
    assert status == 1, stderr
    assert [item["code"] for item in found] == ["UET203"]
    monkeypatch.chdir(tmp_path)
    real = Path(os.path.realpath(tmp_path))
    assert workspace_root(Path("workstreams")) == real
    # Outside the current folder, the folder named is its own root.
    (tmp_path / "other").mkdir()
    monkeypatch.chdir(tmp_path / "workstreams")
    assert workspace_root(tmp_path / "other") == real / "other"


def test_the_project_profile_folder_is_the_root_inside_a_repository(tmp_path: Path) -> None:
    git_init(tmp_path)
    (tmp_path / "pkg" / "phases").mkdir(parents=True)
    (tmp_path / "pkg" / ".uet").mkdir()
    real = Path(os.path.realpath(tmp_path))
    assert workspace_root(tmp_path / "pkg" / "phases") == real / "pkg"
    assert workspace_root(tmp_path / "docs" / "x.yaml") == real  # the git work tree
    owners = Owners()
    assert owners.workspace_of(tmp_path / "pkg" / "phases" / "a.yaml") == str(real / "pkg")
    assert owners.workspace_of(tmp_path / "b.yaml") == str(real)


def test_a_folder_without_artifacts_is_not_a_green_run(tmp_path: Path) -> None:
    git_init(tmp_path)
    write(tmp_path, {"docs/notes.yaml": "title: not an artifact\n", "src/app.json": "{}"})
    result = uet("validate", "docs", "src", cwd=tmp_path)
    assert result.returncode == 5, result.stderr
    assert "no UET artifacts found in docs, src" in result.stderr
    assert "valid" not in result.stdout
    status, found, stderr = records("docs", cwd=tmp_path)
    assert (status, found) == (5, [])
    # One artifact is enough for an ordinary answer.
    write(tmp_path, {"docs/phases/PH-DOCS.yaml": phase("PH-DOCS")})
    status, found, stderr = records("docs", cwd=tmp_path)
    assert (status, found) == (0, []), stderr


# -- nested projects -------------------------------------------------------------------


def test_nested_projects_are_separate_workspaces(tmp_path: Path) -> None:
    git_init(tmp_path)
    write(
        tmp_path,
        {
            # the repository's own artifacts, outside both packages
            "phases/PH-BUILD.yaml": phase("PH-BUILD"),
            "phases/PH-ROOT-ONLY.yaml": phase("PH-ROOT-ONLY"),
            "workstreams/build.yaml": workstream("WS-BUILD", "PH-BUILD"),
            # package a: a project by its profile file
            "pkg-a/PROJECT_PROFILE.yaml": PROFILE,
            "pkg-a/phases/PH-BUILD.yaml": phase("PH-BUILD"),
            "pkg-a/workstreams/build.yaml": workstream("WS-BUILD", "PH-BUILD"),
            # package b: a project by its .uet/ folder
            "pkg-b/.uet/.gitignore": "*\n",
            "pkg-b/phases/PH-BUILD.yaml": phase("PH-BUILD"),
            "pkg-b/workstreams/build.yaml": workstream("WS-BUILD", "PH-BUILD"),
            "pkg-b/workstreams/release.yaml": workstream("WS-RELEASE", "PH-ROOT-ONLY"),
        },
    )
    status, found, stderr = records(cwd=tmp_path)
    assert status == 1, stderr
    problems = sorted((item["path"], item["code"]) for item in found)
    # No UET301 for the ids each workspace defines once; a phase of the repository is
    # unknown inside package b.
    assert ("pkg-b/workstreams/release.yaml", "UET304") in problems
    assert not [item for item in problems if item[1] == "UET301"], problems
    unknown = next(item for item in found if item["code"] == "UET304")
    assert "known: PH-BUILD" in unknown["message"]
    # Each package is valid alone, and its files named from the repository root too.
    status, found, stderr = records(cwd=tmp_path / "pkg-a")
    assert (status, found) == (0, []), stderr
    status, found, stderr = records("pkg-b/phases", "pkg-b/workstreams/build.yaml", cwd=tmp_path)
    assert (status, found) == (0, []), stderr


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_packages_bootstrapped_separately_validate_at_the_repository_root(
    tmp_path: Path,
) -> None:
    git_init(tmp_path)
    for package in ("pkg-a", "pkg-b"):
        write(
            tmp_path / package,
            {
                "pyproject.toml": f'[project]\nname = "{package}"\nversion = "0.1"\n',
                "src/module.py": "x = 1\n",
            },
        )
        bootstrapped = uet("bootstrap", cwd=tmp_path / package)
        assert bootstrapped.returncode == 0, bootstrapped.stdout + bootstrapped.stderr
        status, found, stderr = records(cwd=tmp_path / package)
        assert (status, found) == (0, []), stderr
    status, found, stderr = records(cwd=tmp_path)
    assert (status, found) == (0, []), stderr
    assert not (tmp_path / "phases").exists()  # the artifacts checked are the packages'


# -- files that follow another JSON Schema ------------------------------------------------

META_SCHEMA_FILE = json.dumps(
    {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.com/router_config.schema.json",
        "type": "object",
        "required": ["version"],
        "properties": {"version": {"type": "string"}},
    }
)


def test_a_file_whose_schema_is_not_uet_is_left_alone(tmp_path: Path) -> None:
    git_init(tmp_path)
    write(
        tmp_path,
        {
            "schemas/router_config.schema.json": META_SCHEMA_FILE,
            "workstreams/tool.json": json.dumps(
                {"$schema": "https://json.schemastore.org/github-workflow.json", "on": "push"}
            ),
            "phases/PH-BUILD.yaml": phase("PH-BUILD"),
        },
    )
    status, found, stderr = records(cwd=tmp_path)
    assert (status, found) == (0, []), stderr
    result = uet("validate", "schemas/router_config.schema.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "skipped, not a UET artifact (its $schema names another schema" in result.stderr
    # A UET $schema still decides, and an unknown UET one is still reported.
    write(
        tmp_path,
        {
            "misc/build.json": json.dumps(
                {"$schema": "https://uet.invalid/schemas/v1/phase_spec.schema.json"}
            ),
            "misc/typo.json": json.dumps({"$schema": "uet/phase_spek"}),
        },
    )
    status, found, stderr = records("misc", cwd=tmp_path)
    assert status == 1, stderr
    assert {(item["path"], item["code"]) for item in found} == {
        ("misc/build.json", "UET202"),
        ("misc/typo.json", "UET108"),
    }


def test_this_repository_reports_only_real_problems() -> None:
    status, found, stderr = records(cwd=REPO_ROOT)
    assert status in (0, 1), stderr
    paths = {item["path"] for item in found}
    assert not [path for path in paths if path.startswith("schemas/")], paths
    assert not [item for item in found if item["code"] == "UET301"], found
    assert paths <= INTENTIONALLY_BROKEN, paths


# -- the index -------------------------------------------------------------------------------


def test_index_follows_a_project_that_appears_and_goes() -> None:
    index = WorkspaceIndex()
    reports = [
        check_text(phase("PH-BUILD"), path)
        for path in ("/repo/phases/a.yaml", "/repo/pkg/phases/a.yaml")
    ]
    index.apply(reports)
    assert [item.code for item in index.diagnostics("/repo/phases/a.yaml")] == ["UET301"]
    affected = index.apply((), scopes={"/repo/pkg/phases/a.yaml": "/repo/pkg"})
    assert affected == {"/repo/phases/a.yaml", "/repo/pkg/phases/a.yaml"}
    assert index.diagnostics("/repo/phases/a.yaml") == []
    assert index.diagnostics("/repo/pkg/phases/a.yaml") == []
    assert [item.path for item in index.definitions("phase", "PH-BUILD", workspace="")] == [
        "/repo/phases/a.yaml"
    ]
    assert len(index.definitions("phase", "PH-BUILD")) == 2  # every workspace
    # Re-checking the file keeps its workspace; the project going joins them again.
    index.apply([check_text(phase("PH-BUILD"), "/repo/pkg/phases/a.yaml")])
    assert index.workspace_of("/repo/pkg/phases/a.yaml") == "/repo/pkg"
    index.apply((), scopes={"/repo/pkg/phases/a.yaml": ""})
    assert [item.code for item in index.diagnostics("/repo/pkg/phases/a.yaml")] == ["UET301"]
