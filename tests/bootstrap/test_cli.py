"""``uet scan / profiles / bootstrap / doctor`` through the real entry point (in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bootstrap import support
from uet.artifacts import check_file, check_text
from uet.cli.commands_scan import DISCOVERY_PATH
from uet.cli.main import main


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Only python3 and git on PATH, so the output does not depend on the machine."""
    search = support.tool_path(tmp_path / "bin", real=("python3", "git"))
    monkeypatch.setenv("PATH", search)
    return search


def test_scan_json_prints_a_valid_discovery_and_writes_nothing(
    tmp_path: Path, tools: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = support.dbt_project(tmp_path / "dbt")
    assert main(["scan", str(root), "--json"]) == 0
    out = capsys.readouterr().out
    report = check_text(out, "bootstrap_discovery.json")
    assert report.schema == "bootstrap_discovery" and report.diagnostics == []
    document = json.loads(out)
    assert document["domain"] == "data-pipeline"
    assert {"framework": "dbt", "indicator": "dbt_project.yml"} in document["frameworks"]
    assert {"framework": "dbt-test", "indicator": "tests"} in document["frameworks"]
    assert document["x-uet-scan"]["lines"]["SQL"] == 9
    assert document["x-uet-scan"]["selection"]["profile_id"] == "data-pipeline"
    assert not (root / ".uet").exists()


def test_scan_summary_writes_the_discovery_artifact(
    tmp_path: Path, tools: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = support.python_library(tmp_path / "lib")
    assert main(["scan", str(root)]) == 0
    out = capsys.readouterr().out
    assert "languages: Python" in out
    assert "suggested profile: software-dev-python" in out
    report = check_file(root / DISCOVERY_PATH, root=root)
    assert report.schema == "bootstrap_discovery" and report.diagnostics == []
    assert support.git(root, "status", "--porcelain") == ""  # .uet/ ignores itself


def test_profiles_lists_scores_with_reasons(
    tmp_path: Path, tools: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = support.terraform_ansible(tmp_path / "ops")
    assert main(["profiles", str(root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("* operations")
    assert any("terraform: Terraform configuration" in line for line in lines)
    assert lines[-1].startswith("selected: operations")
    assert main(["profiles", str(root), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["selected"] == "operations" and payload["ranking"][0]["signals"]


def test_bootstrap_dry_run_then_real_run_then_doctor(
    tmp_path: Path, tools: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = support.python_library(tmp_path / "lib")
    assert main(["bootstrap", str(root), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "+++ b/PROJECT_PROFILE.yaml" in out and "nothing written" in out
    assert not (root / "PROJECT_PROFILE.yaml").exists()

    assert main(["bootstrap", str(root)]) == 0
    out = capsys.readouterr().out
    assert "PROJECT_PROFILE.yaml: created" in out
    assert "report: .uet/bootstrap_report.json" in out
    report = check_file(root / ".uet/bootstrap_report.json", root=root)
    assert report.diagnostics == []
    assert json.loads((root / ".uet/bootstrap_report.json").read_text())["directories_created"]

    assert main(["bootstrap", str(root)]) == 0
    assert "0 file(s) written" in capsys.readouterr().out
    assert main(["doctor", str(root)]) == 0
    assert "status: " in capsys.readouterr().out
    assert main(["validate", str(root)]) == 0


def test_ambiguous_selection_asks_for_a_profile(
    tmp_path: Path, tools: str, capsys: pytest.CaptureFixture[str]
) -> None:
    support.python_library(tmp_path)
    support.mkdocs_site(tmp_path)
    support.write(tmp_path, {"requirements-docs.txt": "sphinx\n"})
    assert main(["bootstrap", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "ambiguous" in err and "--profile documentation" in err
    assert not (tmp_path / "PROJECT_PROFILE.yaml").exists()
    assert main(["bootstrap", str(tmp_path), "--profile", "documentation"]) == 0
    assert main(["bootstrap", str(tmp_path)]) == 0  # the persisted profile is reused
    assert "profile: documentation" in capsys.readouterr().out


def test_user_errors_exit_2(tmp_path: Path, tools: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(tmp_path / "missing")]) == 2
    assert main(["bootstrap", str(tmp_path), "--profile", "nope"]) == 2
    assert "unknown profile 'nope'" in capsys.readouterr().err


def test_hostile_layout_exits_1_and_writes_nothing_outside(
    tmp_path: Path, tools: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = support.python_library(tmp_path / "lib")
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "phases").symlink_to(outside)
    assert main(["bootstrap", str(root)]) == 1
    err = capsys.readouterr().err
    assert "nothing written" in err and "leading outside the workspace" in err
    assert list(outside.iterdir()) == []


def test_doctor_fix_lists_each_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    every_tool = ("python3", "git", "pytest", "ruff", "mypy", "pyproject-build")
    monkeypatch.setenv("PATH", support.tool_path(tmp_path / "bin", real=every_tool))
    root = support.python_library(tmp_path / "lib")
    assert main(["bootstrap", str(root)]) == 0
    (root / ".gitignore").write_text("", "utf-8")
    (root / ".uet" / ".gitignore").unlink()  # nothing ignores .uet/ now
    capsys.readouterr()
    assert main(["doctor", str(root)]) == 0
    assert "safe fix(es) available" in capsys.readouterr().out
    (root / ".uet" / ".gitignore").unlink()  # written again with the report
    assert main(["doctor", str(root), "--fix"]) == 0
    assert "fixed: Add .uet/ to .gitignore (.gitignore)" in capsys.readouterr().out
    assert main(["doctor", str(root), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["validation_results"]["warnings"] == []


def test_demo_sequence_runs_clean(tmp_path: Path, tools: str) -> None:
    """The bootstrap commands of ``make demo``, in its order, on a fresh project."""
    root = support.mkdocs_site(tmp_path / "sample")
    where = str(root)
    for argv in (
        ["scan", where],
        ["profiles", where],
        ["bootstrap", where, "--dry-run"],
        ["bootstrap", where],
        ["doctor", where],
        ["validate", where],
    ):
        assert main(argv) == 0, argv
