"""``run_doctor``: findings on broken workspaces, the safe fixes, and the report."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bootstrap import support
from uet.artifacts import check_text
from uet.bootstrap import AnalysisOptions, analyze_workspace, apply_plan, plan_bootstrap
from uet.bootstrap.doctor import REPORT_PATH, apply_fixes, run_doctor, write_report

TOOLS = ("python3", "git", "pytest", "ruff", "mypy", "pyproject-build")


def _bootstrapped(tmp_path: Path) -> tuple[Path, str]:
    root = support.python_library(tmp_path / "lib")
    search = support.tool_path(tmp_path / "bin", real=TOOLS)
    analysis = analyze_workspace(root, AnalysisOptions(search_path=search))
    apply_plan(plan_bootstrap(root, "software-dev-python", analysis=analysis))
    return root, search


def _codes(root: Path, search: str) -> dict[str, list[str]]:
    result = run_doctor(root, AnalysisOptions(search_path=search))
    found: dict[str, list[str]] = {}
    for finding in result.findings:
        found.setdefault(finding.code, []).append(finding.where)
    return found


def test_fresh_workspace_is_ready_and_the_report_validates(tmp_path: Path) -> None:
    root, search = _bootstrapped(tmp_path)
    result = run_doctor(root, AnalysisOptions(search_path=search))
    assert [f.format() for f in result.findings if f.level.value != "info"] == []
    assert result.fixes == ()
    assert result.report["status"] == "ready"
    assert result.report["profile_id"] == "software-dev-python"
    path = write_report(root, result.report)
    report = check_text((root / path).read_text("utf-8"), path)
    assert report.schema == "bootstrap_report" and report.diagnostics == []


def test_not_bootstrapped_workspace_needs_a_human(tmp_path: Path) -> None:
    root = support.mkdocs_site(tmp_path)
    result = run_doctor(root, AnalysisOptions(search_path=""))
    assert [f.code for f in result.findings] == ["UET501"]
    assert "documentation" in result.findings[0].message
    assert result.report["status"] == "failed"


def test_missing_tool_unknown_app_and_unroutable_task(tmp_path: Path) -> None:
    root, search = _bootstrapped(tmp_path)
    router_path = root / "router_config.json"
    router = json.loads(router_path.read_text("utf-8"))
    router["apps"]["pytest"]["command"] = ["pytest-that-is-not-installed"]
    router["routing"]["rules"].append(
        {"id": "ghost", "match": {"task_kind": ["ghost"]}, "select_from": ["nobody"]}
    )
    router_path.write_text(json.dumps(router, indent=2), "utf-8")
    workstream = root / "workstreams/ph-py-lint.json"
    document = json.loads(workstream.read_text("utf-8"))
    document["tasks"].append({"task_id": "orphan", "name": "Orphan", "kind": "poetry"})
    workstream.write_text(json.dumps(document, indent=2), "utf-8")

    result = run_doctor(root, AnalysisOptions(search_path=search))
    messages = {f.code: f.message for f in result.findings}
    assert "'pytest-that-is-not-installed'" in messages["UET505"]
    assert "ghost" in messages["UET506"]
    assert "'orphan'" in messages["UET507"]
    assert "UET305" in messages  # the artifact index names the unknown app too
    assert result.report["status"] == "failed"

    fix_ids = [fix.fix_id for fix in result.fixes]
    assert fix_ids == ["prune-routing-rules"]
    apply_fixes(root, result.fixes)
    rules = json.loads(router_path.read_text("utf-8"))["routing"]["rules"]
    assert "ghost" not in [rule["id"] for rule in rules]
    after = _codes(root, search)
    assert "UET506" not in after and "UET305" not in after


def test_safe_fixes_restore_layout_gitignore_and_workstreams(tmp_path: Path) -> None:
    root, search = _bootstrapped(tmp_path)
    (root / ".gitignore").write_text("__pycache__/\n", "utf-8")
    (root / ".uet" / ".gitignore").unlink()  # nothing ignores .uet/ now
    (root / ".ledger" / ".gitkeep").unlink()
    (root / ".ledger").rmdir()
    (root / "router_config.json").unlink()
    (root / "workstreams/ph-py-test.json").unlink()
    before = _codes(root, search)
    assert {"UET502", "UET503", "UET504", "UET508"} <= set(before)

    result = run_doctor(root, AnalysisOptions(search_path=search))
    applied = apply_fixes(root, result.fixes)
    assert set(applied) == {
        "ignore-engine-state",
        "create-ledger",
        "create-router_config.json",
        "create-workstream-PH-PY-TEST",
    }
    assert (root / ".gitignore").read_text("utf-8").startswith("__pycache__/\n")
    assert ".uet/" in (root / ".gitignore").read_text("utf-8")
    final = run_doctor(root, AnalysisOptions(search_path=search), fixes_applied=len(applied))
    assert [f.format() for f in final.findings if f.level.value != "info"] == []
    assert final.report["validation_results"]["auto_fixes_applied"] == 4
    assert (root / REPORT_PATH).exists() is False  # run_doctor itself never writes


def test_workspace_defined_profile_is_not_unknown(tmp_path: Path) -> None:
    """An extension without ``$schema`` is not indexed as an artifact; the doctor still knows
    the profile it defines (the loader reads ``profile_extensions/`` itself)."""
    root, search = _bootstrapped(tmp_path)
    (root / "profile_extensions").mkdir()
    (root / "profile_extensions" / "team.json").write_text(
        json.dumps(
            {
                "profile_id": "team-python",
                "profile_version": "1.0.0",
                "domain": "software-dev",
                "extends_core": [],
                "adds_resource_types": [],
            }
        ),
        "utf-8",
    )
    text = (root / "PROJECT_PROFILE.yaml").read_text("utf-8")
    (root / "PROJECT_PROFILE.yaml").write_text(
        text.replace("profile_id: software-dev-python", "profile_id: team-python"), "utf-8"
    )
    assert "UET306" not in _codes(root, search)
