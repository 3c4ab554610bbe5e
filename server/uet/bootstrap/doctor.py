"""``uet doctor``: checks a bootstrapped workspace and proposes safe fixes.

Checks, in order: every artifact against its schema and the others (``uet.artifacts``'
workspace index: UET1xx-3xx), then the bootstrap's own rules (UET5xx, ``DOCTOR_CODES``):
the layout, ``.uet/`` ignored by git, apps whose executable is missing, routing rules no app
satisfies, tasks no app can run, the profile's tools that are not installed (with how to
install them, the project's way first), known prerequisites of the tools (dbt's profile,
Terraform's providers), phases without a workstream.

``run_doctor`` only reads. Each fix it proposes is a ``Fix``: a whole new text for one file
(``previous_text`` is what it replaces, ``None`` when the file is new), the same shape as a
planned file, so the CLI writes it with ``apply_fixes`` and the language server can offer it
as a quick fix (one ``WorkspaceEdit``). A fix may change several files together: the one
that generates a workstream also adds the apps its tasks name to ``router_config.json``, so
the workspace validates after any fix. Fixes never change a file the user wrote except to
append ``.uet/`` to ``.gitignore``, to add apps (and routing rules for their task kinds) to
the router config and to drop app ids no app defines from routing rules.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from uet.artifacts import Severity
from uet.artifacts.workspace import check_workspace
from uet.bootstrap.analysis import Analysis, AnalysisOptions, analyze_workspace
from uet.bootstrap.checks import (
    DOCTOR_CODES,
    FileChange,
    Finding,
    Fix,
    executable_missing,
    layout_checks,
    phase_checks,
    prerequisite_checks,
    router_checks,
    router_update,
    task_checks,
    tool_checks,
)
from uet.bootstrap.errors import ProblemLevel, UnknownProfileError
from uet.bootstrap.generator import PROJECT_PROFILE_PATH
from uet.bootstrap.manifests import read_declarations
from uet.bootstrap.planner import GITIGNORE_PATH, BootstrapPlan, plan_bootstrap
from uet.bootstrap.profile_model import ToolSpec
from uet.bootstrap.profiles import FALLBACK_PROFILE_ID
from uet.bootstrap.reports import ArtifactStatus, ReportInput, build_report
from uet.bootstrap.serialize import dump_json
from uet.bootstrap.task_sources import RUNNER_APPS
from uet.bootstrap.validation import LEVEL_BY_SEVERITY
from uet.bootstrap.writer import (
    Manifest,
    read_manifest,
    text_digest,
    write_manifest,
    write_state,
    write_text,
)

__all__ = [
    "DOCTOR_CODES",
    "REPORT_PATH",
    "DoctorResult",
    "Finding",
    "Fix",
    "apply_fixes",
    "run_doctor",
    "write_report",
]

REPORT_PATH = ".uet/bootstrap_report.json"


@dataclass(frozen=True, slots=True)
class DoctorResult:
    """Findings, proposed fixes and the ``bootstrap_report`` document."""

    root: Path
    findings: tuple[Finding, ...]
    fixes: tuple[Fix, ...]
    report: Mapping[str, Any]

    @property
    def errors(self) -> int:
        """Number of error findings."""
        return sum(1 for item in self.findings if item.level is ProblemLevel.ERROR)


def run_doctor(
    root: Path,
    options: AnalysisOptions | None = None,
    *,
    analysis: Analysis | None = None,
    fixes_applied: int = 0,
    directories_created: tuple[str, ...] = (),
    env: Mapping[str, str] | None = None,
) -> DoctorResult:
    """Check the workspace at ``root``; nothing is written. ``env`` (default: this
    process's environment) is where tools' own settings are looked up (``HOME``,
    ``DBT_PROFILES_DIR``)."""
    root = root.resolve()
    options = options or AnalysisOptions()
    analysis = analysis or analyze_workspace(root, options)
    findings: list[Finding] = []
    fixes: list[Fix] = []
    findings.extend(
        Finding(problem.code or "UET509", problem.level, problem.path, problem.message)
        for problem in analysis.profiles.problems
    )
    checked = check_workspace([root])
    index = checked.index
    statuses: list[ArtifactStatus] = []
    values: dict[str, Any] = {}
    unknown_apps: list[tuple[int, str]] = []  # (finding index, app id) of each UET305
    for absolute in index.paths():
        file_report = index.report(absolute)
        if file_report is None or file_report.schema is None:
            continue
        relative = _relative(absolute, root)
        diagnostics = [
            item
            for item in index.diagnostics(absolute)
            if not (item.code == "UET306" and item.data.get("id") in analysis.profiles.profiles)
        ]
        position = file_report.parsed.line_index
        for item in diagnostics:
            start = position.position(item.span.start)
            if item.code == "UET305" and isinstance(item.data.get("id"), str):
                unknown_apps.append((len(findings), item.data["id"]))
            findings.append(
                Finding(
                    item.code,
                    LEVEL_BY_SEVERITY[item.severity],
                    f"{relative}:{start.line + 1}:{start.column + 1}",
                    item.message,
                )
            )
        ok = not any(item.severity is Severity.ERROR for item in diagnostics)
        statuses.append(ArtifactStatus(relative, file_report.schema, ok))
        values.setdefault(file_report.schema, [])
        values[file_report.schema].append((relative, file_report.value, file_report.parsed.text))
    profile_id = analysis.active_profile_id or _recorded_profile(root, analysis)
    if profile_id is None:
        findings.append(
            Finding(
                "UET501",
                ProblemLevel.ERROR,
                PROJECT_PROFILE_PATH,
                f"not bootstrapped; run: uet bootstrap (suggested profile: "
                f"{analysis.selection.chosen.profile_id})",
            )
        )
    plan = _plan(root, analysis, profile_id)
    if plan is not None:
        layout_checks(plan, findings, fixes)
    routers = values.get("router_config", [])
    tool_folders = analysis.discovery.tooling.folders  # where the engine looks first
    apps: dict[str, Any] = {}
    for relative, value, text in routers:
        if isinstance(value, dict):
            apps.update(value.get("apps") or {})
            router_checks(
                (relative, value, text), options.search_path, findings, fixes, tool_folders
            )
    workstreams = [v for v in values.get("workstream_spec", []) if isinstance(v[1], dict)]
    task_checks(workstreams, routers, apps, findings)
    router_change = None
    explained: set[str] = set()
    install: tuple[str, ...] = ()
    if plan is not None:
        tools = _profile_tools(analysis, plan)
        markers = [
            (kind, path) for kind, paths in analysis.discovery.markers.items() for path in paths
        ]
        declared, _ = read_declarations(root, markers)
        explained, install = tool_checks(plan, tools, declared, findings)
        prerequisite_checks(
            root, plan, analysis.discovery, os.environ if env is None else env, findings
        )
        wanted = {app_id: tools[app_id] for app_id in plan.generated.apps if app_id in tools}
        named = {app_id for _, app_id in unknown_apps if app_id in tools}
        wanted.update({app_id: tools[app_id] for app_id in named})
        router_change = router_update(routers, plan, wanted)
        if router_change is not None and named:
            _offer_app_fix(findings, fixes, unknown_apps, named, router_change)
    phase_checks(
        analysis,
        plan,
        values,
        workstreams,
        (findings, fixes),
        apps=apps,
        router_change=router_change,
        explained=explained,
    )
    findings.sort(key=lambda item: (item.where, item.code))
    report_document = build_report(
        ReportInput(
            project_name=analysis.discovery.project_name,
            domain=_profile_domain(analysis, profile_id),
            profile_id=profile_id or analysis.selection.chosen.profile_id,
            profile_version=_profile_version(analysis, profile_id),
            artifacts=tuple(statuses),
            available_tools=tuple(
                app_id
                for app_id, app in sorted(apps.items())
                if executable_missing(app, options.search_path, tool_folders) is None
            ),
            constraints=_constraints(values),
            errors=tuple(f.format() for f in findings if f.level is ProblemLevel.ERROR),
            warnings=tuple(f.format() for f in findings if f.level is ProblemLevel.WARNING),
            fixes_applied=fixes_applied,
            human_decisions=sum(
                1 for f in findings if f.level is not ProblemLevel.INFO and f.fix_id is None
            ),
            runnable_workstreams=tuple(relative for relative, _, _ in workstreams),
            directories_created=directories_created,
            install_commands=install,
            discovery=analysis.discovery,
        )
    )
    return DoctorResult(root, tuple(findings), tuple(fixes), report_document)


def apply_fixes(root: Path, fixes: Iterable[Fix]) -> tuple[str, ...]:
    """Write each fix (atomically, confined to ``root``); returns the fix ids applied.

    A fix is skipped when one of its files holds neither the text it was computed from nor
    the fix's own text (an earlier fix changed it otherwise): run the doctor again to get it
    recomputed. Files the generator
    owned before (manifest hash) or that a fix creates stay owned, so a later
    ``uet bootstrap`` may still update them."""
    root = root.resolve()
    manifest, _ = read_manifest(root)
    owned = dict(manifest.files)
    applied: list[str] = []
    for fix in fixes:
        current = {change.path: _current_text(root, change.path) for change in fix.changes}
        if any(current[c.path] not in (c.previous_text, c.text) for c in fix.changes):
            continue
        for change in fix.changes:
            if current[change.path] == change.text:
                continue  # an earlier fix wrote the same text
            was_owned = change.previous_text is None or owned.get(change.path) == text_digest(
                change.previous_text
            )
            write_text(root, change.path, change.text)
            if was_owned and change.path != GITIGNORE_PATH:
                owned[change.path] = text_digest(change.text)
        applied.append(fix.fix_id)
    if owned != manifest.files:
        write_manifest(root, Manifest(manifest.profile_id, owned))
    return tuple(applied)


def write_report(root: Path, report: Mapping[str, Any]) -> str:
    """Write the ``bootstrap_report`` to ``.uet/bootstrap_report.json``; returns its path."""
    write_state(root, REPORT_PATH, dump_json(report))
    return REPORT_PATH


def _recorded_profile(root: Path, analysis: Analysis) -> str | None:
    """The profile of the last bootstrap (manifest) when ``PROJECT_PROFILE.yaml`` is gone, so
    the doctor can regenerate it (UET502) instead of asking for a new bootstrap."""
    if (root / PROJECT_PROFILE_PATH).exists():
        return None
    manifest, _ = read_manifest(root)
    if manifest.profile_id in analysis.profiles.profiles:
        return manifest.profile_id
    return None


def _current_text(root: Path, relative: str) -> str | None:
    try:
        return (root / relative).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _profile_tools(analysis: Analysis, plan: BootstrapPlan) -> dict[str, ToolSpec]:
    """The tools the generator may turn into apps: the profile's, then the fallback's, then
    the runners of the project's entry points."""
    tools: dict[str, ToolSpec] = dict(RUNNER_APPS)
    fallback = analysis.profiles.profiles.get(FALLBACK_PROFILE_ID)
    if fallback is not None:
        tools.update(fallback.tools)
    tools.update(analysis.profiles.profiles[plan.profile_id].tools)
    return tools


def _offer_app_fix(
    findings: list[Finding],
    fixes: list[Fix],
    unknown_apps: list[tuple[int, str]],
    named: set[str],
    change: FileChange,
) -> None:
    """Attach the fix that defines the apps the profile knows to their UET305 findings."""
    fix = Fix(
        "add-profile-apps", f"Add the apps {', '.join(sorted(named))} to {change.path}", (change,)
    )
    fixes.append(fix)
    for position, app_id in unknown_apps:
        if app_id in named:
            finding = findings[position]
            findings[position] = Finding(
                finding.code, finding.level, finding.where, finding.message, fix.fix_id
            )


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return path


def _plan(root: Path, analysis: Analysis, profile_id: str | None) -> BootstrapPlan | None:
    """What the generator would write now (the source of the fixes' texts)."""
    if profile_id is None:
        return None
    try:
        return plan_bootstrap(root, profile_id, analysis=analysis)
    except UnknownProfileError:
        return None  # reported as UET306 by the index


def _profile_domain(analysis: Analysis, profile_id: str | None) -> str:
    profile = analysis.profiles.profiles.get(profile_id or "")
    return profile.domain if profile is not None else analysis.selection.chosen.domain


def _profile_version(analysis: Analysis, profile_id: str | None) -> str | None:
    profile = analysis.profiles.profiles.get(profile_id or "")
    return profile.version if profile is not None else None


def _constraints(values: Mapping[str, Any]) -> Mapping[str, Any]:
    for _, value, _ in values.get("project_profile", []):
        if isinstance(value, dict) and isinstance(value.get("constraints"), dict):
            return dict(value["constraints"])
    return {}
