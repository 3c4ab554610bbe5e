"""Tools come from the project's own environments first, and its own configuration is used.

Real folders in ``tmp_path``: virtual environments made of ``pyvenv.cfg`` plus stand-in
executables that record they were called, ``node_modules/.bin``, PDM's and Poetry's
records, and the files that declare entry points and pytest settings. The lookups are the
ones ``uet scan`` and the engine use; nothing of the workspace is run while scanning.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

import pytest

from tests.bootstrap.support import git_repository, python_library, tool_path, write
from uet.bootstrap import AnalysisOptions, analyze_workspace
from uet.bootstrap.entrypoints import (
    EntryPoint,
    declared_entry_points,
    runner_configuration,
)
from uet.bootstrap.generator import generate
from uet.bootstrap.toolchain import (
    PATH_SOURCE,
    locate,
    project_tool_folders,
    workspace_tool_folders,
)
from uet.cli.main import main
from uet.engine.adapters import programs


def stand_in(folder: Path, name: str, record: Path | None = None) -> Path:
    """An executable ``folder/name`` that appends its name and arguments to ``record``."""
    folder.mkdir(parents=True, exist_ok=True)
    target = record if record is not None else folder / "calls.log"
    script = folder / name
    script.write_text(f'#!/bin/sh\necho "{name} $*" >> "{target}"\nexit 0\n', encoding="utf-8")
    script.chmod(0o755)
    return script


def venv(root: Path, name: str = ".venv", tools: tuple[str, ...] = ()) -> Path:
    """A virtual environment folder (``pyvenv.cfg`` and ``bin/``) holding stand-in tools."""
    environment = root / name
    (environment / "bin").mkdir(parents=True, exist_ok=True)
    (environment / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    for tool in tools:
        stand_in(environment / "bin", tool)
    return environment


def test_project_virtual_environment_comes_before_path(tmp_path: Path) -> None:
    root = tmp_path / "project"
    venv(root, tools=("ruff",))
    search = tool_path(tmp_path / "path", stubs=("ruff", "mypy"))
    folders = project_tool_folders(root)
    ruff = locate("ruff", folders, search)
    mypy = locate("mypy", folders, search)
    assert ruff is not None and ruff.path == str(root / ".venv" / "bin" / "ruff")
    assert ruff.source == ".venv"
    assert mypy is not None and mypy.source == PATH_SOURCE
    assert locate("black", folders, search) is None


def test_a_folder_named_venv_without_pyvenv_cfg_is_not_an_environment(tmp_path: Path) -> None:
    root = tmp_path / "project"
    stand_in(root / "venv" / "bin", "ruff")  # sources that happen to be called venv/
    stand_in(root / "node_modules" / ".bin", "eslint")
    folders = project_tool_folders(root)
    assert [folder.source for folder in folders] == ["node_modules/.bin"]


def test_pdm_and_hatch_and_uv_environments_are_read_from_files(tmp_path: Path) -> None:
    root = tmp_path / "project"
    pdm_env = venv(tmp_path, "elsewhere-pdm", tools=("pytest",))
    write(root, {".pdm-python": f"{pdm_env / 'bin' / 'python'}\n"})
    write(
        root,
        {
            "pyproject.toml": (
                '[project]\nname = "x"\n[tool.hatch.envs.default]\npath = ".hatch-env"\n'
            ),
        },
    )
    venv(root, ".hatch-env", tools=("ruff",))
    venv(root, "uv-env", tools=("mypy",))
    write(root, {"uv.lock": "version = 1\n"})
    folders = project_tool_folders(root, {"UV_PROJECT_ENVIRONMENT": "uv-env"})
    assert [folder.source for folder in folders] == [
        "uv environment uv-env",
        f"PDM environment ({pdm_env})",
        "Hatch environment .hatch-env",
    ]


def test_poetry_environment_in_its_cache_folder(tmp_path: Path) -> None:
    root = tmp_path / "project"
    write(root, {"pyproject.toml": '[tool.poetry]\nname = "My_Lib"\nversion = "0.1.0"\n'})
    cache = tmp_path / "cache"
    # Poetry's own naming: normalised name, 8 characters of the path's hash, Python version.
    digest = hashlib.sha256(os.path.normcase(os.path.realpath(root)).encode()).digest()
    name = f"my-lib-{base64.urlsafe_b64encode(digest).decode()[:8]}"
    venv(cache / "virtualenvs", f"{name}-py3.9")
    newest = venv(cache / "virtualenvs", f"{name}-py3.11", tools=("pytest",))
    venv(cache / "virtualenvs", "other-project-AAAAAAAA-py3.12")
    folders = project_tool_folders(root, {"POETRY_CACHE_DIR": str(cache)})
    assert [folder.path for folder in folders] == [newest / "bin"]
    assert folders[0].source.startswith("Poetry environment")


def test_nearest_environment_first_up_to_the_repository_root(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    repository = outer / "repo"
    package = repository / "packages" / "pkg"
    venv(outer, tools=("ruff",))  # above the repository: not the project's
    venv(repository, tools=("ruff", "pytest"))
    venv(package, tools=("pytest",))
    write(repository, {"README.md": "x\n"})
    git_repository(repository)
    folders = workspace_tool_folders(package)
    assert [folder.path for folder in folders] == [
        package / ".venv" / "bin",
        repository / ".venv" / "bin",
    ]
    search = tool_path(tmp_path / "path", stubs=("ruff",))
    ruff = locate("ruff", folders, search)
    assert ruff is not None and ruff.path == str(repository / ".venv" / "bin" / "ruff")


def test_scan_reports_where_each_tool_comes_from(tmp_path: Path) -> None:
    root = python_library(tmp_path / "lib")
    venv(root, tools=("pytest", "ruff"))
    search = tool_path(tmp_path / "path", real=("git",), stubs=("ruff", "mypy"))
    analysis = analyze_workspace(root, AnalysisOptions(search_path=search))
    tools = analysis.discovery.tooling.tools
    assert {name: location.source for name, location in tools.items()} == {
        "git": PATH_SOURCE,
        "mypy": PATH_SOURCE,
        "pytest": ".venv",
        "ruff": ".venv",
    }
    assert analysis.discovery.executables["ruff"] == str(root / ".venv" / "bin" / "ruff")


def test_entry_points_are_read_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    root = write(
        tmp_path / "project",
        {
            "Makefile": (
                "PYTHON ?= python3\nSTAMP := .venv/.stamp\n.PHONY: test lint\n"
                f"$(STAMP): pyproject.toml\n\ttouch {marker}\n"
                "test: lint unit\nlint:\n\truff check .\nunit: $(STAMP)\n\tpytest\n"
                "build/out.txt:\n\techo\nversion.txt:\n\techo\n%.o: %.c\n\tcc\n"
            ),
            "justfile": (
                "set shell := ['sh', '-c']\ndefault:\n  just --list\ntest *ARGS:\n  pytest\n"
            ),
            "package.json": '{"scripts": {"test": "jest", "lint": "eslint ."}}',
            "tox.ini": "[tox]\nenvlist = py311, lint, py{38,39}\n[testenv:docs]\ncommands = x\n",
            "noxfile.py": (
                "import nox\n\n@nox.session\ndef tests(session):\n    pass\n\n"
                '@nox.session(name="type-check", python="3.11")\ndef mypy(session):\n    pass\n'
            ),
            ".pre-commit-config.yaml": (
                "repos:\n  - repo: https://github.com/astral-sh/ruff-pre-commit\n"
                "    rev: v0.15.0\n    hooks:\n      - id: ruff\n      - id: ruff-format\n"
            ),
        },
    )
    found = declared_entry_points(root)
    assert {(entry.runner, entry.name) for entry in found} == {
        ("make", "test"),
        ("make", "lint"),
        ("make", "unit"),
        ("just", "default"),
        ("just", "test"),
        ("npm", "test"),
        ("npm", "lint"),
        ("tox", "py311"),
        ("tox", "lint"),
        ("tox", "docs"),
        ("nox", "tests"),
        ("nox", "type-check"),
        ("pre-commit", "ruff"),
        ("pre-commit", "ruff-format"),
    }
    assert EntryPoint("npm", "test", "package.json").command == ("npm", "run", "test")
    assert EntryPoint("pre-commit", "ruff", ".pre-commit-config.yaml").command == (
        "pre-commit",
        "run",
        "--all-files",
        "ruff",
    )
    assert not marker.exists()


def test_broken_entry_point_files_declare_nothing(tmp_path: Path) -> None:
    root = write(
        tmp_path / "project",
        {
            "package.json": "{not json",
            "tox.ini": "no section header\n",
            ".pre-commit-config.yaml": "repos: [\n",
        },
    )
    os.mkfifo(root / "Makefile")  # never opened in a blocking way
    assert declared_entry_points(root) == ()


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'}, ("tests",)),
        ({"pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-q'\n"}, ()),
        ({"pytest.ini": "[pytest]\ntestpaths = a b\n", "setup.cfg": "[tool:pytest]\n"}, ("a", "b")),
        (
            {"setup.cfg": "[tool:pytest]\ntestpaths =\n    unit\n    integration\n"},
            ("unit", "integration"),
        ),
        ({"tox.ini": "[tox]\n[pytest]\ntestpaths = t\n"}, ("t",)),
    ],
)
def test_pytest_configuration_is_found_as_pytest_finds_it(
    tmp_path: Path, files: dict[str, str], expected: tuple[str, ...]
) -> None:
    configuration = runner_configuration(write(tmp_path, files))
    assert configuration is not None and configuration.testpaths == expected


def test_no_pytest_configuration(tmp_path: Path) -> None:
    root = write(tmp_path, {"pyproject.toml": '[project]\nname = "x"\n', "tox.ini": "[tox]\n"})
    assert runner_configuration(root) is None


def test_configured_pytest_runs_plain(tmp_path: Path) -> None:
    """pytest collects what ``testpaths`` says instead of every test folder of the scan."""
    root = python_library(tmp_path / "lib")
    write(
        root,
        {
            "pyproject.toml": (
                '[project]\nname = "tinylib"\nversion = "0.1.0"\n'
                '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["src"]\n'
            ),
            "examples/test_example.py": "import not_installed\n",
        },
    )
    search = tool_path(tmp_path / "path", real=("git",), stubs=("pytest",))
    analysis = analyze_workspace(root, AnalysisOptions(search_path=search))
    profile = analysis.profiles.profiles["software-dev-python"]
    generated = generate(analysis.discovery, profile, None)
    test_file = next(f for f in generated.files if f.path == "workstreams/ph-py-test.json")
    (task,) = json.loads(test_file.text)["tasks"]
    assert task["args"] == ["-q"]


def test_engine_lookup_prefers_the_workspace_environment(tmp_path: Path) -> None:
    root = write(tmp_path / "project", {"PROJECT_PROFILE.yaml": "x: 1\n"})
    (root / "sub").mkdir()
    search = tool_path(tmp_path / "path", stubs=("ruff", "pytest"))
    on_path = str(tmp_path / "path" / "pytest")
    assert programs.executable("pytest", search, root / "sub") == on_path
    venv(root, tools=("pytest",))  # created later: the next task uses it
    assert programs.executable("pytest", search, root / "sub") == on_path  # sub unchanged
    assert programs.executable("pytest", search, root) == str(root / ".venv" / "bin" / "pytest")
    stand_in(root / ".venv" / "bin", "ruff")  # installed into the environment later
    assert programs.executable("ruff", search, root) == str(root / ".venv" / "bin" / "ruff")
    assert programs.executable("ruff", search) == str(tmp_path / "path" / "ruff")


def test_scan_profiles_and_doctor_use_the_project_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``uet scan``/``uet profiles`` say where each tool comes from; the doctor finds a tool
    that only the project's environment holds (no UET505)."""
    root = python_library(tmp_path / "lib")
    write(root, {"Makefile": ".PHONY: test\ntest:\n\t.venv/bin/pytest\n"})
    venv(root, tools=("pytest", "ruff", "mypy"))
    search = tool_path(tmp_path / "path", real=("git",))
    monkeypatch.setenv("PATH", search)
    assert main(["scan", str(root)]) == 0
    scan = capsys.readouterr().out
    assert f"ruff    {root / '.venv' / 'bin' / 'ruff'} (.venv)" in scan
    assert "entry points: make test" in scan
    assert "tests: pytest is configured in pyproject.toml" in scan
    assert main(["profiles", str(root)]) == 0
    assert f"pytest  {root / '.venv' / 'bin' / 'pytest'} (.venv)" in capsys.readouterr().out
    assert main(["bootstrap", str(root)]) == 0
    capsys.readouterr()
    main(["doctor", str(root), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert not [line for line in report["validation_results"]["warnings"] if "UET505" in line]
    assert {"pytest", "ruff", "mypy"} <= set(report["configuration"]["available_tools"])
