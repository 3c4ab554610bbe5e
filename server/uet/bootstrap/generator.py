"""Turns (discovery, profile) into the texts of the starter artifacts. Pure: no disk access.

What is generated (docs/layout.md): ``PROJECT_PROFILE.yaml``, ``router_config.json`` (the
profile's tools that were found on ``PATH``, as apps, plus one routing rule per task
kind), ``phases/<PHASE>.yaml`` for every phase template, ``workstreams/<phase>.json`` for
every phase with at least one runnable task, ``.tasks/.gitkeep`` and ``.ledger/.gitkeep``.

A task template is *runnable* here when its tool's executables were found and every
placeholder (``{{paths:KIND}}``...) has a value in this workspace; other tasks are left out
and listed in ``Generated.skipped`` with the reason. A phase's templates of one kind give
way to the project's own entry point for that kind when it declares one (``make test``,
``tox -e lint``: :mod:`uet.bootstrap.task_sources` decides, and its runner becomes an app);
every generated task says where its command comes from (``x-uet-source``, and
``Generated.sources``). When no task of the profile is runnable,
the fallback profile's runnable tasks (``git status``, ``python3 -m compileall``) form the
starter workstream instead, so a bootstrapped workspace always has something to run when
git or Python is installed. Output is deterministic: no timestamps, sorted keys where order
carries no meaning.
"""

from __future__ import annotations

import copy
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from uet.bootstrap.discovery import Discovery
from uet.bootstrap.profile_model import PLACEHOLDER, PhaseTemplate, Profile, ToolSpec
from uet.bootstrap.serialize import dump_json, dump_yaml
from uet.bootstrap.task_sources import (
    RUNNER_APPS,
    EntryChoice,
    TaskSource,
    choose_entry_point,
    tool_source,
)

__all__ = [
    "GITKEEP_PATHS",
    "PHASES_DIR",
    "PROJECT_PROFILE_PATH",
    "ROUTER_CONFIG_PATH",
    "SCHEMA_ID_PREFIX",
    "WORKSTREAMS_DIR",
    "Generated",
    "GeneratedFile",
    "SkippedTask",
    "TaskSource",
    "generate",
    "project_id_for",
    "router_config_document",
]

SCHEMA_ID_PREFIX = "https://uet.invalid/schemas/v1/"
PROJECT_PROFILE_PATH = "PROJECT_PROFILE.yaml"
ROUTER_CONFIG_PATH = "router_config.json"
PHASES_DIR = "phases"
WORKSTREAMS_DIR = "workstreams"
GITKEEP_PATHS = (".tasks/.gitkeep", ".ledger/.gitkeep")
_FRAMEWORK_PATHS = {
    "tasks_dir": ".tasks/",
    "ledger_dir": ".ledger/",
    "worktrees_dir": ".uet/worktrees/",
    "quarantine_dir": ".uet/quarantine/",
    "registry_file": ".uet/registry.json",
}
_EXCLUSIONS = [".git/", ".uet/", "node_modules/", "__pycache__/", ".venv/"]
_PROJECT_CONSTRAINTS = (
    "patch_only",
    "tests_must_pass",
    "ascii_only",
    "max_lines_changed",
    "max_files_changed",
    "require_issue_ref",
)
_TASK_KEYS = (
    "task_id",
    "name",
    "kind",
    "tool",
    "command",
    "args",
    "cwd",
    "env",
    "depends_on",
    "tags",
    "classification",
    "execution",
)
_DEFAULTS = {"max_attempts": 1, "timeout_seconds": 900, "strategy": "fixed"}
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")
# Placeholder kinds in words, for the reason a task was left out (others: "<kind> file").
_KIND_WORDS = {
    "src_dirs": "source folder",
    "test_dirs": "test folder",
    "python_test_dirs": "Python test folder",
    "doc_dirs": "documentation folder",
    "config_dirs": "configuration folder",
    "script_dirs": "script folder",
    "sql_dirs": "SQL folder",
    "git": "git work tree",
}
# The name of a task running the project's entry point: "<label> with <command>".
_KIND_LABELS = {
    "test_execution": "Run the tests",
    "lint": "Lint",
    "format_check": "Check formatting",
    "type_check": "Type-check",
    "docs_build": "Build the documentation",
}
SOURCE_KEY = "x-uet-source"  # a generated task's field saying where its command comes from


@dataclass(frozen=True, slots=True)
class GeneratedFile:
    """One generated file: workspace-relative path, text and its schema (``None``: not an
    artifact, e.g. ``.gitkeep``)."""

    path: str
    text: str
    schema: str | None


@dataclass(frozen=True, slots=True)
class SkippedTask:
    """A task template left out of the starter workstreams, and why (``tool``: the profile
    tool that was not found, when that is the reason)."""

    phase_id: str
    task_id: str
    reason: str
    tool: str | None = None


@dataclass(frozen=True, slots=True)
class Generated:
    """Everything ``generate`` produced."""

    files: tuple[GeneratedFile, ...]
    apps: tuple[str, ...]
    missing_tools: tuple[str, ...]
    runnable_tasks: int
    skipped: tuple[SkippedTask, ...]
    used_fallback: bool
    workstream_phases: tuple[str, ...] = ()
    sources: tuple[TaskSource, ...] = ()


def project_id_for(name: str) -> str:
    """``PRJ-<slug>`` (letters, digits, ``._-``)."""
    slug = _SLUG.sub("-", name).strip("-._") or "workspace"
    return f"PRJ-{slug}"


def generate(discovery: Discovery, profile: Profile, fallback: Profile | None) -> Generated:
    """The starter artifacts of ``profile`` for the workspace ``discovery`` describes."""
    project_id = project_id_for(discovery.project_name)
    detected = {
        app_id: tool
        for app_id, tool in profile.tools.items()
        if all(name in discovery.executables for name in tool.detect)
    }
    missing = tuple(sorted(set(profile.tools) - set(detected)))
    skipped: list[SkippedTask] = []
    sources: list[TaskSource] = []
    workstreams: list[tuple[PhaseTemplate, list[dict[str, Any]]]] = []
    apps = dict(detected)
    for phase in profile.phases:
        choices = _entry_choices(phase.tasks, profile, detected, discovery)
        tasks = _instantiate(
            phase, phase.tasks, detected, discovery, (skipped, sources), choices=choices
        )
        if tasks:
            workstreams.append((phase, tasks))
            apps.update({c.app_id: RUNNER_APPS[c.app_id] for c in choices.values()})
    used_fallback = False
    if not workstreams and fallback is not None and fallback.profile_id != profile.profile_id:
        fallback_tools = {
            app_id: tool
            for app_id, tool in fallback.tools.items()
            if all(name in discovery.executables for name in tool.detect)
        }
        templates = [task for phase in fallback.phases for task in phase.tasks]
        host = next((phase for phase in profile.phases if phase.tasks), None) or next(
            iter(profile.phases), None
        )
        if host is not None:
            out: tuple[list[SkippedTask], list[TaskSource]] = ([], sources)
            tasks = _instantiate(host, tuple(templates), fallback_tools, discovery, out, choices={})
            if tasks:
                workstreams.append((host, tasks))
                used_fallback = True
                apps.update(
                    {tool: fallback_tools[tool] for tool in {str(t["tool"]) for t in tasks}}
                )
    files = [
        GeneratedFile(
            PROJECT_PROFILE_PATH,
            dump_yaml(_project_profile(discovery, profile, project_id, apps)),
            "project_profile",
        ),
        GeneratedFile(ROUTER_CONFIG_PATH, dump_json(router_config_document(apps)), "router_config"),
    ]
    for phase in profile.phases:
        files.append(
            GeneratedFile(f"{PHASES_DIR}/{phase.phase_id}.yaml", _phase_text(phase), "phase_spec")
        )
    for phase, tasks in workstreams:
        document = _workstream(project_id, profile, phase, tasks, used_fallback)
        path = f"{WORKSTREAMS_DIR}/{_slug(phase.phase_id).lower()}.json"
        files.append(GeneratedFile(path, dump_json(document), "workstream_spec"))
    files.extend(GeneratedFile(path, "", None) for path in GITKEEP_PATHS)
    return Generated(
        files=tuple(files),
        apps=tuple(sorted(apps)),
        missing_tools=missing,
        runnable_tasks=sum(len(tasks) for _, tasks in workstreams),
        skipped=tuple(skipped),
        used_fallback=used_fallback,
        workstream_phases=tuple(phase.phase_id for phase, _ in workstreams),
        sources=tuple(sources),
    )


def _slug(identifier: str) -> str:
    return _SLUG.sub("-", identifier).strip("-._") or "phase"


def _describe(placeholder: str) -> str:
    """What a placeholder stands for, in words (``{{paths:src_dirs}}`` -> source folders)."""
    match = PLACEHOLDER.match(placeholder)
    if match is None:
        return repr(placeholder)
    kind = match.group("kind")
    return _KIND_WORDS.get(kind, f"{kind.replace('_', ' ')} file") + f" ({kind})"


def _expand(value: str, discovery: Discovery) -> list[str] | None:
    """Values of one argument (``None``: a placeholder without a value here). A
    ``{{paths:KIND}}`` the project's own tool configuration supplies becomes nothing, so
    the tool reads that configuration (pytest's ``testpaths``)."""
    match = PLACEHOLDER.match(value)
    if match is None:
        return [value]
    form = match.group("form")
    if form == "paths" and match.group("kind") in discovery.tooling.configured_kinds:
        return []
    paths = discovery.paths_of(match.group("kind"))
    if not paths:
        return None
    if form == "paths":
        return list(paths)
    if form == "path":
        return [paths[0]]
    folder = paths[0].rpartition("/")[0] if paths[0] != "." else "."
    return [folder or "."]


def _kind_tools(
    templates: tuple[Mapping[str, Any], ...], kind: str, tools: Mapping[str, ToolSpec]
) -> list[ToolSpec]:
    """The detected tools the templates of ``kind`` would use (named, or routed by kind)."""
    found: list[ToolSpec] = []
    for template in templates:
        if template.get("kind") != kind:
            continue
        tool = template.get("tool")
        if tool is not None:
            found.extend([tools[str(tool)]] if tool in tools else [])
        else:
            found.extend(
                spec
                for spec in tools.values()
                if kind in spec.app.get("capabilities", {}).get("task_kinds", [])
            )
    return found


def _entry_choices(
    templates: tuple[Mapping[str, Any], ...],
    profile: Profile,
    tools: Mapping[str, ToolSpec],
    discovery: Discovery,
) -> dict[str, EntryChoice]:
    """Per task kind of a phase, the project's entry point its tasks give way to (a runner
    whose app id the profile uses for a tool of its own is not used)."""
    choices: dict[str, EntryChoice] = {}
    for kind in dict.fromkeys(str(template.get("kind")) for template in templates):
        choice = choose_entry_point(kind, _kind_tools(templates, kind, tools), discovery.tooling)
        if choice is not None and choice.app_id not in profile.tools:
            choices[kind] = choice
    return choices


def _entry_task(
    template: Mapping[str, Any], choice: EntryChoice, taken: set[str]
) -> dict[str, Any]:
    """The task running ``choice`` in place of the templates of its kind (the first one's
    execution settings)."""
    kind = str(template["kind"])
    task_id = _slug("-".join((choice.app_id, *choice.args))).lower()
    while task_id in taken:
        task_id += "-entry"
    task: dict[str, Any] = {
        "task_id": task_id,
        "name": f"{_KIND_LABELS.get(kind, kind)} with {choice.command}",
        "kind": kind,
        "tool": choice.app_id,
    }
    if choice.args:
        task["args"] = list(choice.args)
    if "execution" in template:
        task["execution"] = copy.deepcopy(template["execution"])
    task[SOURCE_KEY] = choice.reason
    return task


def _command_of(task: Mapping[str, Any], tools: Mapping[str, ToolSpec]) -> str:
    """A task's command as typed (app command and args), for the scan's listing."""
    tool = tools.get(str(task.get("tool")))
    if tool is None:
        return f"routed by kind {task.get('kind')!r}"
    command = tool.app.get("command")
    if not isinstance(command, list):
        return f"{tool.app_id} (a shell command line)"
    return shlex.join([*(str(part) for part in command), *task.get("args", [])])


def _instantiate(
    phase: PhaseTemplate,
    templates: tuple[Mapping[str, Any], ...],
    tools: Mapping[str, ToolSpec],
    discovery: Discovery,
    out: tuple[list[SkippedTask], list[TaskSource]],
    *,
    choices: Mapping[str, EntryChoice],
) -> list[dict[str, Any]]:
    """The runnable tasks among ``templates``, placeholders expanded; the templates of a
    kind in ``choices`` give way to one task running the chosen entry point."""
    skipped, sources = out
    tasks: list[dict[str, Any]] = []
    taken = {str(template["task_id"]) for template in templates}
    entry_tasks: dict[str, dict[str, Any]] = {}
    renamed: dict[str, str] = {}  # a template's task id -> the entry-point task replacing it
    for template in templates:
        task_id = str(template["task_id"])
        tool = template.get("tool")
        choice = choices.get(str(template.get("kind")))
        if choice is not None:
            task = entry_tasks.get(str(template.get("kind")))
            if task is None:
                task = _entry_task(template, choice, taken)
                entry_tasks[str(template.get("kind"))] = task
                taken.add(task["task_id"])
                tasks.append(task)
                sources.append(
                    TaskSource(phase.phase_id, task["task_id"], choice.command, choice.reason)
                )
            renamed[task_id] = task["task_id"]
            dependencies = [str(dep) for dep in template.get("depends_on", [])]
            task["depends_on"] = [*task.get("depends_on", []), *dependencies]
            continue
        if tool is not None and tool not in tools:
            reason = f"tool {tool!r} not found"
            skipped.append(SkippedTask(phase.phase_id, task_id, reason, str(tool)))
            continue
        if tool is None and not any(
            template.get("kind") in tools[app].app.get("capabilities", {}).get("task_kinds", [])
            for app in tools
        ):
            reason = f"no detected tool handles kind {template.get('kind')!r}"
            skipped.append(SkippedTask(phase.phase_id, task_id, reason))
            continue
        task = {key: copy.deepcopy(template[key]) for key in _TASK_KEYS if key in template}
        unresolved: list[str] = []
        if "args" in task:
            expanded: list[str] = []
            for value in task["args"]:
                values = _expand(str(value), discovery)
                if values is None:
                    unresolved.append(str(value))
                else:
                    expanded.extend(values)
            task["args"] = expanded
        if "cwd" in task:
            values = _expand(str(task["cwd"]), discovery)
            if values is None:
                unresolved.append(str(task["cwd"]))
            else:
                task["cwd"] = values[0]
        if unresolved:
            reason = f"no {' or '.join(_describe(value) for value in unresolved)} in this workspace"
            skipped.append(SkippedTask(phase.phase_id, task_id, reason))
            continue
        spec = tools.get(str(tool)) if tool is not None else None
        task[SOURCE_KEY] = (
            tool_source(spec, discovery.tooling) if spec is not None else "routed by its kind"
        )
        tasks.append(task)
        sources.append(
            TaskSource(phase.phase_id, task_id, _command_of(task, tools), task[SOURCE_KEY])
        )
    kept = {task["task_id"] for task in tasks}
    for task in tasks:
        if "depends_on" in task:
            mapped = (renamed.get(dep, dep) for dep in task["depends_on"])
            task["depends_on"] = [
                dep for dep in dict.fromkeys(mapped) if dep in kept and dep != task["task_id"]
            ]
            if not task["depends_on"]:
                del task["depends_on"]
    return tasks


def _project_profile(
    discovery: Discovery, profile: Profile, project_id: str, apps: Mapping[str, ToolSpec]
) -> dict[str, Any]:
    tracked_by = discovery.vcs.kind if discovery.vcs is not None else "none"
    constraints = {
        key: value
        for key, value in profile.document.get("adds_constraints", {}).items()
        if key in _PROJECT_CONSTRAINTS
    }
    resource_types = {
        str(entry["type"]): {"root": ".", "tracked_by": tracked_by, "exclusions": _EXCLUSIONS}
        for entry in profile.document.get("adds_resource_types", [])
        if entry.get("type") in ("files", "documents")
    } or {"files": {"root": ".", "tracked_by": tracked_by, "exclusions": _EXCLUSIONS}}
    return {
        "$schema": f"{SCHEMA_ID_PREFIX}project_profile.schema.json",
        "project_id": project_id,
        "project_name": discovery.project_name,
        "project_root": ".",
        "domain": profile.domain,
        "profile_id": profile.profile_id,
        "profile_version": profile.version,
        "resource_types": resource_types,
        "available_tools": [
            {
                "tool_id": app_id,
                "command": _command_text(tool.app.get("command")),
                "capabilities": list(tool.app.get("capabilities", {}).get("task_kinds", [])),
                "max_parallel": int(tool.app.get("limits", {}).get("max_parallel", 1)),
            }
            for app_id, tool in sorted(apps.items())
        ],
        "framework_paths": dict(_FRAMEWORK_PATHS),
        "constraints": constraints,
    }


def _command_text(command: object) -> str:
    if isinstance(command, list):
        return shlex.join(str(part) for part in command)
    return str(command)


def router_config_document(apps: Mapping[str, ToolSpec]) -> dict[str, Any]:
    """The router config of ``apps``: each as an app, one routing rule per task kind."""
    by_kind: dict[str, list[str]] = {}
    for app_id, tool in sorted(apps.items()):
        for kind in tool.app.get("capabilities", {}).get("task_kinds", []):
            by_kind.setdefault(str(kind), []).append(app_id)
    rules = [
        {
            "id": f"route-{_slug(kind)}",
            "match": {"task_kind": [kind]},
            "select_from": app_ids,
            "strategy": "fixed" if len(app_ids) == 1 else "round_robin",
        }
        for kind, app_ids in sorted(by_kind.items())
    ]
    return {
        "$schema": f"{SCHEMA_ID_PREFIX}router_config.schema.json",
        "version": "1.0.0",
        "apps": {app_id: copy.deepcopy(dict(tool.app)) for app_id, tool in sorted(apps.items())},
        "routing": {"rules": rules},
        "defaults": dict(_DEFAULTS),
    }


def _phase_text(phase: PhaseTemplate) -> str:
    spec = {key: value for key, value in phase.spec.items() if key != "$schema"}
    document = {"$schema": f"{SCHEMA_ID_PREFIX}phase_spec.schema.json", **spec}
    return dump_yaml(document)


def _workstream(
    project_id: str,
    profile: Profile,
    phase: PhaseTemplate,
    tasks: list[dict[str, Any]],
    used_fallback: bool,
) -> dict[str, Any]:
    source = "fallback checks" if used_fallback else f"the {profile.profile_id} profile"
    objective = f"{phase.description or phase.name} (starter workstream from {source})"
    return {
        "$schema": f"{SCHEMA_ID_PREFIX}workstream_spec.schema.json",
        "workstream_id": f"WS-{_slug(phase.phase_id)}",
        "project_id": project_id,
        "phase_id": phase.phase_id,
        "name": phase.name,
        "objective": objective,
        "tags": [profile.profile_id, "generated"],
        "concurrency": {"max_parallel": 1},
        "error_handling": {"strategy": "continue"},
        "tasks": tasks,
    }
