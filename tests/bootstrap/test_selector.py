"""Profile selection on the fixture repositories: expected winner, reasons, ties, fallback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.bootstrap import support
from uet.bootstrap import (
    AnalysisOptions,
    ScanOptions,
    analyze_workspace,
    load_profiles,
    rank_profiles,
    scan_workspace,
    select_profile,
)
from uet.bootstrap.selector import ProfileScore, SignalResult

FIXTURES: list[tuple[str, Callable[[Path], Path], str]] = [
    ("python-library", support.python_library, "software-dev-python"),
    ("dbt-project", support.dbt_project, "data-pipeline"),
    ("mkdocs-site", support.mkdocs_site, "documentation"),
    ("terraform-ansible", support.terraform_ansible, "operations"),
]


@pytest.mark.parametrize(("name", "build", "expected"), FIXTURES, ids=[f[0] for f in FIXTURES])
def test_fixture_gets_expected_profile_with_reasons(
    tmp_path: Path, name: str, build: Callable[[Path], Path], expected: str
) -> None:
    root = build(tmp_path / name)
    analysis = analyze_workspace(root, AnalysisOptions(search_path=""))
    selection = analysis.selection
    assert selection.chosen.profile_id == expected
    assert not selection.ambiguous and not selection.fallback
    assert selection.chosen.score == pytest.approx(
        sum(signal.contribution for signal in selection.chosen.signals)
    )
    assert selection.chosen.reasons(), "a selected profile must say why"
    assert all(line.startswith("+") for line in selection.chosen.reasons())
    assert 0.5 < selection.confidence <= 1.0


def test_reasons_name_the_evidence(tmp_path: Path) -> None:
    root = support.terraform_ansible(tmp_path)
    analysis = analyze_workspace(root, AnalysisOptions(search_path=""))
    reasons = "\n".join(analysis.selection.chosen.reasons())
    assert "+8.00 terraform: Terraform configuration (infra/main.tf, infra/outputs.tf)" in reasons
    assert "ansible/site.yml" in reasons


@pytest.mark.parametrize("kind", ["empty", "symlinks"])
def test_empty_and_hazard_folders_fall_back_to_generic(tmp_path: Path, kind: str) -> None:
    root = tmp_path / "ws"
    if kind == "empty":
        root.mkdir()
    else:
        support.symlink_hazards(root, tmp_path / "outside")
    selection = analyze_workspace(root, AnalysisOptions(search_path="")).selection
    assert selection.chosen.profile_id == "generic"
    assert selection.fallback
    assert "fallback" in selection.reason


def test_repository_with_ignored_files_is_still_a_python_library(tmp_path: Path) -> None:
    root = support.ignored_repository(tmp_path / "repo", count=500)
    selection = analyze_workspace(root, AnalysisOptions(search_path="")).selection
    assert selection.chosen.profile_id == "software-dev-python"


def test_near_tie_is_ambiguous_and_lists_the_top_three(tmp_path: Path) -> None:
    support.python_library(tmp_path)
    support.mkdocs_site(tmp_path)
    support.write(tmp_path, {"requirements-docs.txt": "sphinx\n"})
    selection = analyze_workspace(tmp_path, AnalysisOptions(search_path="")).selection
    assert selection.ambiguous, selection.reason
    assert [item.profile_id for item in selection.contenders] == [
        item.profile_id for item in selection.ranking[:3]
    ]
    assert {"software-dev-python", "documentation"} <= {
        item.profile_id for item in selection.contenders
    }
    assert "ambiguous" in selection.reason


def test_ranking_is_deterministic_and_ties_break_by_id(tmp_path: Path) -> None:
    support.dbt_project(tmp_path)
    profiles = load_profiles()
    options = ScanOptions(probes=profiles.content_probes())
    first = rank_profiles(scan_workspace(tmp_path, options), profiles.profiles.values())
    second = rank_profiles(
        scan_workspace(tmp_path, options), reversed(list(profiles.profiles.values()))
    )
    assert first == second
    zero = [item.profile_id for item in first if item.score == 0]
    assert zero == sorted(zero)


def _score(profile_id: str, score: float) -> ProfileScore:
    signal = SignalResult("s", "d", score, score, ("e",), 1)
    return ProfileScore(profile_id, "mixed", "", score, (signal,))


@pytest.mark.parametrize(
    ("scores", "ambiguous", "fallback", "chosen"),
    [
        ([("a", 10.0), ("b", 8.4), ("generic", 1.0)], False, False, "a"),
        ([("a", 10.0), ("b", 8.6), ("generic", 1.0)], True, False, "a"),
        ([("a", 4.0), ("b", 3.1), ("generic", 1.0)], True, False, "a"),
        ([("a", 4.0), ("b", 2.9), ("generic", 1.0)], False, False, "a"),
        ([("a", 2.9), ("generic", 1.0)], False, True, "generic"),
    ],
)
def test_selection_thresholds(
    scores: list[tuple[str, float]], ambiguous: bool, fallback: bool, chosen: str
) -> None:
    selection = select_profile(tuple(_score(name, value) for name, value in scores))
    assert (selection.ambiguous, selection.fallback, selection.chosen.profile_id) == (
        ambiguous,
        fallback,
        chosen,
    )
