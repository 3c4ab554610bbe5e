"""Workspace discovery, profile selection, artifact generation and repair (plain Python).

Never imports pygls or lsprotocol; reads and validates artifacts only through
``uet.artifacts``. Public API (what the CLI and the language server call):

- ``analyze_workspace(root, options, progress) -> Analysis``: scan + profiles + ranking +
  selection (I/O: run it off the event loop);
- ``rank_profiles(discovery, profiles) -> tuple[ProfileScore, ...]`` and
  ``select_profile(ranking) -> Selection``: pure, every score explained by its signals;
- ``plan_bootstrap(root, profile_id, force=, analysis=) -> BootstrapPlan``: what would be
  written, file by file (``PlannedFile``: path, text, action, previous text); writes nothing;
- ``apply_plan(plan)`` (CLI) or, after a client applied the plan as a WorkspaceEdit,
  ``record_applied(plan)``; ``render_diff(plan)`` for ``--dry-run``;
- ``run_doctor(root) -> DoctorResult`` (findings + ``Fix`` records), ``apply_fixes``,
  ``write_report``;
- ``load_profiles(workspace) -> ProfileSet`` and ``scan_workspace(root, options)`` for
  finer control.

Errors: see ``uet.bootstrap.errors`` (``BootstrapError`` and subclasses); broken user input
is returned as ``Problem`` records.

Names are loaded on first use (PEP 562), as in ``uet.artifacts`` and ``uet.engine``: the
engine looks programs up through ``uet.bootstrap.toolchain`` on every ``uet run`` without
importing the scan, the profiles and the doctor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from uet.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from uet.bootstrap.analysis import (
        Analysis,
        AnalysisOptions,
        active_profile_id,
        analyze_workspace,
    )
    from uet.bootstrap.checks import DOCTOR_CODES, Finding, Fix
    from uet.bootstrap.discovery import Discovery, ScanOptions, scan_workspace
    from uet.bootstrap.doctor import DoctorResult, apply_fixes, run_doctor, write_report
    from uet.bootstrap.errors import (
        BootstrapError,
        Problem,
        ProblemLevel,
        UnknownProfileError,
        UnsafePathError,
        WorkspaceError,
    )
    from uet.bootstrap.planner import (
        ApplyResult,
        BootstrapPlan,
        FileAction,
        PlannedFile,
        apply_plan,
        plan_bootstrap,
        record_applied,
        render_diff,
    )
    from uet.bootstrap.profile_model import Profile
    from uet.bootstrap.profiles import ProfileSet, load_profiles
    from uet.bootstrap.selector import (
        ProfileScore,
        Selection,
        SignalResult,
        rank_profiles,
        select_profile,
    )

# Public name -> the module defining it, imported on first use.
_SOURCES = {
    "Analysis": "uet.bootstrap.analysis",
    "AnalysisOptions": "uet.bootstrap.analysis",
    "ApplyResult": "uet.bootstrap.planner",
    "BootstrapError": "uet.bootstrap.errors",
    "BootstrapPlan": "uet.bootstrap.planner",
    "DOCTOR_CODES": "uet.bootstrap.checks",
    "Discovery": "uet.bootstrap.discovery",
    "DoctorResult": "uet.bootstrap.doctor",
    "FileAction": "uet.bootstrap.planner",
    "Finding": "uet.bootstrap.checks",
    "Fix": "uet.bootstrap.checks",
    "PlannedFile": "uet.bootstrap.planner",
    "Problem": "uet.bootstrap.errors",
    "ProblemLevel": "uet.bootstrap.errors",
    "Profile": "uet.bootstrap.profile_model",
    "ProfileScore": "uet.bootstrap.selector",
    "ProfileSet": "uet.bootstrap.profiles",
    "ScanOptions": "uet.bootstrap.discovery",
    "Selection": "uet.bootstrap.selector",
    "SignalResult": "uet.bootstrap.selector",
    "UnknownProfileError": "uet.bootstrap.errors",
    "UnsafePathError": "uet.bootstrap.errors",
    "WorkspaceError": "uet.bootstrap.errors",
    "active_profile_id": "uet.bootstrap.analysis",
    "analyze_workspace": "uet.bootstrap.analysis",
    "apply_fixes": "uet.bootstrap.doctor",
    "apply_plan": "uet.bootstrap.planner",
    "load_profiles": "uet.bootstrap.profiles",
    "plan_bootstrap": "uet.bootstrap.planner",
    "rank_profiles": "uet.bootstrap.selector",
    "record_applied": "uet.bootstrap.planner",
    "render_diff": "uet.bootstrap.planner",
    "run_doctor": "uet.bootstrap.doctor",
    "scan_workspace": "uet.bootstrap.discovery",
    "select_profile": "uet.bootstrap.selector",
    "write_report": "uet.bootstrap.doctor",
}


__getattr__, __dir__ = lazy_exports(__name__, _SOURCES, globals())


__all__ = [
    "DOCTOR_CODES",
    "Analysis",
    "AnalysisOptions",
    "ApplyResult",
    "BootstrapError",
    "BootstrapPlan",
    "Discovery",
    "DoctorResult",
    "FileAction",
    "Finding",
    "Fix",
    "PlannedFile",
    "Problem",
    "ProblemLevel",
    "Profile",
    "ProfileScore",
    "ProfileSet",
    "ScanOptions",
    "Selection",
    "SignalResult",
    "UnknownProfileError",
    "UnsafePathError",
    "WorkspaceError",
    "active_profile_id",
    "analyze_workspace",
    "apply_fixes",
    "apply_plan",
    "load_profiles",
    "plan_bootstrap",
    "rank_profiles",
    "record_applied",
    "render_diff",
    "run_doctor",
    "scan_workspace",
    "select_profile",
    "write_report",
]
