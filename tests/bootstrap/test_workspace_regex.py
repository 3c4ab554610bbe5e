"""Patterns from a workspace's profile extensions run in linear time (RE2): the issue's
``^(a+)+$`` against forty ``a`` and a ``!``, and a glob that backtracks on ``re``, leave
``uet profiles`` (a real process) quick and still matching; a pattern only a backtracking
engine can run (a backreference, lookaround) is a UET510 problem naming it, and unused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bootstrap import support
from uet.bootstrap import AnalysisOptions, analyze_workspace, load_profiles
from uet.bootstrap.workspace_regex import RefusedPattern, compile_content_regex

CATASTROPHIC = "^(a+)+$"
BACKTRACKING_GLOB = "*a*a*a*a*a*a*a*a*b"


def extension(root: Path, signals: list[dict[str, object]]) -> None:
    document = {"profile_id": "hostile", "extends_profile": "generic"}  # merged into generic
    document["detection"] = {"signals": signals}
    support.write(root, {"profile_extensions/hostile.json": json.dumps(document)})


def signal(signal_id: str, **fields: object) -> dict[str, object]:
    return {"id": signal_id, "description": signal_id, "weight": 1, **fields}


def hostile_workspace(root: Path) -> Path:
    extension(
        root,
        [
            signal("slow", content={"glob": "*.txt", "regex": CATASTROPHIC}),
            signal("globbed", files=[BACKTRACKING_GLOB]),
        ],
    )
    return support.write(
        root,
        {
            "nearly.txt": "a" * 40 + "!\n",
            "match.txt": "first line\n" + "a" * 40 + "\n",
            "a" * 200: "a file whose name the glob backtracks on\n",
            "aaaaaaaab": "a file the glob matches\n",
        },
    )


def test_uet_profiles_with_catastrophic_patterns_finishes(tmp_path: Path) -> None:
    root = hostile_workspace(tmp_path / "W")
    completed = subprocess.run(
        [sys.executable, "-m", "uet", "profiles", str(root)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,  # a failure guard: re needs hours here
    )
    assert completed.returncode in (0, 1), completed.stderr
    assert "slow: slow (match.txt)" in completed.stdout
    assert "globbed: globbed (aaaaaaaab)" in completed.stdout


def test_the_linear_time_engine_still_matches(tmp_path: Path) -> None:
    root = hostile_workspace(tmp_path / "W")
    analysis = analyze_workspace(root, AnalysisOptions())
    assert analysis.profiles.problems == ()
    assert sorted(analysis.discovery.content_hits["generic/slow"]) == ["match.txt"]
    pattern = compile_content_regex(CATASTROPHIC)
    assert pattern.search(b"a" * 40 + b"!") is None
    assert pattern.search(b"x\naaa\ny") is not None  # multiline, as documented


@pytest.mark.parametrize(
    ("regex", "why"),
    [(r"^(a)\1$", "backreferences"), (r"^a(?=b)", "lookaround"), (r"(?<!x)y", "lookaround")],
)
def test_a_pattern_re2_refuses_is_a_uet510_problem_naming_it(
    tmp_path: Path, regex: str, why: str
) -> None:
    extension(tmp_path, [signal("refused", content={"glob": "*.txt", "regex": regex})])
    (problem,) = load_profiles(tmp_path).problems
    assert problem.code == "UET510"
    assert repr(regex) in problem.message and why in problem.message
    assert "profile_extensions/hostile.json: error: UET510 " in problem.format()
    generic = load_profiles(tmp_path).get("generic")
    assert "refused" not in [item.id for item in generic.signals]
    with pytest.raises(RefusedPattern):
        compile_content_regex(regex)

    completed = subprocess.run(
        [sys.executable, "-m", "uet", "profiles", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert "UET510" in completed.stdout + completed.stderr
    assert "Error parsing" not in completed.stderr  # RE2's own log stays quiet
