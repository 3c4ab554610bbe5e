"""Generated tasks use the project's declared entry points (docs/profiles.md, "Which entry
point or tool a task uses").

Small real repositories in ``tmp_path`` (a Python library with a Makefile, ``package.json``
scripts, ``tox.ini``, a pre-commit configuration) go through the real ``uet bootstrap``,
``uet validate``, ``uet doctor`` and ``uet run``. Runners and tools are stand-ins that
record their calls (in the project's ``.venv/bin`` or a ``PATH`` folder); ``make`` is the
real one. Another environment's ``pytest`` and ``ruff`` come first on ``PATH`` and fail.
Nothing touches the network.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bootstrap.support import git_repository, python_library, tool_path, write
from uet.bootstrap import AnalysisOptions, analyze_workspace
from uet.bootstrap.generator import generate

MAKE = shutil.which("make")
needs_make = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def stand_in(folder: Path, name: str, record: Path, status: int = 0) -> None:
    """An executable ``folder/name`` appending where it is (its last two folders), its name
    and its arguments to ``record``, then exiting with ``status``."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text(
        f'#!/bin/sh\necho "{folder.parent.name}/{folder.name}/{name} $*" >> "{record}"\n'
        f"exit {status}\n",
        encoding="utf-8",
    )
    script.chmod(0o755)


def project_venv(root: Path, record: Path, tools: tuple[str, ...]) -> None:
    """``root/.venv``: a virtual environment (``pyvenv.cfg``) holding stand-in ``tools``."""
    (root / ".venv" / "bin").mkdir(parents=True, exist_ok=True)
    (root / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    for tool in tools:
        stand_in(root / ".venv" / "bin", tool, record)


def search_path(folder: Path, record: Path, stubs: tuple[str, ...] = ()) -> str:
    """A ``PATH``: git, python3, sh, make (when installed) and recording ``stubs``, then a
    folder of another environment whose pytest, ruff and mypy fail."""
    real = tool_path(folder / "bin", real=("git", "python3"))
    for name in ("sh", "make", "echo"):
        found = shutil.which(name)
        if found is not None:
            (folder / "bin" / name).symlink_to(found)
    for name in stubs:
        stand_in(folder / "bin", name, record)
    for name in ("pytest", "ruff", "mypy"):
        stand_in(folder / "other-env", name, record, status=3)
    return os.pathsep.join((real, str(folder / "other-env")))


def uet(root: Path, search: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": search, "HOME": str(root)}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [sys.executable, "-m", "uet", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def tasks_of(root: Path, workstream: str) -> list[dict[str, object]]:
    document = json.loads((root / "workstreams" / f"{workstream}.json").read_text("utf-8"))
    return list(document["tasks"])


def generated_tasks(root: Path, search: str) -> dict[str, list[dict[str, object]]]:
    """Phase id -> generated tasks (the generator's output; nothing is written)."""
    analysis = analyze_workspace(root, AnalysisOptions(search_path=search))
    profile = analysis.profiles.profiles["software-dev-python"]
    generated = generate(analysis.discovery, profile, None)
    found: dict[str, list[dict[str, object]]] = {}
    for item in generated.files:
        if item.path.startswith("workstreams/"):
            document = json.loads(item.text)
            found[document["phase_id"]] = document["tasks"]
    return found


@needs_make
def test_makefile_targets_run_with_the_projects_environment(tmp_path: Path) -> None:
    record = tmp_path / "calls.log"
    root = python_library(tmp_path / "lib")
    write(
        root,
        {
            "Makefile": (
                ".PHONY: test lint format\n"
                "test:\n\tpytest -q\n"
                "lint:\n\truff check .\n"
                "format:\n\truff format .\n"  # rewrites files: never used for a check
            )
        },
    )
    git_repository(root)
    project_venv(root, record, ("pytest", "ruff", "mypy", "pyproject-build"))
    search = search_path(tmp_path / "path", record)

    scan = uet(root, search, "scan", ".")
    assert "PH-PY-TEST/make-test: make test" in scan.stdout, scan.stdout
    assert "the project's Makefile target 'test' (Makefile)" in scan.stdout

    bootstrap = uet(root, search, "bootstrap", ".")
    assert bootstrap.returncode == 0, bootstrap.stdout + bootstrap.stderr
    assert "PH-PY-LINT/make-lint: make lint" in bootstrap.stdout
    (test_task,) = tasks_of(root, "ph-py-test")
    assert test_task["task_id"] == "make-test"
    assert (test_task["tool"], test_task["args"]) == ("make", ["test"])
    assert test_task["name"] == "Run the tests with make test"
    assert "Makefile target 'test'" in str(test_task["x-uet-source"])
    lint = {task["task_id"]: task for task in tasks_of(root, "ph-py-lint")}
    assert set(lint) == {"make-lint", "ruff-format"}  # `make format` is not a check
    assert "from .venv" in str(lint["ruff-format"]["x-uet-source"])
    router = json.loads((root / "router_config.json").read_text("utf-8"))
    assert router["apps"]["make"]["command"] == ["make"]
    assert not [rule for rule in router["routing"]["rules"] if "make" in rule["select_from"]]

    validate = uet(root, search, "validate", ".")
    assert validate.returncode == 0, validate.stdout + validate.stderr
    doctor = uet(root, search, "doctor", ".", "--json")
    report = json.loads(doctor.stdout)
    assert report["status"] == "ready", doctor.stdout
    assert "make" in report["configuration"]["available_tools"]

    for workstream in ("ph-py-test", "ph-py-lint"):
        run = uet(root, search, "run", f"workstreams/{workstream}.json")
        assert run.returncode == 0, run.stdout + run.stderr
    calls = record.read_text(encoding="utf-8").splitlines()
    # make ran the bare `pytest` and `ruff` of its recipes: the project's, not PATH's
    assert calls == [
        ".venv/bin/pytest -q",
        ".venv/bin/ruff check .",
        ".venv/bin/ruff format --check .",
    ]


def test_package_json_scripts_come_after_the_projects_own_tools(tmp_path: Path) -> None:
    record = tmp_path / "calls.log"
    root = python_library(tmp_path / "lib")
    write(root, {"package.json": '{"scripts": {"test": "jest", "lint": "eslint ."}}'})
    git_repository(root)
    project_venv(root, record, ("ruff",))  # the project's ruff; pytest only on PATH
    search = search_path(tmp_path / "path", record, stubs=("npm",))
    phases = generated_tasks(root, search)
    (test_task,) = phases["PH-PY-TEST"]
    assert (test_task["task_id"], test_task["tool"], test_task["args"]) == (
        "npm-test",
        "npm",
        ["test"],
    )
    assert "package.json script 'test'" in str(test_task["x-uet-source"])
    assert "no tool of the profile for test_execution is installed" in str(
        test_task["x-uet-source"]
    )
    lint_ids = [task["task_id"] for task in phases["PH-PY-LINT"]]
    assert lint_ids == ["ruff-check", "ruff-format"]  # the project's ruff wins

    assert uet(root, search, "bootstrap", ".").returncode == 0
    run = uet(root, search, "run", "workstreams/ph-py-test.json")
    assert run.returncode == 0, run.stdout + run.stderr
    assert record.read_text(encoding="utf-8") == "path/bin/npm run test\n"


def test_tox_nox_and_pre_commit_say_they_may_download(tmp_path: Path) -> None:
    record = tmp_path / "calls.log"
    root = python_library(tmp_path / "lib")
    write(
        root,
        {
            "tox.ini": "[tox]\nenvlist = py311, type-check\n[testenv]\ncommands = pytest\n",
            ".pre-commit-config.yaml": (
                "repos:\n  - repo: local\n    hooks:\n      - id: ruff\n"
                "        name: ruff\n        entry: ruff check\n        language: system\n"
            ),
        },
    )
    git_repository(root)
    search = search_path(tmp_path / "path", record, stubs=("tox", "pre-commit"))
    phases = generated_tasks(root, search)
    (test_task,) = phases["PH-PY-TEST"]
    assert (test_task["tool"], test_task["args"]) == ("tox", ["py"])  # tox's own interpreter
    (type_task,) = phases["PH-PY-TYPECHECK"]
    assert (type_task["task_id"], type_task["args"]) == ("tox-type-check", ["type-check"])
    assert "may build environments and download" in str(type_task["x-uet-source"])
    lint = phases["PH-PY-LINT"]
    assert [task["task_id"] for task in lint] == ["pre-commit", "ruff-format"]
    assert lint[0]["tool"] == "pre-commit" and "args" not in lint[0]
    assert lint[0]["name"] == "Lint with pre-commit run --all-files"

    project_venv(root, record, ("ruff", "mypy"))  # installed in the project: used instead
    phases = generated_tasks(root, search)
    assert [task["task_id"] for task in phases["PH-PY-LINT"]] == ["ruff-check", "ruff-format"]
    assert [task["task_id"] for task in phases["PH-PY-TYPECHECK"]] == ["mypy"]
    assert [task["task_id"] for task in phases["PH-PY-TEST"]] == ["tox-py"]

    assert uet(root, search, "bootstrap", ".").returncode == 0
    assert uet(root, search, "validate", ".").returncode == 0
    run = uet(root, search, "run", "workstreams/ph-py-test.json")
    assert run.returncode == 0, run.stdout + run.stderr
    assert record.read_text(encoding="utf-8") == "path/bin/tox -e py\n"


def test_an_entry_point_whose_runner_is_missing_is_not_used(tmp_path: Path) -> None:
    record = tmp_path / "calls.log"
    root = python_library(tmp_path / "lib")
    write(root, {"justfile": "lint:\n  ruff check .\n", "noxfile.py": _NOXFILE})
    git_repository(root)
    search = search_path(tmp_path / "path", record)  # neither just nor nox installed
    phases = generated_tasks(root, search)
    assert [task["task_id"] for task in phases["PH-PY-LINT"]] == ["ruff-check", "ruff-format"]
    assert [task["task_id"] for task in phases["PH-PY-TEST"]] == ["pytest"]
    search = search_path(tmp_path / "path2", record, stubs=("just", "nox"))
    phases = generated_tasks(root, search)
    assert [task["task_id"] for task in phases["PH-PY-LINT"]] == ["just-lint", "ruff-format"]
    assert [task["task_id"] for task in phases["PH-PY-TEST"]] == ["nox-tests"]


_NOXFILE = "import nox\n\n\n@nox.session\ndef tests(session):\n    session.run('pytest')\n"


@needs_make
def test_doctor_fix_after_installing_make_adds_its_app(tmp_path: Path) -> None:
    record = tmp_path / "calls.log"
    root = python_library(tmp_path / "lib")
    write(root, {"Makefile": ".PHONY: lint\nlint:\n\truff check .\n"})
    git_repository(root)
    project_venv(root, record, ("pytest", "mypy", "pyproject-build"))  # no ruff anywhere
    bare = tool_path(tmp_path / "bare", real=("git", "python3"))
    assert uet(root, bare, "bootstrap", ".").returncode == 0
    assert not (root / "workstreams" / "ph-py-lint.json").exists()  # no ruff, no make

    search = search_path(tmp_path / "path", record)  # make is installed now
    fix = uet(root, search, "doctor", ".", "--fix")
    assert "fixed: Generate workstreams/ph-py-lint.json and add its apps" in fix.stdout
    assert "status: ready" in fix.stdout, fix.stdout
    validate = uet(root, search, "validate", ".")
    assert validate.returncode == 0, validate.stdout + validate.stderr
    # ruff is found now, but only on PATH (another environment's): formatting uses it,
    # linting goes through the project's Makefile
    lint = tasks_of(root, "ph-py-lint")
    assert [task["task_id"] for task in lint] == ["make-lint", "ruff-format"]
    run = uet(root, search, "run", "workstreams/ph-py-lint.json", "--task", "make-lint")
    assert run.returncode == 1, run.stdout + run.stderr
    assert record.read_text(encoding="utf-8") == "path/other-env/ruff check .\n"  # via make
    router = json.loads((root / "router_config.json").read_text("utf-8"))
    assert router["apps"]["make"]["command"] == ["make"]


def test_profiles_json_lists_where_each_task_comes_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from uet.cli.main import main

    record = tmp_path / "calls.log"
    root = python_library(tmp_path / "lib")
    write(root, {"tox.ini": "[tox]\nenvlist = lint\n[testenv:lint]\ncommands = ruff check .\n"})
    git_repository(root)
    monkeypatch.setenv("PATH", search_path(tmp_path / "path", record, stubs=("tox",)))
    assert main(["profiles", str(root), "--json"]) == 0
    tasks = json.loads(capsys.readouterr().out)["tasks"]
    lint = next(task for task in tasks if task["task_id"] == "tox-lint")
    assert lint["phase_id"] == "PH-PY-LINT" and lint["command"] == "tox -e lint"
    assert "tox environment 'lint' (tox.ini)" in lint["source"]
    ruff = next(task for task in tasks if task["task_id"] == "ruff-format")
    assert ruff["command"] == "ruff format --check ."
    assert ruff["source"] == "ruff from PATH (not in the project's own environments)"
    assert main(["profiles", str(root)]) == 0
    assert "  PH-PY-LINT/tox-lint: tox -e lint\n" in capsys.readouterr().out
    assert not record.exists()  # nothing ran while scanning


def test_a_tasks_source_names_no_machine_path(tmp_path: Path) -> None:
    """The source goes into committed workstreams: a PDM environment outside the project is
    named, its path is not."""
    record = tmp_path / "calls.log"
    root = python_library(tmp_path / "lib")
    environment = tmp_path / "pdm-envs" / "lib-3.12"
    project_venv(environment, record, ("ruff",))
    write(root, {".pdm-python": f"{environment / '.venv' / 'bin' / 'python'}\n"})
    git_repository(root)
    phases = generated_tasks(root, search_path(tmp_path / "path", record))
    ruff = next(task for task in phases["PH-PY-LINT"] if task["task_id"] == "ruff-check")
    assert ruff["x-uet-source"] == "ruff from PDM environment, the project's own environment"
