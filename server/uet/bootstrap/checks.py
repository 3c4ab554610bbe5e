"""The bootstrap's own workspace rules (UET5xx), used by ``uet doctor``.

Each check reads already-loaded values (the workspace index's reports, the plan of what the
generator would write now) and appends ``Finding`` records and, where a safe repair exists,
``Fix`` records (the new full text of one file). No check touches the disk.
"""

from __future__ import annotations

import json
import shlex
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from uet.artifacts.diagnostics import CODES
from uet.bootstrap.analysis import Analysis
from uet.bootstrap.errors import ProblemLevel
from uet.bootstrap.generator import GITKEEP_PATHS, PROJECT_PROFILE_PATH, ROUTER_CONFIG_PATH
from uet.bootstrap.planner import GITIGNORE_PATH, BootstrapPlan, FileAction, PlannedFile
from uet.bootstrap.serialize import dump_json

__all__ = [
    "DOCTOR_CODES",
    "Finding",
    "Fix",
    "executable_missing",
    "layout_checks",
    "phase_checks",
    "router_checks",
    "task_checks",
]

# The doctor's codes (UET5xx) are defined once, with every other code, in uet.artifacts.
DOCTOR_CODES: dict[str, str] = {code: text for code, text in CODES.items() if code[3] == "5"}


@dataclass(frozen=True, slots=True)
class Fix:
    """A safe fix: the new full text of one workspace file."""

    fix_id: str
    title: str
    path: str
    text: str
    previous_text: str | None


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
        if item.path == GITIGNORE_PATH and item.writes:
            fix = Fix(
                "ignore-engine-state",
                "Add .uet/ to .gitignore",
                item.path,
                item.text,
                item.previous_text,
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
            fix = Fix(f"create-{folder.strip('.')}", f"Create {folder}/", item.path, "", None)
            fixes.append(fix)
            findings.append(
                Finding("UET504", ProblemLevel.INFO, folder + "/", "folder is missing", fix.fix_id)
            )
        elif item.action is FileAction.CREATE and item.path in (
            PROJECT_PROFILE_PATH,
            ROUTER_CONFIG_PATH,
        ):
            fix = Fix(f"create-{item.path}", f"Generate {item.path}", item.path, item.text, None)
            fixes.append(fix)
            findings.append(
                Finding("UET502", ProblemLevel.ERROR, item.path, "is missing", fix.fix_id)
            )


def executable_missing(app: Any, search_path: str | None) -> str | None:
    """The executable ``app`` runs when it cannot be found (``None``: found or unknowable)."""
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
    return None if shutil.which(argv[0], path=search_path) else argv[0]


def router_checks(
    router: tuple[str, Mapping[str, Any], str],
    search_path: str | None,
    findings: list[Finding],
    fixes: list[Fix],
) -> None:
    relative, value, text = router
    apps = value.get("apps") or {}
    for app_id, app in sorted(apps.items()):
        missing = executable_missing(app, search_path)
        if missing is not None:
            findings.append(
                Finding(
                    "UET505",
                    ProblemLevel.WARNING,
                    relative,
                    f"app {app_id!r} runs {missing!r}, which is not on PATH",
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
                relative,
                dump_json(document),
                text,
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


def phase_checks(
    analysis: Analysis,
    plan: BootstrapPlan | None,
    values: Mapping[str, Any],
    workstreams: list[tuple[str, Any, str]],
    out: tuple[list[Finding], list[Fix]],
) -> None:
    """Phases that have automatable tasks in the profile but no workstream."""
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
        fix_id = f"create-workstream-{phase_id}" if found is not None else None
        if found is not None:
            fixes.append(Fix(str(fix_id), f"Generate {found.path}", found.path, found.text, None))
        findings.append(
            Finding(
                "UET508",
                ProblemLevel.WARNING if found is not None else ProblemLevel.INFO,
                relative,
                f"phase {phase_id!r} has no workstream"
                + ("" if found else " (none of its tasks can run here: tools or files missing)"),
                fix_id,
            )
        )
