"""Generation end to end: every fixture gets a valid workspace whose workstreams really run;
re-runs are idempotent, user edits survive, hostile layouts never lead to writes outside."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.bootstrap import support
from uet.bootstrap import (
    AnalysisOptions,
    FileAction,
    UnsafePathError,
    analyze_workspace,
    apply_plan,
    plan_bootstrap,
    record_applied,
    render_diff,
)
from uet.bootstrap.writer import MANIFEST_PATH, read_manifest, write_text

PYTHON_TOOLS = ("python3", "git", "pytest", "ruff", "mypy")


def _bootstrap(root: Path, search_path: str, profile: str | None = None) -> list[str]:
    options = AnalysisOptions(search_path=search_path)
    analysis = analyze_workspace(root, options)
    chosen = profile or analysis.selection.chosen.profile_id
    plan = plan_bootstrap(root, chosen, analysis=analysis)
    assert plan.problems == (), [problem.format() for problem in plan.problems]
    return list(apply_plan(plan).written)


def _tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink() and ".git" not in path.parts
    }


def _workstreams(root: Path) -> list[str]:
    return sorted(path.relative_to(root).as_posix() for path in root.glob("workstreams/*.json"))


def test_python_library_workstreams_really_run(tmp_path: Path) -> None:
    root = support.python_library(tmp_path / "lib")
    search = support.tool_path(tmp_path / "bin", real=PYTHON_TOOLS)
    written = _bootstrap(root, search)
    support.assert_valid_workspace(root, written)

    assert _workstreams(root) == [
        "workstreams/ph-py-lint.json",
        "workstreams/ph-py-review.json",
        "workstreams/ph-py-test.json",
        "workstreams/ph-py-typecheck.json",
    ]
    for workstream in _workstreams(root):
        for task_id, status, output in support.run_workstream(root, workstream, search):
            assert status == 0, f"{workstream} {task_id}: {output}"
    test_tasks = json.loads((root / "workstreams/ph-py-test.json").read_text("utf-8"))["tasks"]
    # The library configures pytest ([tool.pytest.ini_options]): plain pytest, as its
    # developers run it, collects what that configuration says.
    assert test_tasks[0]["args"] == ["-q"]
    profile = (root / "PROJECT_PROFILE.yaml").read_text("utf-8")
    assert "profile_id: software-dev-python" in profile
    assert "tracked_by: git" in profile


FIXTURES: list[tuple[str, Callable[[Path], Path], str, tuple[str, ...], str]] = [
    ("dbt", support.dbt_project, "data-pipeline", (), "workstreams/ph-data-validate.json"),
    ("mkdocs", support.mkdocs_site, "documentation", ("mkdocs",), "workstreams/ph-docs-build.json"),
    (
        "ops",
        support.terraform_ansible,
        "operations",
        ("terraform", "ansible-playbook", "ansible-lint"),
        "workstreams/ph-ops-validate.json",
    ),
]


@pytest.mark.parametrize(
    ("name", "build", "profile", "stubs", "workstream"), FIXTURES, ids=[f[0] for f in FIXTURES]
)
def test_fixture_workspace_is_valid_and_uses_detected_tools(
    tmp_path: Path,
    name: str,
    build: Callable[[Path], Path],
    profile: str,
    stubs: tuple[str, ...],
    workstream: str,
) -> None:
    root = build(tmp_path / name)
    search = support.tool_path(tmp_path / "bin", real=("python3",), stubs=stubs)
    written = _bootstrap(root, search)
    support.assert_valid_workspace(root, written)
    assert f"profile_id: {profile}" in (root / "PROJECT_PROFILE.yaml").read_text("utf-8")
    router = json.loads((root / "router_config.json").read_text("utf-8"))
    detected = {name for app in router["apps"].values() for name in app["command"][:1]}
    assert detected <= {*stubs, "python3"}
    results = support.run_workstream(root, workstream, search)
    assert results and all(status == 0 for _, status, _ in results), results


def test_operations_tasks_point_at_the_discovered_files(tmp_path: Path) -> None:
    root = support.terraform_ansible(tmp_path / "ops")
    search = support.tool_path(tmp_path / "bin", stubs=("terraform", "ansible-playbook"))
    _bootstrap(root, search)
    tasks = {
        task["task_id"]: task
        for task in json.loads((root / "workstreams/ph-ops-validate.json").read_text())["tasks"]
    }
    assert tasks["terraform-validate"]["cwd"] == "infra"
    assert tasks["terraform-validate"]["depends_on"] == ["terraform-init"]
    assert tasks["playbook-syntax"]["args"] == ["ansible/site.yml"]
    assert "kubeconform" not in tasks


@pytest.mark.parametrize("kind", ["empty", "symlinks", "ignored-repo"])
def test_other_fixtures_get_a_valid_runnable_workspace(tmp_path: Path, kind: str) -> None:
    root = tmp_path / "ws"
    outside = tmp_path / "outside"
    if kind == "empty":
        root.mkdir()
    elif kind == "symlinks":
        support.symlink_hazards(root, outside)
    else:
        support.ignored_repository(root, count=5000)
    before_outside = _tree(outside) if outside.exists() else {}
    search = support.tool_path(tmp_path / "bin", real=PYTHON_TOOLS)
    written = _bootstrap(root, search)
    support.assert_valid_workspace(root, written)
    assert _workstreams(root), "at least one runnable workstream"
    for workstream in _workstreams(root):
        if "typecheck" in workstream:
            continue  # mypy already proven on the library; keep the suite fast
        for task_id, status, output in support.run_workstream(root, workstream, search):
            assert status == 0, f"{workstream} {task_id}: {output}"
    if outside.exists():
        assert _tree(outside) == before_outside


def test_fallback_workstream_when_no_profile_tool_is_installed(tmp_path: Path) -> None:
    root = support.terraform_ansible(tmp_path / "ops")
    search = support.tool_path(tmp_path / "bin", real=("python3",))
    analysis = analyze_workspace(root, AnalysisOptions(search_path=search))
    plan = plan_bootstrap(root, "operations", analysis=analysis)
    assert plan.generated.used_fallback
    assert plan.generated.missing_tools
    apply_plan(plan)
    [workstream] = _workstreams(root)
    results = support.run_workstream(root, workstream, search)
    assert [task for task, _, _ in results] == ["compileall"]
    assert results[0][1] == 0


def test_dry_run_diff_and_writes_nothing(tmp_path: Path) -> None:
    root = support.mkdocs_site(tmp_path / "site")
    before = _tree(root)
    analysis = analyze_workspace(root, AnalysisOptions(search_path=""))
    plan = plan_bootstrap(root, "documentation", analysis=analysis)
    diff = render_diff(plan)
    assert "--- /dev/null\n+++ b/router_config.json\n" in diff
    assert "+profile_id: documentation\n" in diff
    assert _tree(root) == before
    assert not (root / ".uet").exists()


def test_rerun_is_idempotent(tmp_path: Path) -> None:
    root = support.python_library(tmp_path / "lib")
    search = support.tool_path(tmp_path / "bin", real=PYTHON_TOOLS)
    _bootstrap(root, search)
    snapshot = _tree(root)
    mtimes = {path: (root / path).stat().st_mtime_ns for path in snapshot}

    analysis = analyze_workspace(root, AnalysisOptions(search_path=search))
    plan = plan_bootstrap(root, "software-dev-python", analysis=analysis)

    assert {item.action for item in plan.files} == {FileAction.UNCHANGED}
    assert apply_plan(plan).written == ()
    assert _tree(root) == snapshot
    assert {path: (root / path).stat().st_mtime_ns for path in snapshot} == mtimes
    assert (root / ".gitignore").read_text("utf-8").count(".uet/") == 1


def test_user_edits_survive_unless_forced(tmp_path: Path) -> None:
    root = support.python_library(tmp_path / "lib")
    without_ruff = support.tool_path(tmp_path / "bin1", real=("python3", "git", "pytest"))
    with_ruff = support.tool_path(tmp_path / "bin2", real=("python3", "git", "pytest", "ruff"))
    _bootstrap(root, without_ruff)
    edited = (root / "PROJECT_PROFILE.yaml").read_text("utf-8") + "# my note\n"
    (root / "PROJECT_PROFILE.yaml").write_text(edited, "utf-8")

    analysis = analyze_workspace(root, AnalysisOptions(search_path=with_ruff))
    plan = plan_bootstrap(root, "software-dev-python", analysis=analysis)
    actions = {item.path: item.action for item in plan.files}
    assert actions["PROJECT_PROFILE.yaml"] is FileAction.KEEP
    assert actions["router_config.json"] is FileAction.UPDATE  # only the generator touched it
    assert actions["workstreams/ph-py-lint.json"] is FileAction.CREATE
    apply_plan(plan)
    assert (root / "PROJECT_PROFILE.yaml").read_text("utf-8") == edited
    assert "ruff" in json.loads((root / "router_config.json").read_text("utf-8"))["apps"]
    diff = render_diff(plan)
    assert "# PROJECT_PROFILE.yaml: changed by you; kept (use --force to overwrite)\n" in diff
    assert "a/PROJECT_PROFILE.yaml" not in diff  # a kept file shows no diff
    assert "--- a/router_config.json\n+++ b/router_config.json\n" in diff

    forced = plan_bootstrap(root, "software-dev-python", force=True, analysis=analysis)
    assert {item.path: item.action for item in forced.files}["PROJECT_PROFILE.yaml"] is (
        FileAction.OVERWRITE
    )
    apply_plan(forced)
    assert "# my note" not in (root / "PROJECT_PROFILE.yaml").read_text("utf-8")
    manifest, problems = read_manifest(root)
    assert problems == () and manifest.profile_id == "software-dev-python"
    assert "PROJECT_PROFILE.yaml" in manifest.files and ".gitignore" not in manifest.files


def test_existing_gitignore_is_extended_not_replaced(tmp_path: Path) -> None:
    support.write(tmp_path, {".gitignore": "dist/\n*.pyc", "main.py": "print(1)\n"})
    _bootstrap(tmp_path, "")
    assert (tmp_path / ".gitignore").read_text("utf-8").startswith("dist/\n*.pyc\n\n# UET")
    support.write(tmp_path, {".gitignore": "/.uet\n"})
    analysis = analyze_workspace(tmp_path, AnalysisOptions(search_path=""))
    plan = plan_bootstrap(tmp_path, "generic", analysis=analysis)
    assert {item.path: item.action for item in plan.files}[".gitignore"] is FileAction.UNCHANGED


def test_symlinked_folder_leading_outside_is_refused(tmp_path: Path) -> None:
    root = support.python_library(tmp_path / "lib")
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "phases").symlink_to(outside)
    analysis = analyze_workspace(root, AnalysisOptions(search_path=""))
    plan = plan_bootstrap(root, "software-dev-python", analysis=analysis)
    assert not plan.ok
    assert any("leading outside the workspace" in p.message for p in plan.problems)
    with pytest.raises(ValueError, match="plan has errors"):
        apply_plan(plan)
    assert list(outside.iterdir()) == []
    assert not (root / "router_config.json").exists()


def test_symlinked_target_file_is_never_replaced(tmp_path: Path) -> None:
    root = support.python_library(tmp_path / "lib")
    target = tmp_path / "precious.json"
    target.write_text("{}\n", "utf-8")
    (root / "router_config.json").symlink_to(target)
    analysis = analyze_workspace(root, AnalysisOptions(search_path=""))
    plan = plan_bootstrap(root, "software-dev-python", analysis=analysis)
    assert any(
        "symbolic link" in p.message and p.path == "router_config.json" for p in plan.problems
    )
    with pytest.raises(ValueError):
        apply_plan(plan)
    assert target.read_text("utf-8") == "{}\n"
    assert (root / "router_config.json").is_symlink()


@pytest.mark.parametrize(
    ("relative", "reason"),
    [
        ("../escape.txt", "'..'"),
        ("a/../../escape.txt", "'..'"),
        ("/tmp/escape.txt", "absolute"),
        ("C:/escape.txt", "absolute"),
        ("a\\b.txt", "backslash"),
        ("", "empty"),
        ("a//b", "empty"),
        ("via-link/escape.txt", "leading outside"),
    ],
)
def test_writer_refuses_paths_outside_the_workspace(
    tmp_path: Path, relative: str, reason: str
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "via-link").symlink_to(outside)
    with pytest.raises(UnsafePathError, match=reason):
        write_text(root, relative, "x")
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "escape.txt").exists()


def test_writer_is_atomic_and_keeps_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "script.sh"
    target.write_text("old\n", "utf-8")
    target.chmod(0o750)
    write_text(tmp_path, "script.sh", "new\n")
    assert target.read_text("utf-8") == "new\n"
    assert target.stat().st_mode & 0o777 == 0o750
    assert [path.name for path in tmp_path.iterdir()] == ["script.sh"]
    write_text(tmp_path, "deep/er/file.txt", "x")
    assert (tmp_path / "deep/er/file.txt").read_text("utf-8") == "x"


def test_corrupt_manifest_is_a_warning_and_files_are_kept(tmp_path: Path) -> None:
    root = support.python_library(tmp_path / "lib")
    _bootstrap(root, "")
    (root / MANIFEST_PATH).write_text("{not json", "utf-8")
    (root / "router_config.json").write_text('{"version": "1.0.0"}\n', "utf-8")
    analysis = analyze_workspace(root, AnalysisOptions(search_path=""))
    plan = plan_bootstrap(root, "software-dev-python", analysis=analysis)
    assert any(problem.path == MANIFEST_PATH for problem in plan.problems)
    assert {item.path: item.action for item in plan.files}["router_config.json"] is FileAction.KEEP


def test_hostile_extensions_never_write_outside_the_workspace(tmp_path: Path) -> None:
    root = support.python_library(tmp_path / "lib")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "PH-STOLEN.yaml").write_text("phase_id: PH-STOLEN\n", "utf-8")
    hostile = [
        {"phase_id": "../../../evil", "name": "Evil", "category": "x"},
        {"phase_id": "PH-ABS", "name": "Abs", "category": "x", "template_path": "/etc/hosts"},
        {"phase_id": "PH-UP", "name": "Up", "category": "x", "template_path": "../../x.yaml"},
        {"phase_id": "PH-LINK", "name": "Link", "category": "x", "template_path": "link.yaml"},
        {
            "phase_id": "PH-CWD",
            "name": "Cwd",
            "category": "x",
            "tasks": [
                {"task_id": "t", "name": "t", "kind": "status", "tool": "git-diff", "cwd": "/"}
            ],
        },
    ]
    folder = root / "profile_extensions"
    folder.mkdir()
    (folder / "link.yaml").symlink_to(outside / "PH-STOLEN.yaml")
    for number, entry in enumerate(hostile):
        document = {
            "profile_id": f"evil{number}",
            "extends_profile": "software-dev-python",
            "phase_templates": [entry],
        }
        (folder / f"{number}.json").write_text(json.dumps(document), "utf-8")
    everything_else = {
        path: data for path, data in _tree(tmp_path).items() if not path.startswith("lib/")
    }

    search = support.tool_path(tmp_path / "bin", real=("git", "python3"))
    analysis = analyze_workspace(root, AnalysisOptions(search_path=search))
    assert len([p for p in analysis.profiles.problems if p.level.value == "error"]) >= 5
    plan = plan_bootstrap(root, "software-dev-python", analysis=analysis)
    written = list(apply_plan(plan).written)

    support.assert_valid_workspace(root, written)
    phases = sorted(path.name for path in (root / "phases").iterdir())
    assert not any(name.startswith(("PH-ABS", "PH-UP", "PH-LINK", "PH-CWD")) for name in phases)
    after = {path: data for path, data in _tree(tmp_path).items() if not path.startswith("lib/")}
    assert after == everything_else


def test_editor_flow_apply_edits_then_record(tmp_path: Path) -> None:
    """The language server's path: the client applies ``plan.writes()`` as one
    WorkspaceEdit (simulated with plain writes), then ``record_applied`` makes the next run
    recognise the files as generated."""
    root = support.python_library(tmp_path / "lib")
    analysis = analyze_workspace(root, AnalysisOptions(search_path=""))
    plan = plan_bootstrap(root, analysis.selection.chosen.profile_id, analysis=analysis)
    edits = plan.writes()
    assert {item.action for item in edits} <= {FileAction.CREATE, FileAction.UPDATE}
    gitignore = next(item for item in edits if item.path == ".gitignore")
    assert gitignore.previous_text is not None and gitignore.action is FileAction.UPDATE
    for item in edits:
        target = root / item.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(item.text, "utf-8")
    record_applied(plan)

    (root / "router_config.json").write_text("{}\n", "utf-8")  # the user edits one file
    again = plan_bootstrap(root, plan.profile_id, analysis=analysis)
    actions = {item.path: item.action for item in again.files}
    assert actions.pop("router_config.json") is FileAction.KEEP
    assert set(actions.values()) == {FileAction.UNCHANGED}
