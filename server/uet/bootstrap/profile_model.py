"""The typed model of a (merged) profile, built from its validated document.

The JSON Schema checks shapes; this module checks what a schema cannot: that content
regexes compile on the linear-time engine (``workspace_regex``; a refused one is UET510),
that task templates name tools the profile defines, that placeholders name
known marker kinds, that ``cwd`` values are workspace-relative. A profile with such a
problem is still built (minus the broken part) so one bad signal does not hide the others.

Task-template placeholders (docs/profiles.md): an ``args`` item or a ``cwd`` that is exactly
``{{paths:KIND}}`` (every path of marker KIND, one argument each), ``{{path:KIND}}`` (the
shallowest one) or ``{{dir:KIND}}`` (its folder, ``.`` for the root). When KIND has no path
in the workspace the task cannot run there and the generator leaves it out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from uet.bootstrap.errors import Problem, ProblemLevel
from uet.bootstrap.markers import MARKER_KINDS, ContentProbe
from uet.bootstrap.paths import unsafe_relative_reason
from uet.bootstrap.workspace_regex import RefusedPattern, compile_content_regex

__all__ = [
    "PLACEHOLDER",
    "PhaseTemplate",
    "Profile",
    "Signal",
    "ToolSpec",
    "build_profile",
]

PLACEHOLDER = re.compile(r"^\{\{(?P<form>paths|path|dir):(?P<kind>[a-z_]+)\}\}$")

TemplateReader = Callable[[Mapping[str, Any]], tuple[object, list[Problem]]]


class Reporter(Protocol):
    """Records a problem of the profile being built."""

    def __call__(
        self, message: str, level: ProblemLevel = ..., code: str | None = None
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class Signal:
    """One detection signal: what makes a workspace look like its profile."""

    id: str
    description: str
    weight: float
    files: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    content_glob: str | None = None
    content_regex: str | None = None

    def probe_key(self, profile_id: str) -> str:
        """Key of this signal's content probe in ``Discovery.content_hits``."""
        return f"{profile_id}/{self.id}"

    def probe(self, profile_id: str) -> ContentProbe | None:
        """The content probe discovery must run for this signal (``None``: no content)."""
        if self.content_glob is None or self.content_regex is None:
            return None
        pattern = compile_content_regex(self.content_regex)  # checked by build_profile
        return ContentProbe(self.probe_key(profile_id), (self.content_glob,), (pattern,))


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A router app the profile expects, and the executables that must be on ``PATH``."""

    app_id: str
    app: Mapping[str, Any]
    detect: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PhaseTemplate:
    """A phase the generator instantiates: its spec document and its task templates."""

    phase_id: str
    name: str
    category: str
    description: str
    spec: Mapping[str, Any]
    tasks: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Profile:
    """A merged profile: the document and the parts the bootstrap uses, typed."""

    profile_id: str
    version: str
    domain: str
    description: str
    document: Mapping[str, Any]
    signals: tuple[Signal, ...]
    tools: Mapping[str, ToolSpec]
    phases: tuple[PhaseTemplate, ...]
    origin: str
    extensions: tuple[str, ...]


def build_profile(
    document: Mapping[str, Any],
    *,
    origin: str,
    extensions: tuple[str, ...],
    read_template: TemplateReader,
) -> tuple[Profile | None, list[Problem]]:
    """Build the model of a merged, schema-valid profile document."""
    problems: list[Problem] = []
    profile_id = str(document["profile_id"])
    label = origin if not extensions else f"{origin} + {', '.join(extensions)}"

    def report(
        message: str, level: ProblemLevel = ProblemLevel.ERROR, code: str | None = None
    ) -> None:
        problems.append(Problem(level, label, f"profile {profile_id!r}: {message}", code))

    signals = _signals(document.get("detection", {}).get("signals", []), report)
    tools = _tools(document.get("tools", {}), report)
    phases: list[PhaseTemplate] = []
    seen: set[str] = set()
    for entry in document.get("phase_templates", []):
        phase_id = str(entry.get("phase_id", ""))
        if not phase_id or phase_id in seen:
            report(f"phase template without a unique phase_id: {phase_id!r}")
            continue
        seen.add(phase_id)
        spec = _phase_spec(entry, document, read_template, problems)
        if spec is None:
            continue
        tasks = _tasks(phase_id, entry.get("tasks", []), tools, report)
        phases.append(
            PhaseTemplate(
                phase_id=phase_id,
                name=str(entry.get("name") or spec.get("name") or phase_id),
                category=str(entry.get("category") or spec.get("category") or "general"),
                description=str(entry.get("description") or spec.get("description") or ""),
                spec=spec,
                tasks=tasks,
            )
        )
    profile = Profile(
        profile_id=profile_id,
        version=str(document.get("profile_version", "0.0.0")),
        domain=str(document.get("domain", "mixed")),
        description=str(document.get("description", "")),
        document=document,
        signals=signals,
        tools=tools,
        phases=tuple(phases),
        origin=origin,
        extensions=extensions,
    )
    return profile, problems


def _signals(entries: list[Any], report: Reporter) -> tuple[Signal, ...]:
    signals: list[Signal] = []
    for entry in entries:
        signal_id = str(entry.get("id", ""))
        weight = entry.get("weight", 0)
        if not isinstance(weight, (int, float)) or not math.isfinite(weight):
            report(f"signal {signal_id!r}: weight must be a finite number")
            continue
        content = entry.get("content") or {}
        regex = content.get("regex")
        if regex is not None:
            try:
                compile_content_regex(str(regex))
            except RefusedPattern as refused:
                report(f"signal {signal_id!r}: content {refused}", code="UET510")
                continue
        signal = Signal(
            id=signal_id,
            description=str(entry.get("description", signal_id)),
            weight=float(weight),
            files=tuple(str(glob) for glob in entry.get("files", [])),
            dependencies=tuple(str(name) for name in entry.get("dependencies", [])),
            languages=tuple(str(name) for name in entry.get("languages", [])),
            content_glob=str(content["glob"]) if "glob" in content else None,
            content_regex=str(regex) if regex is not None else None,
        )
        if not (signal.files or signal.dependencies or signal.languages or signal.content_glob):
            report(f"signal {signal_id!r} matches nothing (no files, dependencies, ...)")
            continue
        signals.append(signal)
    return tuple(signals)


def _tools(entries: Mapping[str, Any], report: Callable[[str], None]) -> dict[str, ToolSpec]:
    tools: dict[str, ToolSpec] = {}
    for app_id in sorted(entries):
        entry = dict(entries[app_id])
        detect = tuple(str(name) for name in entry.pop("detect", []))
        bad = [name for name in detect if "/" in name or "\\" in name or not name]
        if bad:
            report(f"tool {app_id!r}: detect names must be bare executable names: {bad}")
            continue
        cwd = entry.get("cwd")
        if isinstance(cwd, str) and unsafe_relative_reason(cwd) and cwd != ".":
            report(f"tool {app_id!r}: cwd {cwd!r} refused: {unsafe_relative_reason(cwd)}")
            continue
        tools[app_id] = ToolSpec(app_id, entry, detect)
    return tools


def _phase_spec(
    entry: Mapping[str, Any],
    document: Mapping[str, Any],
    read_template: TemplateReader,
    problems: list[Problem],
) -> dict[str, Any] | None:
    """The phase spec document: the template file, or one built from the entry."""
    if "template_path" in entry:
        value, template_problems = read_template(entry)
        problems.extend(template_problems)
        if not isinstance(value, dict):
            return None
        spec = dict(value)
        spec["phase_id"] = entry["phase_id"]
        return spec
    resource_types = document.get("adds_resource_types") or [{"type": "files"}]
    spec = {
        "phase_id": entry["phase_id"],
        "name": entry.get("name") or entry["phase_id"],
        "category": entry.get("category") or "general",
        "resource_scope": {"type": str(resource_types[0].get("type", "files"))},
        "constraints": {},
        "acceptance": {"mode": "all", "checks": []},
    }
    if entry.get("description"):
        spec["description"] = entry["description"]
    return spec


def _tasks(
    phase_id: str,
    entries: list[Any],
    tools: Mapping[str, ToolSpec],
    report: Callable[[str], None],
) -> tuple[Mapping[str, Any], ...]:
    tasks: list[Mapping[str, Any]] = []
    ids: set[str] = set()
    for entry in entries:
        task_id = str(entry.get("task_id", ""))
        where = f"phase {phase_id!r}, task {task_id!r}"
        if task_id in ids:
            report(f"{where}: duplicate task_id")
            continue
        tool = entry.get("tool")
        if tool is not None and tool not in tools:
            report(f"{where}: tool {tool!r} is not among the profile's tools")
            continue
        problem = _placeholder_problem(entry)
        if problem is not None:
            report(f"{where}: {problem}")
            continue
        ids.add(task_id)
        tasks.append(entry)
    return tuple(tasks)


def _placeholder_problem(entry: Mapping[str, Any]) -> str | None:
    values = [str(item) for item in entry.get("args", [])]
    cwd = entry.get("cwd")
    if isinstance(cwd, str):
        values.append(cwd)
        if not PLACEHOLDER.match(cwd) and cwd != "." and unsafe_relative_reason(cwd):
            return f"cwd {cwd!r} refused: {unsafe_relative_reason(cwd)}"
    for value in values:
        if "{{" not in value:
            continue
        match = PLACEHOLDER.match(value)
        if match is None:
            return f"{value!r}: a placeholder must be a whole value like '{{{{paths:KIND}}}}'"
        if match.group("kind") not in MARKER_KINDS:
            return f"{value!r}: unknown marker kind {match.group('kind')!r}"
    return None
