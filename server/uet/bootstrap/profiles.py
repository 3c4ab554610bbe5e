"""Loads the built-in profiles and the workspace's profile extensions, validated and merged.

Merge order (docs/profiles.md):

1. built-in profiles, ``profiles/<id>/profile.json`` shipped with uet-lsp;
2. workspace extensions ``profile_extensions/*.{json,yaml,yml}``, in file-name order:
   first those *without* ``extends_profile`` (each defines a new profile; an id that is
   already taken is refused), then those *with* ``extends_profile`` (each modifies the
   profile it names, built-in or workspace-defined, in file-name order).

Merging an extension onto a profile: scalars (``description``, ``domain``,
``profile_version``) replace; keyed lists merge by key — ``phase_templates`` by
``phase_id``, ``detection.signals`` by ``id``, ``adds_resource_types`` by ``type``,
``adds_change_types`` by ``kind``, ``adds_validation_types`` by ``type`` (same key replaces
the whole entry, a new key is appended); ``tools`` merge by app id; string lists
(``extends_core``, ``adds_task_kinds``) are unions; ``adds_constraints`` is a dict update.
An extension never removes anything.

Every document is validated against ``profile_extension`` and every template file against
``phase_spec``; the model in ``uet.bootstrap.profile_model`` then refuses what the schema
cannot express (unsafe template paths, regexes that do not compile, unknown placeholders).
An invalid built-in profile is a bug (a test guards it); an invalid extension is reported
and skipped, never fatal.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from uet.bootstrap.errors import Problem, ProblemLevel, UnknownProfileError
from uet.bootstrap.markers import ContentProbe
from uet.bootstrap.paths import is_within, unsafe_relative_reason
from uet.bootstrap.profile_model import Profile, build_profile
from uet.bootstrap.validation import check_artifact_text
from uet.resources import profiles_dir

__all__ = [
    "EXTENSIONS_DIR",
    "FALLBACK_PROFILE_ID",
    "ProfileSet",
    "load_profiles",
    "merge_extension",
]

EXTENSIONS_DIR = "profile_extensions"
FALLBACK_PROFILE_ID = "generic"
_SUFFIXES = (".json", ".yaml", ".yml")
_KEYED_LISTS = {
    "phase_templates": "phase_id",
    "adds_resource_types": "type",
    "adds_change_types": "kind",
    "adds_validation_types": "type",
}
_UNION_LISTS = ("extends_core", "adds_task_kinds")
_SCALARS = ("description", "domain", "profile_version")


@dataclass(frozen=True, slots=True)
class ProfileSet:
    """The loaded profiles by id (sorted) and every problem met while loading them."""

    profiles: Mapping[str, Profile]
    problems: tuple[Problem, ...]

    def get(self, profile_id: str) -> Profile:
        """The profile ``profile_id``; ``UnknownProfileError`` when there is none."""
        try:
            return self.profiles[profile_id]
        except KeyError:
            raise UnknownProfileError(profile_id, list(self.profiles)) from None

    def content_probes(self) -> tuple[ContentProbe, ...]:
        """The content signals of every profile, for ``ScanOptions.probes``."""
        return tuple(
            probe
            for profile in self.profiles.values()
            for signal in profile.signals
            if (probe := signal.probe(profile.profile_id)) is not None
        )

    def executables(self) -> tuple[str, ...]:
        """Every executable any profile's tools detect, sorted."""
        names = {
            name
            for profile in self.profiles.values()
            for tool in profile.tools.values()
            for name in tool.detect
        }
        return tuple(sorted(names))


@dataclass(frozen=True, slots=True)
class _Source:
    """Where a profile document came from: its label and the folder templates resolve in."""

    label: str
    folder: Traversable
    workspace_root: Path | None


def load_profiles(workspace: Path | None = None) -> ProfileSet:
    """Built-in profiles, merged with the extensions of ``workspace`` (if given)."""
    problems: list[Problem] = []
    documents: dict[str, tuple[dict[str, Any], list[tuple[dict[str, Any], _Source]]]] = {}
    sources: dict[str, _Source] = {}
    for document, source in _builtin_documents(problems):
        profile_id = str(document["profile_id"])
        documents[profile_id] = (document, [])
        sources[profile_id] = source
    if workspace is not None:
        extensions = _workspace_documents(workspace.resolve(), problems)
        for document, source in extensions:
            if "extends_profile" in document:
                continue
            profile_id = str(document["profile_id"])
            if profile_id in documents:
                problems.append(
                    Problem(
                        ProblemLevel.ERROR,
                        source.label,
                        f"profile {profile_id!r} already exists; add "
                        f'"extends_profile": "{profile_id}" to modify it',
                    )
                )
                continue
            documents[profile_id] = (document, [])
            sources[profile_id] = source
        for document, source in extensions:
            base = document.get("extends_profile")
            if base is None:
                continue
            if base not in documents:
                problems.append(
                    Problem(
                        ProblemLevel.ERROR,
                        source.label,
                        f"extends_profile names unknown profile {base!r} "
                        f"(known: {', '.join(sorted(documents))})",
                    )
                )
                continue
            documents[str(base)][1].append((document, source))
    profiles: dict[str, Profile] = {}
    for profile_id in sorted(documents):
        base_document, extensions_of = documents[profile_id]
        merged = copy.deepcopy(base_document)
        template_folders = _template_folders(merged, sources[profile_id])
        for extension, source in extensions_of:
            merged = merge_extension(merged, extension)
            template_folders.update(_template_folders(extension, source))
        profile, profile_problems = build_profile(
            merged,
            origin=sources[profile_id].label,
            extensions=tuple(source.label for _, source in extensions_of),
            read_template=functools.partial(_read_template, folders=template_folders),
        )
        problems.extend(profile_problems)
        if profile is not None:
            profiles[profile_id] = profile
    return ProfileSet(profiles, tuple(problems))


def merge_extension(base: Mapping[str, Any], extension: Mapping[str, Any]) -> dict[str, Any]:
    """``extension`` merged onto ``base`` (a new dict; neither input is modified)."""
    merged = copy.deepcopy(dict(base))
    for key in _SCALARS:
        if key in extension:
            merged[key] = copy.deepcopy(extension[key])
    for key, id_key in _KEYED_LISTS.items():
        if key in extension:
            merged[key] = _merge_keyed(merged.get(key, []), extension[key], id_key)
    for key in _UNION_LISTS:
        if key in extension:
            current = list(merged.get(key, []))
            current.extend(item for item in extension[key] if item not in current)
            merged[key] = current
    if "adds_constraints" in extension:
        merged["adds_constraints"] = {
            **merged.get("adds_constraints", {}),
            **copy.deepcopy(extension["adds_constraints"]),
        }
    if "tools" in extension:
        merged["tools"] = {**merged.get("tools", {}), **copy.deepcopy(extension["tools"])}
    if "detection" in extension:
        signals = extension["detection"].get("signals", [])
        detection = dict(merged.get("detection", {}))
        detection["signals"] = _merge_keyed(detection.get("signals", []), signals, "id")
        merged["detection"] = detection
    return merged


def _merge_keyed(base: list[Any], extra: list[Any], id_key: str) -> list[Any]:
    result = [copy.deepcopy(item) for item in base]
    positions = {item.get(id_key): index for index, item in enumerate(result)}
    for item in extra:
        position = positions.get(item.get(id_key))
        if position is None:
            positions[item.get(id_key)] = len(result)
            result.append(copy.deepcopy(item))
        else:
            result[position] = copy.deepcopy(item)
    return result


def _builtin_documents(problems: list[Problem]) -> list[tuple[dict[str, Any], _Source]]:
    found: list[tuple[dict[str, Any], _Source]] = []
    folder = profiles_dir()
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        profile_file = entry / "profile.json"
        if not entry.is_dir() or not profile_file.is_file():
            continue
        label = f"builtin:{entry.name}/profile.json"
        document = _load_document(profile_file.read_text(encoding="utf-8"), label, problems)
        if document is not None:
            found.append((document, _Source(label, entry, None)))
    return found


def _workspace_documents(
    root: Path, problems: list[Problem]
) -> list[tuple[dict[str, Any], _Source]]:
    folder = root / EXTENSIONS_DIR
    if not folder.is_dir() or not is_within(folder.resolve(), root):
        return []
    found: list[tuple[dict[str, Any], _Source]] = []
    for path in sorted(folder.iterdir(), key=lambda item: item.name):
        if path.suffix not in _SUFFIXES:
            continue
        label = f"{EXTENSIONS_DIR}/{path.name}"
        if not is_within(path.resolve(), root) or not path.is_file():
            problems.append(
                Problem(ProblemLevel.ERROR, label, "links outside the workspace; ignored")
            )
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(ProblemLevel.ERROR, label, f"not readable: {exc}"))
            continue
        document = _load_document(text, label, problems)
        if document is not None:
            found.append((document, _Source(label, path.parent, root)))
    return found


def _load_document(text: str, label: str, problems: list[Problem]) -> dict[str, Any] | None:
    suffix = "." + label.rsplit(".", 1)[-1]
    checked = check_artifact_text(text, f"profile_extension{suffix}", "profile_extension", label)
    problems.extend(checked.problems)
    if not checked.ok or not isinstance(checked.value, dict):
        problems.append(Problem(ProblemLevel.ERROR, label, "profile ignored: it is not valid"))
        return None
    if not isinstance(checked.value.get("profile_id"), str):
        problems.append(Problem(ProblemLevel.ERROR, label, "profile ignored: no profile_id"))
        return None
    return checked.value


def _template_folders(document: Mapping[str, Any], source: _Source) -> dict[str, _Source]:
    """Which source each phase template of ``document`` is read from (by phase id)."""
    folders: dict[str, _Source] = {}
    for entry in document.get("phase_templates", []):
        if isinstance(entry, Mapping) and isinstance(entry.get("phase_id"), str):
            folders[entry["phase_id"]] = source
    return folders


def _read_template(
    entry: Mapping[str, Any], folders: Mapping[str, _Source]
) -> tuple[object, list[Problem]]:
    """Load and validate the phase spec ``entry["template_path"]`` names, confined to the
    folder of the document that declared it (and to the workspace, for extensions)."""
    source = folders[str(entry.get("phase_id"))]
    relative = str(entry["template_path"])
    label = f"{source.label} (template {relative})"
    reason = unsafe_relative_reason(relative)
    if reason is not None:
        return None, [Problem(ProblemLevel.ERROR, label, f"template_path refused: {reason}")]
    target = source.folder.joinpath(*relative.split("/"))
    if source.workspace_root is not None:
        resolved = Path(str(target)).resolve()
        if not is_within(resolved, source.workspace_root):
            message = "template_path refused: it resolves outside the workspace"
            return None, [Problem(ProblemLevel.ERROR, label, message)]
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(ProblemLevel.ERROR, label, f"template not readable: {exc}")]
    checked = check_artifact_text(text, relative, "phase_spec", label)
    if not checked.ok:
        return None, [*checked.problems, Problem(ProblemLevel.ERROR, label, "template invalid")]
    return checked.value, list(checked.problems)
