"""The bootstrap's own workspace rules (UET5xx), used by ``uet doctor``.

Each check reads already-loaded values (the workspace index's reports, the plan of what the
generator would write now) and appends ``Finding`` records and, where a safe repair exists,
``Fix`` records (the new full text of one file). No check touches the disk.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from uet.artifacts.diagnostics import CODES
from uet.bootstrap.analysis import Analysis
from uet.bootstrap.discovery import Discovery
from uet.bootstrap.errors import ProblemLevel
from uet.bootstrap.generator import (
    GITKEEP_PATHS,
    PHASES_DIR,
    PROJECT_PROFILE_PATH,
    ROUTER_CONFIG_PATH,
    SkippedTask,
    router_config_document,
)
from uet.bootstrap.manifests import Declaration
from uet.bootstrap.planner import GITIGNORE_PATH, BootstrapPlan, FileAction, PlannedFile
from uet.bootstrap.prerequisites import (
    dbt_profile_problem,
    install_hint,
    terraform_provider_note,
)
from uet.bootstrap.profile_model import ToolSpec
from uet.bootstrap.serialize import dump_json
from uet.bootstrap.toolchain import ToolFolder, locate
from uet.bootstrap.writer import STATE_GITIGNORE

__all__ = [
    "DOCTOR_CODES",
    "FileChange",
    "Finding",
    "Fix",
    "executable_missing",
    "layout_checks",
    "phase_checks",
    "prerequisite_checks",
    "router_checks",
    "router_update",
    "state_ignores_itself",
    "task_checks",
    "tool_checks",
]

# The doctor's codes (UET5xx) are defined once, with every other code, in uet.artifacts.
DOCTOR_CODES: dict[str, str] = {code: text for code, text in CODES.items() if code[3] == "5"}


@dataclass(frozen=True, slots=True)
class FileChange:
    """The new full text of one workspace file (``previous_text``: ``None`` when new)."""

    path: str
    text: str
    previous_text: str | None


@dataclass(frozen=True, slots=True)
class Fix:
    """A safe fix: the new full texts of the files it changes together.

    A fix that adds a workstream also adds the apps its tasks name to the router config, so
    applying any fix alone leaves a workspace that validates. Fixes that change the same
    file carry the same new text for it, so they can be applied in any order."""

    fix_id: str
    title: str
    changes: tuple[FileChange, ...]

    @property
    def path(self) -> str:
        """The file the fix is about (its first change)."""
        return self.changes[0].path

    @property
    def paths(self) -> tuple[str, ...]:
        """Every file the fix writes."""
        return tuple(change.path for change in self.changes)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem ``uet doctor`` found; ``where`` is ``path`` or ``path:line:col``."""

    code: str
    level: ProblemLevel
    where: str
    message: str
    fix_id: str | None = None

    def format(self) -> str:
        """``where: level CODE message [fix: id]``."""
        fix = f" [fix: {self.fix_id}]" if self.fix_id else ""
        return f"{self.where}: {self.level.value} {self.code} {self.message}{fix}"


def layout_checks(plan: BootstrapPlan, findings: list[Finding], fixes: list[Fix]) -> None:
    """``.gitignore``, framework folders, missing generated files (fixed from the plan)."""
    for item in plan.files:
        if item.path == GITIGNORE_PATH and item.writes and not state_ignores_itself(plan.root):
            fix = Fix(
                "ignore-engine-state",
                "Add .uet/ to .gitignore",
                (FileChange(item.path, item.text, item.previous_text),),
            )
            fixes.append(fix)
            findings.append(
                Finding(
                    "UET503",
                    ProblemLevel.WARNING,
                    GITIGNORE_PATH,
                    ".uet/ (engine database and logs) is not ignored",
                    fix.fix_id,
                )
            )
        elif item.action is FileAction.CREATE and item.path in GITKEEP_PATHS:
            folder = item.path.rpartition("/")[0]
            change = FileChange(item.path, "", None)
            fix = Fix(f"create-{folder.strip('.')}", f"Create {folder}/", (change,))
            fixes.append(fix)
            findings.append(
                Finding("UET504", ProblemLevel.INFO, folder + "/", "folder is missing", fix.fix_id)
            )
        elif item.action is FileAction.CREATE and item.path in (
            PROJECT_PROFILE_PATH,
            ROUTER_CONFIG_PATH,
        ):
            change = FileChange(item.path, item.text, None)
            fix = Fix(f"create-{item.path}", f"Generate {item.path}", (change,))
            fixes.append(fix)
            findings.append(
                Finding("UET502", ProblemLevel.ERROR, item.path, "is missing", fix.fix_id)
            )


def state_ignores_itself(root: Path) -> bool:
    """True when ``.uet/.gitignore`` ignores everything in ``.uet/`` (``*``, as ``uet``
    writes it), so git ignores the engine state whatever the root ``.gitignore`` says."""
    try:
        text = (root / STATE_GITIGNORE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return any(line.strip() in ("*", "/*", "**") for line in text.splitlines())


def executable_missing(
    app: Any, search_path: str | None, folders: Sequence[ToolFolder] = ()
) -> str | None:
    """The executable ``app`` runs when it cannot be found in the project's tool
    ``folders`` or on ``search_path`` (``None``: found or unknowable), looked up as the
    engine looks it up (``uet.bootstrap.toolchain``)."""
    if not isinstance(app, dict) or app.get("shell") is True:
        return None
    command = app.get("command")
    if isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError:
            return None
    elif isinstance(command, list):
        argv = [str(part) for part in command]
    else:
        return None
    if not argv or "/" in argv[0]:
        return None
    return None if locate(argv[0], folders, search_path) is not None else argv[0]


def router_checks(
    router: tuple[str, Mapping[str, Any], str],
    search_path: str | None,
    findings: list[Finding],
    fixes: list[Fix],
    folders: Sequence[ToolFolder] = (),
) -> None:
    relative, value, text = router
    apps = value.get("apps") or {}
    for app_id, app in sorted(apps.items()):
        missing = executable_missing(app, search_path, folders)
        if missing is not None:
            where = (
                "neither in the project's environments nor on PATH" if folders else "not on PATH"
            )
            findings.append(
                Finding(
                    "UET505",
                    ProblemLevel.WARNING,
                    relative,
                    f"app {app_id!r} runs {missing!r}, which is {where}",
                )
            )
    rules = (value.get("routing") or {}).get("rules") or []
    dangling = False
    kept_rules: list[Any] = []
    for rule in rules:
        if not isinstance(rule, dict):
            kept_rules.append(rule)
            continue
        named = [app for app in rule.get("select_from", []) if isinstance(app, str)]
        known = [app for app in named if app in apps]
        if named and not known:
            findings.append(
                Finding(
                    "UET506",
                    ProblemLevel.ERROR,
                    relative,
                    f"routing rule {rule.get('id')!r}: no app in select_from exists "
                    f"({', '.join(named)})",
                    "prune-routing-rules",
                )
            )
        cleaned = dict(rule)
        for key in ("select_from", "validate_with"):
            if key in cleaned and isinstance(cleaned[key], list):
                kept = [app for app in cleaned[key] if app in apps]
                dangling = dangling or len(kept) != len(cleaned[key])
                cleaned[key] = kept
        if named and not known:
            continue
        if "validate_with" in cleaned and not cleaned["validate_with"]:
            del cleaned["validate_with"]
        kept_rules.append(cleaned)
    if dangling and relative.endswith(".json"):
        document = json.loads(text)
        document.setdefault("routing", {})["rules"] = kept_rules
        fixes.append(
            Fix(
                "prune-routing-rules",
                "Remove unknown apps from routing rules",
                (FileChange(relative, dump_json(document), text),),
            )
        )


def task_checks(
    workstreams: list[tuple[str, Any, str]],
    routers: list[tuple[str, Any, str]],
    apps: Mapping[str, Any],
    findings: list[Finding],
) -> None:
    """A task without ``tool`` needs an app that declares its kind (directly or by rule)."""
    if not routers:
        return
    routable: set[str] = set()
    for app in apps.values():
        if isinstance(app, dict):
            routable.update((app.get("capabilities") or {}).get("task_kinds") or [])
    for _, value, _ in routers:
        if not isinstance(value, dict):
            continue
        for rule in (value.get("routing") or {}).get("rules") or []:
            if isinstance(rule, dict) and any(app in apps for app in rule.get("select_from", [])):
                routable.update((rule.get("match") or {}).get("task_kind") or [])
    for relative, value, _ in workstreams:
        for task in value.get("tasks") or []:
            if not isinstance(task, dict) or "tool" in task or "command" in task:
                continue
            kind = task.get("kind")
            if kind not in routable:
                findings.append(
                    Finding(
                        "UET507",
                        ProblemLevel.ERROR,
                        relative,
                        f"task {task.get('task_id')!r}: no app handles kind {kind!r}",
                    )
                )


def router_update(
    routers: list[tuple[str, Any, str]],
    plan: BootstrapPlan,
    wanted: Mapping[str, ToolSpec],
) -> FileChange | None:
    """``router_config.json`` with the apps of ``wanted`` it lacks (and routing rules for the
    task kinds no rule routes yet); ``None`` when nothing is missing or the file is not JSON.

    Nothing the user wrote is changed or removed: apps and rules are only added. When the
    file is absent, the generator's text (the ``create-router_config.json`` fix) is used."""
    current = next((item for item in routers if item[0] == ROUTER_CONFIG_PATH), None)
    if current is None:
        planned = next((item for item in plan.files if item.path == ROUTER_CONFIG_PATH), None)
        if planned is None or planned.action is not FileAction.CREATE:
            return None
        return FileChange(ROUTER_CONFIG_PATH, planned.text, None)
    _, value, text = current
    if not isinstance(value, dict):
        return None
    document = json.loads(text)
    apps = document.setdefault("apps", {})
    added = {app_id: tool for app_id, tool in wanted.items() if app_id not in apps}
    if not added:
        return None
    generated = router_config_document(added)
    apps.update(generated["apps"])
    rules = document.setdefault("routing", {}).setdefault("rules", [])
    routed = {
        kind
        for rule in rules
        if isinstance(rule, dict)
        for kind in (rule.get("match") or {}).get("task_kind") or []
    }
    taken = {rule.get("id") for rule in rules if isinstance(rule, dict)}
    for rule in generated["routing"]["rules"]:
        if rule["id"] not in taken and not set(rule["match"]["task_kind"]) & routed:
            rules.append(rule)
    return FileChange(ROUTER_CONFIG_PATH, dump_json(document), text)


def tool_checks(
    plan: BootstrapPlan,
    tools: Mapping[str, ToolSpec],
    declared: Mapping[str, Declaration],
    findings: list[Finding],
) -> tuple[set[str], tuple[str, ...]]:
    """UET511: the profile's tools that are not installed although the project declares them
    (warning, at the manifest), and the phases left without any task because none of their
    tools is installed (warning, at the phase). Returns the phases explained and the
    install commands to suggest."""
    left_out: dict[str, list[SkippedTask]] = {}
    by_phase: dict[str, list[SkippedTask]] = {}
    for task in plan.generated.skipped:
        by_phase.setdefault(task.phase_id, []).append(task)
        if task.tool is not None:
            left_out.setdefault(task.tool, []).append(task)
    hints = {
        tool: install_hint(tools[tool].detect, declared)
        for tool in plan.generated.missing_tools
        if tool in tools
    }
    commands: list[str] = []
    explained: set[str] = set()
    groups: dict[tuple[str, str], list[str]] = {}
    for tool, hint in sorted(hints.items()):
        if hint.declared_in is not None:
            groups.setdefault((hint.declared_in, hint.command), []).append(tool)
    for (where, command), names in groups.items():
        commands.append(command)
        tasks = [task for tool in names for task in left_out.get(tool, [])]
        explained.update(task.phase_id for task in tasks)
        lost = ", ".join(sorted(f"{task.phase_id}/{task.task_id}" for task in tasks))
        subject = f"tool {names[0]!r} is" if len(names) == 1 else f"tools {', '.join(names)} are"
        findings.append(
            Finding(
                "UET511",
                ProblemLevel.WARNING,
                where,
                f"{subject} declared by the project but not installed"
                + (f", so {lost} cannot run" if lost else "")
                + f"; {hints[names[0]].format(several=len(names) > 1)}",
            )
        )
    for phase_id, skipped in sorted(by_phase.items()):
        missing = sorted({task.tool for task in skipped if task.tool is not None})
        if phase_id in plan.generated.workstream_phases or phase_id in explained or not missing:
            continue
        explained.add(phase_id)
        choices = "; ".join(f"{tool}: {hints[tool].format()}" for tool in missing if tool in hints)
        commands.extend(hints[tool].command for tool in missing[:1] if tool in hints)
        findings.append(
            Finding(
                "UET511",
                ProblemLevel.WARNING,
                f"{PHASES_DIR}/{phase_id}.yaml",
                f"phase {phase_id!r} has no workstream: "
                + ("its tool is not" if len(missing) == 1 else "none of its tools is")
                + f" installed ({choices})",
            )
        )
    return explained, tuple(dict.fromkeys(commands))


def prerequisite_checks(
    root: Path,
    plan: BootstrapPlan,
    discovery: Discovery,
    env: Mapping[str, str],
    findings: list[Finding],
) -> None:
    """UET512: known prerequisites of the tools the workspace uses (dbt's profile, the
    providers ``terraform init`` downloads)."""
    apps = set(plan.generated.apps)
    found = []
    if "dbt" in apps or "dbt" in plan.generated.missing_tools:
        found.append(dbt_profile_problem(root, discovery.paths_of("dbt_project"), env))
    if "terraform" in apps:
        found.append(terraform_provider_note(root, discovery.paths_of("terraform")))
    for item in found:
        if item is not None:
            level = ProblemLevel.WARNING if item.blocking else ProblemLevel.INFO
            findings.append(Finding("UET512", level, item.path, item.message))


def phase_checks(
    analysis: Analysis,
    plan: BootstrapPlan | None,
    values: Mapping[str, Any],
    workstreams: list[tuple[str, Any, str]],
    out: tuple[list[Finding], list[Fix]],
    *,
    apps: Mapping[str, Any],
    router_change: FileChange | None,
    explained: set[str],
) -> None:
    """Phases that have automatable tasks in the profile but no workstream. The fix that
    generates one also adds the apps its tasks name to the router config (``router_change``);
    a phase none of whose tasks can run says why (missing tools: already ``explained`` by
    UET511; else the files its tasks need)."""
    findings, fixes = out
    if plan is None:
        return
    covered = {value.get("phase_id") for _, value, _ in workstreams}
    profile = analysis.profiles.profiles[plan.profile_id]
    automatable = {phase.phase_id for phase in profile.phases if phase.tasks}
    planned: dict[str, PlannedFile] = {}
    for item in plan.files:
        if item.path.startswith("workstreams/") and item.action is FileAction.CREATE:
            planned[json.loads(item.text).get("phase_id")] = item
    for relative, value, _ in values.get("phase_spec", []):
        if not isinstance(value, dict) or value.get("phase_id") in covered:
            continue
        phase_id = value.get("phase_id")
        if phase_id not in automatable:
            continue
        found = planned.get(str(phase_id))
        if found is None and phase_id in explained:
            continue
        fix_id = f"create-workstream-{phase_id}" if found is not None else None
        if found is not None:
            changes = [FileChange(found.path, found.text, None)]
            title = f"Generate {found.path}"
            needed = {task.get("tool") for task in json.loads(found.text).get("tasks", [])}
            if router_change is not None and not needed <= set(apps):
                changes.append(router_change)
                title += f" and add its apps to {router_change.path}"
            fixes.append(Fix(str(fix_id), title, tuple(changes)))
        reasons = sorted(
            {task.reason for task in plan.generated.skipped if task.phase_id == phase_id}
        )
        why = f" (none of its tasks can run here: {'; '.join(reasons) or 'see the profile'})"
        findings.append(
            Finding(
                "UET508",
                ProblemLevel.WARNING if found is not None else ProblemLevel.INFO,
                relative,
                f"phase {phase_id!r} has no workstream" + ("" if found else why),
                fix_id,
            )
        )
