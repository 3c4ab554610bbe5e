"""Bootstrap and doctor on small real repositories, through the real ``uet`` commands.

Each test builds a git repository in ``tmp_path``, puts exactly the tools it wants on
``PATH`` and runs ``python -m uet`` as a user would: the workspace must validate after
``uet doctor --fix`` and after a profile switch, missing tools are named with the
project's own install command, review work says something on a clean checkout, and known
prerequisites (dbt's profile, Terraform's providers) are explained.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.bootstrap import support
from uet.artifacts.workspace import check_workspace
from uet.bootstrap import AnalysisOptions
from uet.bootstrap.doctor import apply_fixes, run_doctor

ALL_PYTHON_TOOLS = ("python3", "git", "pytest", "ruff", "mypy", "pyproject-build")


def uet(root: Path, *args: str, path: str) -> subprocess.CompletedProcess[str]:
    """Run ``uet ARGS`` in ``root`` with only ``path`` on PATH (and ``root`` as HOME)."""
    env = {"PATH": path, "HOME": str(root), "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "uet", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def errors_of(root: Path) -> list[str]:
    """Every error diagnostic of the workspace (schema and cross-file), formatted."""
    index = check_workspace([root]).index
    return [
        f"{path}: {item.code} {item.message}"
        for path in index.paths()
        for item in index.diagnostics(path)
        if item.severity.name == "ERROR"
    ]


def report(root: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((root / ".uet/bootstrap_report.json").read_text())
    return loaded


def test_doctor_fix_after_installing_tools_leaves_a_valid_workspace(tmp_path: Path) -> None:
    root = support.python_library(tmp_path / "lib")
    bare = support.tool_path(tmp_path / "bare", real=("python3", "git"))
    done = uet(root, "bootstrap", path=bare)
    assert done.returncode == 0, done.stdout + done.stderr
    assert report(root)["status"] == "partial"
    assert "pip install -e '.[dev]'" in done.stdout

    full = support.tool_path(tmp_path / "full", real=ALL_PYTHON_TOOLS)
    fixed = uet(root, "doctor", "--fix", path=full)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "fixed: Generate workstreams/ph-py-test.json" in fixed.stdout
    assert errors_of(root) == []
    assert report(root)["status"] == "ready"
    assert uet(root, "validate", ".", path=full).returncode == 0
    router = json.loads((root / "router_config.json").read_text())
    assert {"pytest", "ruff", "mypy", "pyproject-build"} <= set(router["apps"])
    # the fixed files are still the generator's: a new bootstrap updates, never keeps them
    again = uet(root, "bootstrap", path=full)
    assert again.returncode == 0 and "kept" not in again.stdout, again.stdout


def test_profile_switch_leaves_a_valid_workspace(tmp_path: Path) -> None:
    root = support.python_library(tmp_path / "lib")
    search = support.tool_path(tmp_path / "bin", real=ALL_PYTHON_TOOLS)
    assert uet(root, "bootstrap", path=search).returncode == 0
    (root / "workstreams/ph-py-review.json").write_text(
        (root / "workstreams/ph-py-review.json").read_text().replace("Review", "Our review"),
        "utf-8",
    )
    switched = uet(root, "bootstrap", "--profile", "documentation", path=search)
    assert "workstreams/ph-py-test.json: no longer generated; removed" in switched.stdout
    assert "ph-py-review.json: no longer generated, but changed by you" in switched.stdout
    assert not (root / "workstreams/ph-py-test.json").exists()
    assert not (root / "phases/PH-PY-TEST.yaml").exists()
    assert (root / "workstreams/ph-py-review.json").exists()  # yours: left in place
    # only the file you kept names what the new profile does not have
    assert {line.split(": ")[0] for line in errors_of(root)} == {
        str(root / "workstreams/ph-py-review.json")
    }
    (root / "workstreams/ph-py-review.json").unlink()
    assert errors_of(root) == []
    assert uet(root, "doctor", path=search).returncode == 0

    back = uet(root, "bootstrap", "--profile", "software-dev-python", path=search)
    assert back.returncode == 0, back.stdout + back.stderr
    assert errors_of(root) == []
    assert (root / "workstreams/ph-py-test.json").exists()


def _break_gitignore(root: Path) -> None:
    (root / ".gitignore").write_text("__pycache__/\n", "utf-8")
    (root / ".uet/.gitignore").unlink()


def _break_ledger(root: Path) -> None:
    (root / ".ledger/.gitkeep").unlink()
    (root / ".ledger").rmdir()


def _break_router(root: Path) -> None:
    (root / "router_config.json").unlink()


def _break_project_profile(root: Path) -> None:
    (root / "PROJECT_PROFILE.yaml").unlink()


def _break_test_workstream(root: Path) -> None:
    (root / "workstreams/ph-py-test.json").unlink()


def _edit_router(root: Path, change: Callable[[dict[str, object]], None]) -> None:
    router = json.loads((root / "router_config.json").read_text())
    change(router)
    (root / "router_config.json").write_text(json.dumps(router, indent=2) + "\n", "utf-8")


def _break_test_workstream_in_a_changed_router(root: Path) -> None:
    """The user changed the router (so it is theirs) and pytest's app is gone."""

    def drop_pytest(router: dict[str, object]) -> None:
        apps = router["apps"]
        assert isinstance(apps, dict)
        del apps["pytest"]
        router["x-team"] = "ours"
        routing = router["routing"]
        assert isinstance(routing, dict)
        routing["rules"] = [r for r in routing["rules"] if r["select_from"] != ["pytest"]]

    _edit_router(root, drop_pytest)
    _break_test_workstream(root)


def _break_routing_rule(root: Path) -> None:
    def ghost(router: dict[str, object]) -> None:
        routing = router["routing"]
        assert isinstance(routing, dict)
        routing["rules"].append(
            {"id": "ghost", "match": {"task_kind": ["ghost"]}, "select_from": ["nobody"]}
        )

    _edit_router(root, ghost)


def _break_app(root: Path) -> None:
    def drop_ruff(router: dict[str, object]) -> None:
        apps = router["apps"]
        assert isinstance(apps, dict)
        del apps["ruff"]
        routing = router["routing"]
        assert isinstance(routing, dict)
        routing["rules"] = [r for r in routing["rules"] if "ruff" not in r["select_from"]]

    _edit_router(root, drop_ruff)


@pytest.mark.parametrize(
    ("fix_id", "breaking"),
    [
        ("ignore-engine-state", _break_gitignore),
        ("create-ledger", _break_ledger),
        ("create-router_config.json", _break_router),
        ("create-PROJECT_PROFILE.yaml", _break_project_profile),
        ("create-workstream-PH-PY-TEST", _break_test_workstream),
        ("create-workstream-PH-PY-TEST", _break_test_workstream_in_a_changed_router),
        ("prune-routing-rules", _break_routing_rule),
        ("add-profile-apps", _break_app),
    ],
)
def test_each_fix_alone_leaves_a_valid_workspace(
    tmp_path: Path, fix_id: str, breaking: Callable[[Path], None]
) -> None:
    root = support.python_library(tmp_path / "lib")
    search = support.tool_path(tmp_path / "bin", real=ALL_PYTHON_TOOLS)
    assert uet(root, "bootstrap", path=search).returncode == 0
    breaking(root)
    options = AnalysisOptions(search_path=search)
    before = run_doctor(root, options)
    offered = [fix for fix in before.fixes if fix.fix_id == fix_id]
    assert len(offered) == 1, [fix.fix_id for fix in before.fixes]
    assert any(finding.fix_id == fix_id for finding in before.findings)

    assert apply_fixes(root, offered) == (fix_id,)
    assert errors_of(root) == []
    after = run_doctor(root, options)
    assert [f.format() for f in after.findings if f.level.value != "info"] == []
    assert after.fixes == ()
    assert uet(root, "validate", ".", path=search).returncode == 0


def test_missing_tools_are_listed_with_the_projects_install_command(tmp_path: Path) -> None:
    root = support.python_library(tmp_path / "lib")
    search = support.tool_path(tmp_path / "bin", real=("python3", "git", "ruff"))
    done = uet(root, "bootstrap", path=search)
    assert done.returncode == 0, done.stdout + done.stderr
    document = report(root)
    assert document["status"] == "partial"
    warnings = document["validation_results"]["warnings"]  # type: ignore[index]
    declared = [line for line in warnings if "UET511" in line and "pyproject.toml" in line]
    assert len(declared) == 1
    assert "tools mypy, pytest are declared by the project but not installed" in declared[0]
    assert "install them with: pip install -e '.[dev]'" in declared[0]
    assert any("pip install build" in line for line in warnings)  # not declared: its package
    steps = document["next_steps"]["for_human"]  # type: ignore[index]
    assert any("pip install -e '.[dev]'" in step for step in steps)


def test_requirements_file_is_the_install_command(tmp_path: Path) -> None:
    support.write(tmp_path / "lib", support.PYTHON_LIBRARY)
    pyproject = tmp_path / "lib/pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('dev = ["pytest", "ruff", "mypy"]', ""))
    support.write(tmp_path / "lib", {"requirements-dev.txt": "pytest>=8\n"})
    root = support.git_repository(tmp_path / "lib")
    search = support.tool_path(tmp_path / "bin", real=("python3", "git"))
    result = run_doctor(root, AnalysisOptions(search_path=search))
    assert result.findings[0].code == "UET501"  # not bootstrapped yet: nothing else to say
    assert uet(root, "bootstrap", path=search).returncode == 0
    warnings = report(root)["validation_results"]["warnings"]  # type: ignore[index]
    assert any(
        "tool 'pytest' is declared" in line and "pip install -r requirements-dev.txt" in line
        for line in warnings
    ), warnings
    assert any("phase 'PH-PY-LINT'" in line and "pip install ruff" in line for line in warnings)


def _review_log(root: Path, search: str) -> str:
    """Run the review workstream; the output of its diff-stat task."""
    run = uet(root, "run", "workstreams/ph-py-review.json", "--json", path=search)
    assert run.returncode == 0, run.stdout + run.stderr
    run_id = json.loads(run.stdout)["run"]["run_id"]
    return uet(root, "logs", run_id, "diff-stat", path=search).stdout


def test_review_work_reports_on_a_clean_checkout(tmp_path: Path) -> None:
    root = support.python_library(tmp_path / "lib")
    search = support.tool_path(tmp_path / "bin", real=("python3", "git"))
    assert uet(root, "bootstrap", path=search).returncode == 0
    support.git(root, "add", "-A")
    support.git(root, "commit", "-q", "-m", "bootstrap uet")
    support.git(root, "checkout", "-q", "-b", "feature")
    support.write(root, {"src/tinylib/more.py": "VALUE = 1\n"})
    support.git(root, "add", "-A")
    support.git(root, "commit", "-q", "-m", "more")
    assert support.git(root, "status", "--porcelain") == ""

    logs = _review_log(root, search)
    assert "Changes since" in logs and "src/tinylib/more.py" in logs  # since main

    support.git(root, "checkout", "-q", "main")  # on the default branch: the last commit
    logs = _review_log(root, search)
    assert "router_config.json" in logs and "more.py" not in logs

    support.write(root, {"notes.txt": "<<<<<<< ours\na\n=======\nb\n>>>>>>> theirs\n"})
    support.git(root, "add", "notes.txt")
    support.git(root, "commit", "-q", "-m", "a leftover conflict")
    failed = uet(root, "run", "workstreams/ph-py-review.json", "--task", "diff-check", path=search)
    assert failed.returncode == 1, failed.stdout + failed.stderr


def test_dbt_without_its_profile_is_explained(tmp_path: Path) -> None:
    root = support.git_repository(support.dbt_project(tmp_path / "shop"))
    search = support.tool_path(tmp_path / "bin", real=("python3", "git"), stubs=("dbt",))
    env = {"HOME": str(tmp_path / "home")}
    assert uet(root, "bootstrap", path=search).returncode == 0
    result = run_doctor(root, AnalysisOptions(search_path=search), env=env)
    found = [f for f in result.findings if f.code == "UET512"]
    assert len(found) == 1 and found[0].where == "dbt_project.yml"
    assert "profile 'shop'" in found[0].message and "dbt init" in found[0].message
    assert result.report["status"] == "partial"

    support.write(tmp_path / "home", {".dbt/profiles.yml": "shop:\n  target: dev\n"})
    result = run_doctor(root, AnalysisOptions(search_path=search), env=env)
    assert [f for f in result.findings if f.code == "UET512"] == []


def test_terraform_providers_need_network_is_explained(tmp_path: Path) -> None:
    root = support.terraform_ansible(tmp_path / "ops")
    support.write(
        root,
        {
            "infra/providers.tf": (
                "terraform {\n  required_providers {\n    aws = {\n"
                '      source = "hashicorp/aws"\n    }\n  }\n}\n'
            ),
            "infra/bucket.tf": 'resource "random_id" "suffix" {\n  byte_length = 4\n}\n',
        },
    )
    support.git_repository(root)
    search = support.tool_path(tmp_path / "bin", real=("python3", "git"), stubs=("terraform",))
    assert uet(root, "bootstrap", path=search).returncode == 0
    result = run_doctor(root, AnalysisOptions(search_path=search))
    found = [f for f in result.findings if f.code == "UET512"]
    assert len(found) == 1 and found[0].level.value == "info"
    assert "aws, random" in found[0].message and "network" in found[0].message

    (root / "infra/.terraform/providers").mkdir(parents=True)  # after terraform init
    result = run_doctor(root, AnalysisOptions(search_path=search))
    assert [f for f in result.findings if f.code == "UET512"] == []


def test_engine_state_ignoring_itself_is_enough(tmp_path: Path) -> None:
    root = support.python_library(tmp_path / "lib")
    search = support.tool_path(tmp_path / "bin", real=ALL_PYTHON_TOOLS)
    assert uet(root, "bootstrap", path=search).returncode == 0
    (root / ".gitignore").write_text("__pycache__/\n", "utf-8")  # no .uet/ line any more
    assert ".uet" not in support.git(root, "status", "--porcelain")
    result = run_doctor(root, AnalysisOptions(search_path=search))
    assert "UET503" not in {finding.code for finding in result.findings}


def test_profiles_and_bootstrap_agree_on_an_ambiguous_workspace(tmp_path: Path) -> None:
    support.python_library(tmp_path)
    support.mkdocs_site(tmp_path)
    support.write(tmp_path, {"requirements-docs.txt": "sphinx\n"})
    search = support.tool_path(tmp_path / "bin", real=("python3", "git"))
    profiles = uet(tmp_path, "profiles", path=search)
    assert "selected: none: ambiguous" in profiles.stdout
    assert "uet bootstrap --profile ID" in profiles.stdout
    assert not any(line.startswith("*") for line in profiles.stdout.splitlines())
    payload = json.loads(uet(tmp_path, "profiles", "--json", path=search).stdout)
    assert payload["selected"] is None and payload["ambiguous"] is True
    assert uet(tmp_path, "bootstrap", path=search).returncode == 1  # asks for --profile too

    assert uet(tmp_path, "bootstrap", "--profile", "documentation", path=search).returncode == 0
    profiles = uet(tmp_path, "profiles", path=search)
    assert "selected: documentation (persisted in PROJECT_PROFILE.yaml)" in profiles.stdout


def test_skip_reasons_and_scan_listing_are_readable(tmp_path: Path) -> None:
    root = support.write(tmp_path / "lib", {"tool.py": "print('hi')\n", "pyproject.toml": ""})
    support.git_repository(root)
    search = support.tool_path(tmp_path / "bin", real=("python3", "git", "mypy"))
    done = uet(root, "bootstrap", "--profile", "software-dev-python", path=search)
    assert "{{" not in done.stdout
    assert "PH-PY-TYPECHECK/mypy: no source folder (src_dirs) in this workspace" in done.stdout

    scan = uet(root, "scan", path=search).stdout.splitlines()
    heading = next(line for line in scan if line.startswith("UET artifacts: "))
    count = int(heading.removeprefix("UET artifacts: "))
    start = scan.index(heading) + 1
    listed = scan[start : start + count]
    assert count >= 3 and all(line.startswith("  ") and ", " not in line for line in listed)
    assert "  PROJECT_PROFILE.yaml" in listed and "  workstreams/ph-py-review.json" in listed
