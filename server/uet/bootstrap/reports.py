"""Builds the two report artifacts: ``bootstrap_discovery`` (``uet scan``) and
``bootstrap_report`` (``uet bootstrap`` / ``uet doctor``).

Both are plain dicts valid against their schemas. Facts the schemas have no field for (what
the scan skipped, build files by kind, the full ranking) go under the top-level
``x-uet-scan`` extension key, which every artifact schema accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from uet.bootstrap.discovery import Discovery
from uet.bootstrap.generator import SCHEMA_ID_PREFIX
from uet.bootstrap.markers import FRAMEWORK_KINDS
from uet.bootstrap.profile_model import Profile
from uet.bootstrap.selector import Selection

__all__ = [
    "ArtifactStatus",
    "ReportInput",
    "build_report",
    "discovery_artifact",
    "languages_summary",
    "now_timestamp",
    "test_frameworks",
]

_BUILD_FILE_LIMIT = 5
_LINT_DEPENDENCIES = frozenset({"ruff", "flake8", "pylint", "black", "eslint", "sqlfluff"})
_JS_TEST_RUNNERS = ("jest", "vitest", "mocha")


@dataclass(frozen=True, slots=True)
class ArtifactStatus:
    """One artifact file of the workspace and whether it validated."""

    path: str
    schema: str
    ok: bool


@dataclass(frozen=True, slots=True)
class ReportInput:
    """What a ``bootstrap_report`` says (``uet doctor`` fills it)."""

    project_name: str
    domain: str
    profile_id: str
    profile_version: str | None
    artifacts: tuple[ArtifactStatus, ...]
    available_tools: tuple[str, ...]
    constraints: Mapping[str, Any]
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    fixes_applied: int
    human_decisions: int
    runnable_workstreams: tuple[str, ...]
    directories_created: tuple[str, ...] = ()
    discovery: Discovery | None = None
    install_commands: tuple[str, ...] = ()


def now_timestamp() -> str:
    """The current UTC time as RFC 3339 (``2025-01-31T12:00:00Z``)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def languages_summary(discovery: Discovery, limit: int = 4) -> str:
    """``Python (87%), Markdown (13%)`` (``none`` for an empty workspace)."""
    shown = [f"{stat.language} ({stat.percentage:.0f}%)" for stat in discovery.languages[:limit]]
    return ", ".join(shown) or "none"


def test_frameworks(discovery: Discovery) -> list[tuple[str, str]]:
    """``(framework, indicator)`` for each test framework the workspace shows."""
    found: list[tuple[str, str]] = []
    pytest_paths = discovery.paths_of("pytest") or discovery.paths_of("python_tests")
    if pytest_paths:
        found.append(("pytest", pytest_paths[0]))
    elif "pytest" in discovery.dependencies:
        found.append(("pytest", "declared dependency pytest"))
    for kind in ("tox", "nox"):
        if discovery.paths_of(kind):
            found.append((kind, discovery.paths_of(kind)[0]))
    for runner in _JS_TEST_RUNNERS:
        if runner in discovery.dependencies:
            found.append((runner, f"declared dependency {runner}"))
    if discovery.paths_of("go_tests"):
        found.append(("go-test", discovery.paths_of("go_tests")[0]))
    if discovery.paths_of("cargo"):
        found.append(("cargo-test", discovery.paths_of("cargo")[0]))
    dbt = discovery.paths_of("dbt_project")
    if dbt:
        folder = dbt[0].rpartition("/")[0]
        prefix = f"{folder}/tests/" if folder else "tests/"
        sql_tests = [path for path in discovery.files if path.startswith(prefix)]
        if any(path.endswith(".sql") for path in sql_tests):
            found.append(("dbt-test", prefix.rstrip("/")))
    return found


def discovery_artifact(
    discovery: Discovery, selection: Selection, profile: Profile | None
) -> dict[str, Any]:
    """The ``bootstrap_discovery`` document for ``uet scan``."""
    frameworks: list[dict[str, str]] = []
    seen: set[str] = set()
    for kind, name in FRAMEWORK_KINDS.items():
        paths = discovery.paths_of(kind)
        if paths and name not in seen:
            seen.add(name)
            frameworks.append({"framework": name, "indicator": paths[0]})
    for name, indicator in test_frameworks(discovery):
        if name not in seen:
            seen.add(name)
            frameworks.append({"framework": name, "indicator": indicator})
    resource_types = (
        [str(entry["type"]) for entry in profile.document.get("adds_resource_types", [])]
        if profile is not None
        else ["files"]
    )
    structure = {
        role: list(discovery.paths_of(role))
        for role in ("src_dirs", "test_dirs", "doc_dirs", "config_dirs", "script_dirs")
    }
    lint_required = bool(_LINT_DEPENDENCIES & discovery.dependencies) or bool(
        discovery.paths_of("pre_commit")
    )
    document: dict[str, Any] = {
        "$schema": f"{SCHEMA_ID_PREFIX}bootstrap_discovery.schema.json",
        "project_root": ".",
        "project_name": discovery.project_name,
        "domain": selection.chosen.domain,
        "domain_confidence": selection.confidence,
        "languages": [
            {
                "language": stat.language,
                "percentage": stat.percentage,
                "file_count": stat.files,
                "line_count": stat.lines,
            }
            for stat in discovery.languages
        ],
        "build_files": sorted(
            {
                path
                for kind, paths in discovery.markers.items()
                if kind != "git"
                for path in paths[:_BUILD_FILE_LIMIT]
            }
        ),
        "existing_artifacts": [{"path": path} for path in discovery.uet_artifacts],
        "frameworks": frameworks,
        "resource_types": list(dict.fromkeys(resource_types)),
        "available_tools": [
            {"tool_id": name, "detected_via": f"{location.source} ({location.path})"}
            for name, location in sorted(discovery.tooling.tools.items())
        ],
        "existing_ci": discovery.ci_systems[0] if discovery.ci_systems else None,
        "vcs": discovery.vcs.kind if discovery.vcs is not None else None,
        "inferred_constraints": {
            "tests_must_pass": bool(discovery.ci_systems) and bool(test_frameworks(discovery)),
            "lint_required": lint_required,
        },
        "directory_structure": structure,
        "discovery_timestamp": now_timestamp(),
        "x-uet-scan": _scan_extension(discovery, selection),
    }
    return document


def _scan_extension(discovery: Discovery, selection: Selection) -> dict[str, Any]:
    return {
        "files": len(discovery.files),
        "listing": discovery.listing_mode,
        "truncated": discovery.truncated,
        "elapsed_seconds": round(discovery.elapsed_seconds, 3),
        "lines": {stat.language: stat.lines for stat in discovery.languages},
        "build_files": {
            kind: list(paths[:_BUILD_FILE_LIMIT])
            for kind, paths in sorted(discovery.markers.items())
            if kind not in ("git",)
        },
        "test_frameworks": [name for name, _ in test_frameworks(discovery)],
        "dependencies": sorted(discovery.dependencies),
        "ci_systems": list(discovery.ci_systems),
        "vcs": (
            {
                "kind": discovery.vcs.kind,
                "branch": discovery.vcs.branch,
                "untracked_files": discovery.vcs.untracked,
            }
            if discovery.vcs is not None
            else None
        ),
        "uet_artifacts": list(discovery.uet_artifacts),
        "skipped": {
            "ignored": discovery.skipped.ignored,
            "vendored": discovery.skipped.vendored,
            "symlinks_outside": discovery.skipped.symlinks_outside,
            "symlinks_broken": discovery.skipped.symlinks_broken,
            "symlinked_dirs": discovery.skipped.symlinked_dirs,
            "unreadable": discovery.skipped.unreadable,
        },
        "selection": {
            "profile_id": selection.chosen.profile_id,
            "ambiguous": selection.ambiguous,
            "fallback": selection.fallback,
            "reason": selection.reason,
            "ranking": [item.as_dict() for item in selection.ranking],
        },
        "problems": [problem.format() for problem in discovery.problems],
    }


def build_report(data: ReportInput) -> dict[str, Any]:
    """The ``bootstrap_report`` document."""
    if data.errors:
        status = "failed"
    elif not data.runnable_workstreams:
        status = "needs_human"
    elif data.warnings:
        status = "partial"
    else:
        status = "ready"
    document: dict[str, Any] = {
        "$schema": f"{SCHEMA_ID_PREFIX}bootstrap_report.schema.json",
        "project_name": data.project_name,
        "domain": data.domain,
        "profile_id": data.profile_id,
    }
    if data.profile_version is not None:
        document["profile_version"] = data.profile_version
    document["status"] = status
    if data.discovery is not None:
        document["discovery_summary"] = {
            "languages": languages_summary(data.discovery),
            "frameworks": sorted({name for name, _ in test_frameworks(data.discovery)}),
            "version_control": data.discovery.vcs.kind if data.discovery.vcs else "none",
            "ci_cd": ", ".join(data.discovery.ci_systems) or "none",
        }
    document["generated_artifacts"] = [
        {"path": item.path, "type": item.schema, "status": "validated" if item.ok else "failed"}
        for item in data.artifacts
    ]
    if data.directories_created:
        document["directories_created"] = list(dict.fromkeys(data.directories_created))
    configuration: dict[str, Any] = {"available_tools": sorted(set(data.available_tools))}
    if isinstance(data.constraints.get("patch_only"), bool):
        configuration["patch_only_mode"] = data.constraints["patch_only"]
    if data.constraints.get("tests_must_pass") is True:
        configuration["test_requirement"] = "tests must pass"
    if isinstance(data.constraints.get("max_lines_changed"), int):
        configuration["max_lines_per_patch"] = data.constraints["max_lines_changed"]
    document["configuration"] = configuration
    document["validation_results"] = {
        "validation_status": "failed" if data.errors else "passed",
        "errors": list(data.errors),
        "warnings": list(data.warnings),
        "auto_fixes_applied": data.fixes_applied,
        "human_decisions_needed": data.human_decisions,
    }
    document["next_steps"] = _next_steps(data, status)
    document["initialization_time"] = now_timestamp()
    document["ready_for_workstreams"] = status in ("ready", "partial")
    return document


def _next_steps(data: ReportInput, status: str) -> dict[str, list[str]]:
    human: list[str] = []
    agent: list[str] = []
    if data.errors:
        human.append("Fix the errors listed in validation_results, then run: uet doctor")
    if data.warnings:
        human.append("Review the warnings; run 'uet doctor --fix' to apply the safe fixes")
    if data.install_commands:
        human.append(
            f"Install the missing tools ({'; '.join(data.install_commands)}), "
            "then run: uet doctor --fix"
        )
    if not data.runnable_workstreams:
        human.append("Install the profile's tools (see uet doctor), then run: uet bootstrap")
    else:
        first = data.runnable_workstreams[0]
        human.append(f"Run a starter workstream, e.g. {first}")
    if status in ("ready", "partial"):
        agent.append("Framework is ready to accept workstreams")
        agent.extend(f"Starter workstream: {path}" for path in data.runnable_workstreams)
    return {"for_human": human or ["Nothing to do"], "for_ai_agent": agent or ["Wait for a human"]}
