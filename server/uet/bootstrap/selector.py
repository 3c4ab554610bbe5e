"""Scores every profile against a discovery and picks one, explaining each score.

A profile's score is the sum of its signals' contributions (docs/profiles.md):

* ``files``: the full weight when at least one listed file matches (gitignore-style globs);
* ``dependencies``: the full weight when at least one named package is declared;
* ``languages``: the weight times the share (0..1) of counted lines in those languages;
* ``content``: the full weight when at least one file matching the glob matches the regex
  (evaluated during the scan, see ``ProfileSet.content_probes``).

A signal with several matchers contributes the largest of their contributions (not the
sum: one signal is one piece of evidence). Ranking is by score, then profile id, so equal
inputs always give equal output. The best profile wins unless

* no profile reaches ``MIN_SCORE``: the fallback profile (``generic``) is chosen;
* the runner-up is within ``NEAR_TIE_ABSOLUTE`` points or ``NEAR_TIE_RELATIVE`` of the
  winner: the choice is *ambiguous* and the top three are reported so a person decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from uet.bootstrap.discovery import Discovery
from uet.bootstrap.globs import compile_globs
from uet.bootstrap.manifests import normalize_name
from uet.bootstrap.profile_model import Profile, Signal

__all__ = [
    "MIN_SCORE",
    "NEAR_TIE_ABSOLUTE",
    "NEAR_TIE_RELATIVE",
    "ProfileScore",
    "Selection",
    "SignalResult",
    "rank_profiles",
    "select_profile",
]

MIN_SCORE = 3.0
NEAR_TIE_ABSOLUTE = 1.0
NEAR_TIE_RELATIVE = 0.15
_EVIDENCE_LIMIT = 3
_CONTENDERS = 3
_FALLBACK = "generic"


@dataclass(frozen=True, slots=True)
class SignalResult:
    """How one signal fared: its contribution and the evidence (at most three items)."""

    signal_id: str
    description: str
    weight: float
    contribution: float
    evidence: tuple[str, ...]
    matched_count: int

    def explain(self) -> str:
        """``+6.00 python-sources: Python is ... (Python 93%)``."""
        shown = ", ".join(self.evidence)
        more = self.matched_count - len(self.evidence)
        if more > 0:
            shown += f", +{more} more"
        return f"+{self.contribution:.2f} {self.signal_id}: {self.description} ({shown})"


@dataclass(frozen=True, slots=True)
class ProfileScore:
    """One profile's score and the signals that made it."""

    profile_id: str
    domain: str
    description: str
    score: float
    signals: tuple[SignalResult, ...]

    @property
    def contributing(self) -> tuple[SignalResult, ...]:
        """The signals that added something, largest first."""
        found = [signal for signal in self.signals if signal.contribution > 0]
        return tuple(sorted(found, key=lambda item: (-item.contribution, item.signal_id)))

    def summary(self, signals: int = 3) -> str:
        """One line for menus and code-action titles:
        ``software-dev-python (13.75: python-packaging, python-tests, python-sources)``."""
        names = ", ".join(signal.signal_id for signal in self.contributing[:signals])
        return f"{self.profile_id} ({self.score:.2f}{': ' + names if names else ''})"

    def reasons(self) -> list[str]:
        """One line per contributing signal (empty when nothing matched)."""
        return [signal.explain() for signal in self.contributing]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (``uet profiles --json``, the language server's commands)."""
        return {
            "profile_id": self.profile_id,
            "domain": self.domain,
            "score": self.score,
            "signals": [
                {
                    "id": signal.signal_id,
                    "description": signal.description,
                    "weight": signal.weight,
                    "contribution": signal.contribution,
                    "evidence": list(signal.evidence),
                    "matched": signal.matched_count,
                }
                for signal in self.contributing
            ],
        }


@dataclass(frozen=True, slots=True)
class Selection:
    """The outcome: the chosen profile, whether the choice is ambiguous, and why."""

    chosen: ProfileScore
    ranking: tuple[ProfileScore, ...]
    ambiguous: bool
    contenders: tuple[ProfileScore, ...]
    fallback: bool
    reason: str

    @property
    def confidence(self) -> float:
        """0..1: the winner's share of the top two scores (1.0 when unopposed)."""
        top = self.ranking[0].score if self.ranking else 0.0
        second = self.ranking[1].score if len(self.ranking) > 1 else 0.0
        if top <= 0:
            return 0.0
        return round(top / (top + second), 2)


def rank_profiles(discovery: Discovery, profiles: Iterable[Profile]) -> tuple[ProfileScore, ...]:
    """Every profile scored against ``discovery``, best first (ties by profile id)."""
    scores = [_score(profile, discovery) for profile in profiles]
    return tuple(sorted(scores, key=lambda item: (-item.score, item.profile_id)))


def select_profile(ranking: tuple[ProfileScore, ...], fallback_id: str = _FALLBACK) -> Selection:
    """Pick from a ranking (``rank_profiles``'s output)."""
    if not ranking:
        raise ValueError("no profile to select from")
    top = ranking[0]
    if top.score < MIN_SCORE:
        chosen = next((item for item in ranking if item.profile_id == fallback_id), top)
        reason = (
            f"no profile reached {MIN_SCORE:.1f} points (best: {top.profile_id} "
            f"{top.score:.2f}); using the fallback profile {chosen.profile_id}"
        )
        return Selection(chosen, ranking, False, (), True, reason)
    runner_up = ranking[1] if len(ranking) > 1 else None
    margin = max(NEAR_TIE_ABSOLUTE, NEAR_TIE_RELATIVE * top.score)
    if runner_up is not None and top.score - runner_up.score < margin:
        contenders = ranking[:_CONTENDERS]
        listed = ", ".join(f"{item.profile_id} ({item.score:.2f})" for item in contenders)
        reason = (
            f"ambiguous: {top.profile_id} leads {runner_up.profile_id} by "
            f"{top.score - runner_up.score:.2f} points (< {margin:.2f}); top three: {listed}"
        )
        return Selection(top, ranking, True, contenders, False, reason)
    lead = f" ahead of {runner_up.profile_id} ({runner_up.score:.2f})" if runner_up else ""
    reason = f"{top.profile_id} scores {top.score:.2f}{lead}"
    return Selection(top, ranking, False, (), False, reason)


def _score(profile: Profile, discovery: Discovery) -> ProfileScore:
    results = [_evaluate(signal, profile.profile_id, discovery) for signal in profile.signals]
    total = round(sum(result.contribution for result in results), 2)
    return ProfileScore(
        profile.profile_id, profile.domain, profile.description, total, tuple(results)
    )


def _evaluate(signal: Signal, profile_id: str, discovery: Discovery) -> SignalResult:
    """The best of the signal's matchers (each is full weight or nothing, except
    languages, which scale with their share)."""
    candidates: list[tuple[float, tuple[str, ...], int]] = []
    if signal.files:
        matched = _match_files(signal.files, discovery.files)
        if matched:
            candidates.append((signal.weight, tuple(matched[:_EVIDENCE_LIMIT]), len(matched)))
    if signal.dependencies:
        wanted = {normalize_name(name) for name in signal.dependencies}
        declared = sorted(wanted & discovery.dependencies)
        if declared:
            evidence = tuple(f"depends on {name}" for name in declared[:_EVIDENCE_LIMIT])
            candidates.append((signal.weight, evidence, len(declared)))
    if signal.languages:
        share = discovery.language_share(signal.languages)
        if share > 0:
            shares = _language_evidence(discovery, signal.languages)
            candidates.append((signal.weight * share, shares, len(shares)))
    if signal.content_glob is not None:
        hits = discovery.content_hits.get(signal.probe_key(profile_id), ())
        if hits:
            candidates.append((signal.weight, tuple(hits[:_EVIDENCE_LIMIT]), len(hits)))
    if not candidates:
        return SignalResult(signal.id, signal.description, signal.weight, 0.0, (), 0)
    contribution, evidence, count = max(candidates, key=lambda item: item[0])
    return SignalResult(
        signal.id, signal.description, signal.weight, round(contribution, 2), evidence, count
    )


def _language_evidence(discovery: Discovery, languages: Iterable[str]) -> tuple[str, ...]:
    wanted = {name.lower() for name in languages}
    return tuple(
        f"{stat.language} {stat.percentage:.0f}% of lines"
        for stat in discovery.languages
        if stat.language.lower() in wanted and stat.percentage > 0
    )


def _match_files(globs: tuple[str, ...], files: tuple[str, ...]) -> list[str]:
    matches = compile_globs(globs)
    return [path for path in files if matches(path)]


def ranking_as_dicts(ranking: Iterable[ProfileScore]) -> list[Mapping[str, Any]]:
    """JSON-ready list of a ranking."""
    return [item.as_dict() for item in ranking]
