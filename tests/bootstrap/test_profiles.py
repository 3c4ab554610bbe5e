"""Built-in profiles, workspace extensions (merge order) and hostile extensions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.bootstrap import support
from uet.bootstrap import ProblemLevel, UnknownProfileError, load_profiles
from uet.bootstrap.profiles import merge_extension
from uet.resources import profiles_dir

BUILTIN = ("data-pipeline", "documentation", "generic", "operations", "software-dev-python")


def _extension(root: Path, name: str, document: dict[str, object]) -> None:
    folder = root / "profile_extensions"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(json.dumps(document), encoding="utf-8")


def test_builtin_profiles_load_without_any_problem() -> None:
    profiles = load_profiles()
    assert profiles.problems == ()
    assert tuple(profiles.profiles) == BUILTIN


@pytest.mark.parametrize("profile_id", BUILTIN)
def test_every_builtin_file_validates(profile_id: str) -> None:
    folder = Path(str(profiles_dir())) / profile_id
    files = [folder / "profile.json", *sorted((folder / "phases").glob("*.yaml"))]
    for path in files:
        assert support.error_diagnostics(path, folder.parent.parent) == [], path


def test_builtin_profiles_have_signals_tools_and_real_phases() -> None:
    profiles = load_profiles().profiles
    python = profiles["software-dev-python"]
    categories = [phase.name for phase in python.phases]
    assert categories == [
        "Plan the change",
        "Implement",
        "Lint and format",
        "Type-check",
        "Test",
        "Review",
        "Release",
    ]
    assert {"pytest", "ruff", "mypy"} <= set(python.tools)
    for profile in profiles.values():
        assert len(profile.phases) >= 3, profile.profile_id
        assert profile.signals, profile.profile_id
        assert any(phase.tasks for phase in profile.phases), profile.profile_id
        for phase in profile.phases:
            assert phase.spec["phase_id"] == phase.phase_id
            assert {"resource_scope", "constraints", "acceptance"} <= set(phase.spec)


def test_extensions_merge_in_documented_order(tmp_path: Path) -> None:
    _extension(
        tmp_path,
        "20-more-tools.json",
        {
            "profile_id": "acme-python",
            "extends_profile": "software-dev-python",
            "description": "second",
            "tools": {
                "bandit": {
                    "kind": "validator",
                    "command": ["bandit", "-r", "src"],
                    "capabilities": {"task_kinds": ["security"]},
                    "detect": ["bandit"],
                }
            },
            "phase_templates": [
                {
                    "phase_id": "PH-PY-SECURITY",
                    "name": "Security",
                    "category": "quality",
                    "tasks": [
                        {"task_id": "bandit", "name": "Scan", "kind": "security", "tool": "bandit"}
                    ],
                }
            ],
        },
    )
    _extension(
        tmp_path,
        "10-first.json",
        {
            "profile_id": "acme-python",
            "extends_profile": "software-dev-python",
            "description": "first",
        },
    )
    _extension(
        tmp_path,
        "30-new-profile.json",
        {
            "profile_id": "acme-ops",
            "profile_version": "0.1.0",
            "domain": "operations",
            "extends_core": [],
            "adds_resource_types": [],
            "detection": {
                "signals": [{"id": "ops", "description": "x", "weight": 1, "files": ["*.acme"]}]
            },
        },
    )
    _extension(
        tmp_path,
        "40-extends-new.json",
        {"profile_id": "x", "extends_profile": "acme-ops", "description": "patched"},
    )

    profiles = load_profiles(tmp_path)

    assert profiles.problems == ()
    python = profiles.get("software-dev-python")
    assert python.description == "second"
    assert python.extensions == (
        "profile_extensions/10-first.json",
        "profile_extensions/20-more-tools.json",
    )
    assert "bandit" in python.tools and "pytest" in python.tools
    assert python.phases[-1].phase_id == "PH-PY-SECURITY"
    assert python.phases[-1].spec["acceptance"] == {"mode": "all", "checks": []}
    assert profiles.get("acme-ops").description == "patched"
    with pytest.raises(UnknownProfileError):
        profiles.get("nope")


def test_merge_replaces_keyed_entries_and_never_removes() -> None:
    base: dict[str, Any] = {
        "phase_templates": [{"phase_id": "A", "name": "a"}, {"phase_id": "B", "name": "b"}],
        "extends_core": ["X"],
        "adds_constraints": {"patch_only": True},
    }
    extension = {
        "phase_templates": [{"phase_id": "B", "name": "b2"}, {"phase_id": "C", "name": "c"}],
        "extends_core": ["X", "Y"],
        "adds_constraints": {"max_lines_changed": 5},
    }
    merged = merge_extension(base, extension)
    assert [entry["name"] for entry in merged["phase_templates"]] == ["a", "b2", "c"]
    assert merged["extends_core"] == ["X", "Y"]
    assert merged["adds_constraints"] == {"patch_only": True, "max_lines_changed": 5}
    assert base["phase_templates"][1]["name"] == "b"


def test_invalid_and_clashing_extensions_are_reported_and_skipped(tmp_path: Path) -> None:
    _extension(
        tmp_path,
        "a.json",
        {
            "profile_id": "generic",
            "profile_version": "1.0.0",
            "extends_core": [],
            "adds_resource_types": [],
        },
    )
    _extension(tmp_path, "b.json", {"profile_id": "y", "extends_profile": "missing"})
    _extension(tmp_path, "c.json", {"profile_id": "z", "extends_profile": "generic", "tools": 5})
    (tmp_path / "profile_extensions" / "d.yaml").write_text("profile_id: [unclosed\n", "utf-8")

    profiles = load_profiles(tmp_path)

    messages = [problem.format() for problem in profiles.problems]
    assert any("a.json" in line and "already exists" in line for line in messages)
    assert any("b.json" in line and "unknown profile 'missing'" in line for line in messages)
    assert any("c.json" in line and "not valid" in line for line in messages)
    assert any("d.yaml" in line for line in messages)
    assert set(profiles.profiles) == set(BUILTIN)


@pytest.mark.parametrize(
    ("template_path", "expected"),
    [
        ("../../outside.yaml", "'..' segments are not allowed"),
        ("/etc/passwd", "absolute paths are not allowed"),
        ("sub\\..\\x.yaml", "backslash"),
        ("linked.yaml", "resolves outside the workspace"),
    ],
)
def test_hostile_template_paths_are_refused(
    tmp_path: Path, template_path: str, expected: str
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    outside = tmp_path / "outside.yaml"
    outside.write_text("phase_id: STOLEN\n", encoding="utf-8")
    _extension(
        workspace,
        "evil.json",
        {
            "profile_id": "evil",
            "extends_profile": "generic",
            "phase_templates": [
                {
                    "phase_id": "PH-EVIL",
                    "name": "Evil",
                    "category": "x",
                    "template_path": template_path,
                }
            ],
        },
    )
    (workspace / "profile_extensions" / "linked.yaml").symlink_to(outside)

    profiles = load_profiles(workspace)

    errors = [p for p in profiles.problems if p.level is ProblemLevel.ERROR]
    assert any(expected in problem.message for problem in errors), errors
    generic = profiles.get("generic")
    assert "PH-EVIL" not in [phase.phase_id for phase in generic.phases]


def test_hostile_task_cwd_is_refused_by_the_schema(tmp_path: Path) -> None:
    _extension(
        tmp_path,
        "evil.json",
        {
            "profile_id": "evil",
            "extends_profile": "generic",
            "phase_templates": [
                {
                    "phase_id": "PH-EVIL",
                    "name": "Evil",
                    "category": "x",
                    "tasks": [
                        {
                            "task_id": "t",
                            "name": "t",
                            "kind": "status",
                            "tool": "git-status",
                            "cwd": "../..",
                        }
                    ],
                }
            ],
        },
    )
    profiles = load_profiles(tmp_path)
    messages = " ".join(problem.message for problem in profiles.problems)
    assert "cwd" in messages and "profile ignored" in messages
    assert "PH-EVIL" not in [phase.phase_id for phase in profiles.get("generic").phases]


def test_model_checks_what_the_schema_cannot(tmp_path: Path) -> None:
    _extension(
        tmp_path,
        "x.json",
        {
            "profile_id": "x",
            "extends_profile": "generic",
            "tools": {
                "sneaky": {
                    "kind": "tool",
                    "command": ["true"],
                    "capabilities": {},
                    "detect": ["../../bin/sh"],
                }
            },
            "phase_templates": [
                {
                    "phase_id": "PH-X",
                    "name": "X",
                    "category": "x",
                    "tasks": [
                        {
                            "task_id": "t",
                            "name": "t",
                            "kind": "status",
                            "tool": "git-status",
                            "args": ["{{paths:nonsense}}"],
                        },
                        {"task_id": "u", "name": "u", "kind": "status", "tool": "no-such-tool"},
                        {
                            "task_id": "v",
                            "name": "v",
                            "kind": "status",
                            "tool": "git-status",
                            "args": ["x{{path:git}}"],
                        },
                    ],
                }
            ],
        },
    )
    profiles = load_profiles(tmp_path)
    messages = " ".join(problem.message for problem in profiles.problems)
    assert "detect names must be bare executable names" in messages
    assert "unknown marker kind 'nonsense'" in messages
    assert "tool 'no-such-tool' is not among the profile's tools" in messages
    assert "a placeholder must be a whole value" in messages
    generic = profiles.get("generic")
    assert "sneaky" not in generic.tools
    assert next(phase for phase in generic.phases if phase.phase_id == "PH-X").tasks == ()


def test_invalid_regex_is_refused_by_the_schema(tmp_path: Path) -> None:
    _extension(
        tmp_path,
        "x.json",
        {
            "profile_id": "x",
            "extends_profile": "generic",
            "detection": {
                "signals": [
                    {
                        "id": "bad",
                        "description": "d",
                        "weight": 1,
                        "content": {"glob": "*.py", "regex": "(?P<x"},
                    }
                ]
            },
        },
    )
    messages = " ".join(problem.message for problem in load_profiles(tmp_path).problems)
    assert "valid regex" in messages
