"""One call for "what is this workspace and which profile fits it": scan, load, rank, select.

The CLI and the language server both start here. ``analyze_workspace`` does I/O (it reads
the workspace and runs ``git ls-files``): the language server calls it off the event loop.
Everything after it (``rank_profiles``, ``select_profile``, ``plan_bootstrap``'s content)
is a function of the ``Analysis`` it returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from uet.bootstrap.discovery import Discovery, ProgressCallback, ScanOptions, scan_workspace
from uet.bootstrap.generator import PROJECT_PROFILE_PATH
from uet.bootstrap.profiles import FALLBACK_PROFILE_ID, ProfileSet, load_profiles
from uet.bootstrap.selector import ProfileScore, Selection, rank_profiles, select_profile
from uet.bootstrap.validation import check_artifact_text

__all__ = ["Analysis", "AnalysisOptions", "active_profile_id", "analyze_workspace"]


@dataclass(frozen=True, slots=True)
class AnalysisOptions:
    """``search_path``: the ``PATH`` to find tools on (``None``: this process's)."""

    use_git: bool = True
    search_path: str | None = None
    max_files: int = 200_000


@dataclass(frozen=True, slots=True)
class Analysis:
    """A workspace's discovery, the profiles that apply to it, their ranking and the pick.

    ``active_profile_id`` is the profile ``PROJECT_PROFILE.yaml`` already names (the
    persisted choice), if any.
    """

    discovery: Discovery
    profiles: ProfileSet
    ranking: tuple[ProfileScore, ...]
    selection: Selection
    active_profile_id: str | None

    def score_of(self, profile_id: str) -> ProfileScore | None:
        """The ranking entry of ``profile_id``, if that profile is loaded."""
        return next((item for item in self.ranking if item.profile_id == profile_id), None)


def analyze_workspace(
    root: Path,
    options: AnalysisOptions | None = None,
    progress: ProgressCallback | None = None,
) -> Analysis:
    """Load the profiles (built-in + ``root``'s extensions), scan ``root`` for their signals
    and tools, rank and select."""
    options = options or AnalysisOptions()
    profiles = load_profiles(root)
    scan_options = ScanOptions(
        use_git=options.use_git,
        max_files=options.max_files,
        search_path=options.search_path,
        executables=profiles.executables(),
        probes=profiles.content_probes(),
    )
    discovery = scan_workspace(root, scan_options, progress)
    ranking = rank_profiles(discovery, profiles.profiles.values())
    selection = select_profile(ranking, FALLBACK_PROFILE_ID)
    return Analysis(discovery, profiles, ranking, selection, active_profile_id(discovery.root))


def active_profile_id(root: Path) -> str | None:
    """The ``profile_id`` of ``root/PROJECT_PROFILE.yaml``, when the file has one."""
    path = root / PROJECT_PROFILE_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    checked = check_artifact_text(text, PROJECT_PROFILE_PATH, "project_profile")
    value = checked.value
    if isinstance(value, dict) and isinstance(value.get("profile_id"), str):
        return str(value["profile_id"])
    return None
