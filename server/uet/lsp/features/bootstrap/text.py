"""The words of the editor's bootstrap feature: hover markdown for a profile, which
profiles are worth offering, the question, preview and messages around a bootstrap, and
reading the active profile out of a project profile's value. Plain functions of
``uet.bootstrap`` records; no protocol types, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from uet.bootstrap import Analysis, BootstrapPlan, FileAction, ProfileScore

__all__ = [
    "active_profile_of",
    "choice_message",
    "outcome_message",
    "plausible_profiles",
    "preview_message",
    "profile_markdown",
    "ranking_message",
]

_LISTED_FILES = 5  # files named in a message; the rest are counted


def active_profile_of(value: object) -> tuple[str | None, str | None]:
    """``(profile_id, profile_version)`` of a project profile's value (``None`` where the
    value lacks a string)."""
    if not isinstance(value, Mapping):
        return None, None
    profile_id = value.get("profile_id")
    version = value.get("profile_version")
    return (
        profile_id if isinstance(profile_id, str) else None,
        version if isinstance(version, str) else None,
    )


def profile_markdown(analysis: Analysis, profile_id: str, *, active: bool) -> str:
    """What the profile is and why it ranks where it does in the analysed workspace."""
    profile = analysis.profiles.profiles.get(profile_id)
    if profile is None:
        known = ", ".join(f"`{name}`" for name in sorted(analysis.profiles.profiles))
        return f"**UET profile `{profile_id}`** is not a known profile here. Known: {known}."
    role = " — the active profile of this workspace" if active else ""
    lines = [
        f"**UET profile `{profile.profile_id}`** {profile.version} ({profile.domain}){role}",
        "",
        profile.description,
        "",
        f"Defined by: {profile.origin}",
        "",
    ]
    ranking = analysis.ranking
    score = analysis.score_of(profile_id)
    chosen = analysis.selection.chosen
    if score is not None and score.profile_id == chosen.profile_id:
        lines.append(f"**Why:** the best match for this workspace: {analysis.selection.reason}.")
    elif score is not None:
        place = ranking.index(score) + 1
        lines.append(
            f"**Why:** chosen for this workspace; it ranks {place} of {len(ranking)} "
            f"({score.score:.2f}). The best match now is `{chosen.profile_id}` "
            f"({chosen.score:.2f})."
        )
    reasons = score.reasons() if score is not None else []
    lines.extend(f"- {reason}" for reason in reasons)
    if not reasons:
        lines.append("- none of its signals matches this workspace")
    return "\n".join(lines)


def plausible_profiles(analysis: Analysis) -> list[ProfileScore]:
    """The profiles worth offering, best first: those with a signal in this workspace
    (score > 0); in a workspace where none has one, the profile the selection falls back to.
    A profile scoring 0 matches nothing here, and offering it only crowds the choice."""
    scored = [score for score in analysis.ranking if score.score > 0]
    return scored or [analysis.selection.chosen]


def choice_message(analysis: Analysis, subject: str) -> str:
    """The question of ``uet.selectProfile``: the plausible profiles with their scores and
    signals (the buttons carry only the profile ids)."""
    selection = analysis.selection
    ranked = "; ".join(score.summary() for score in plausible_profiles(analysis))
    return f"Bootstrap the {subject} with which UET profile? {selection.reason}. Ranked: {ranked}."


def ranking_message(analysis: Analysis, subject: str) -> str:
    """The ranking for clients that cannot be asked, with what to run instead."""
    ranked = "; ".join(score.summary() for score in plausible_profiles(analysis))
    return (
        f"UET profiles for the {subject}, best first: {ranked}. Run the command "
        f"uet.bootstrap with one of them (best: {analysis.selection.chosen.profile_id})."
    )


def outcome_message(plan: BootstrapPlan, *, written_by: str | None) -> str:
    """What a bootstrap did (``written_by``: ``client``, ``server`` or ``None`` when the
    plan has errors and nothing was written)."""
    if written_by is None and not plan.ok:
        problems = "; ".join(problem.format() for problem in plan.problems[:3])
        return f"UET: bootstrap as {plan.profile_id} not applied: the plan has errors: {problems}"
    writes = plan.writes()
    kept = plan.kept()
    kept_text = (
        f" Kept {len(kept)} file(s) you changed: {_names([item.path for item in kept])}."
        if kept
        else ""
    )
    if not writes:
        return f"UET: the workspace is up to date with profile {plan.profile_id}.{kept_text}"
    names = _names([item.path for item in writes])
    if written_by == "server":
        return (
            f"UET: wrote {len(writes)} file(s) for profile {plan.profile_id} directly to disk "
            f"({names}): this editor cannot create files through a workspace edit "
            f"(workspace.workspaceEdit.resourceOperations), so the editor has no undo for "
            f"it.{kept_text}"
        )
    return f"UET: bootstrapped as {plan.profile_id}: {len(writes)} file(s) ({names}).{kept_text}"


def preview_message(plan: BootstrapPlan) -> str:
    """One paragraph saying what applying ``plan`` would do, for clients that show text."""
    if not plan.ok:
        problems = "; ".join(problem.format() for problem in plan.problems[:3])
        return f"UET: bootstrap as {plan.profile_id} cannot be applied: {problems}"
    created = [item.path for item in plan.files if item.action is FileAction.CREATE]
    changed = [
        item.path for item in plan.files if item.action in (FileAction.UPDATE, FileAction.OVERWRITE)
    ]
    kept = [item.path for item in plan.kept()]
    kept_text = f" It keeps {len(kept)} file(s) you changed: {_names(kept)}." if kept else ""
    if not created and not changed:
        return f"UET: the workspace is up to date with profile {plan.profile_id}.{kept_text}"
    parts = []
    if created:
        parts.append(f"create {len(created)} file(s) ({_names(created)})")
    if changed:
        parts.append(f"change {len(changed)} ({_names(changed)})")
    return f"UET: bootstrap as {plan.profile_id} would {' and '.join(parts)}.{kept_text}"


def _names(paths: list[str]) -> str:
    shown = ", ".join(paths[:_LISTED_FILES])
    more = len(paths) - _LISTED_FILES
    return f"{shown} and {more} more" if more > 0 else shown
