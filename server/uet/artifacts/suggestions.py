"""Did-you-mean in bounded work: the closest known name to an unknown one.

``difflib.get_close_matches`` compares a word with every candidate; done for each of
10,000 unknown entries against 10,000 ids that is 10^8 comparisons. A ``Suggester`` is
built once per set of candidates and answers each word with at most ``shortlist``
``difflib`` comparisons: small sets are compared in full (the answer ``difflib`` gives),
large ones first narrow the candidates through an index of their character trigrams,
reading at most ``max_postings`` entries of it. Answers are cached per word, and a
suggester gives up fuzzy matching after ``max_lookups`` distinct words: past that many
unknown names, a guess for each is noise, not help.
"""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from collections.abc import Iterable
from itertools import chain
from operator import itemgetter

__all__ = ["CUTOFF", "STRICT_CUTOFF", "Suggester", "normal_word", "suggest"]

CUTOFF = 0.6  # difflib's default: how similar a suggestion must be
# For a guess that is a leap already (a property one level down, a short synonym): at 0.6
# 'retries' would be taken for 'create' (0.62), which no user means.
STRICT_CUTOFF = 0.75
FULL_SCAN = 64  # up to this many candidates, compare with all of them
SHORTLIST = 12  # otherwise, compare with this many trigram-nearest ones
MAX_POSTINGS = 1_000  # trigram index entries read per word
MAX_LOOKUPS = 500  # distinct words fuzzy-matched per suggester
MAX_LENGTH = 200  # longer words and candidates are only matched exactly


def normal_word(word: str) -> str:
    """``word`` compared as the same name whatever its case and ``-``/``_``."""
    return word.lower().replace("-", "_")


def _trigrams(word: str) -> set[str]:
    padded = f"\0{word}\0"
    return {padded[start : start + 3] for start in range(len(padded) - 2)}


class Suggester:
    """The closest of a fixed set of candidates to a word, within bounded work."""

    def __init__(
        self,
        candidates: Iterable[str],
        *,
        max_lookups: int = MAX_LOOKUPS,
        max_postings: int = MAX_POSTINGS,
        shortlist: int = SHORTLIST,
        cutoff: float = CUTOFF,
    ) -> None:
        self._candidates = sorted(set(candidates))
        self._cutoff = cutoff
        self._max_lookups = max_lookups
        self._max_postings = max_postings
        self._shortlist = shortlist
        self._answers: dict[str, str | None] = {}
        self._lookups = 0
        self._normalised: dict[str, str] | None = None
        self._postings: dict[str, list[int]] | None = None

    def __call__(self, word: str) -> str | None:
        """The closest candidate to ``word``, or ``None`` when none is close enough."""
        if word in self._answers:
            return self._answers[word]
        answer = self._close(word) or self._same_but_case(word)
        self._answers[word] = answer
        return answer

    def _close(self, word: str) -> str | None:
        if len(word) > MAX_LENGTH or self._lookups >= self._max_lookups:
            return None
        self._lookups += 1
        if len(self._candidates) <= FULL_SCAN:
            pool = [item for item in self._candidates if len(item) <= MAX_LENGTH]
        else:
            pool = self._nearest(word)
        found = difflib.get_close_matches(word, pool, n=1, cutoff=self._cutoff)
        return found[0] if found else None

    def _same_but_case(self, word: str) -> str | None:
        """``Task_ID`` for ``task-id``: equal but for case and ``-``/``_``."""
        if self._normalised is None:
            self._normalised = {}
            for candidate in reversed(self._candidates):
                self._normalised[normal_word(candidate)] = candidate
        return self._normalised.get(normal_word(word))

    def _nearest(self, word: str) -> list[str]:
        """The candidates sharing the most trigrams with ``word``, rarest trigrams first."""
        postings = self._index()
        lists = sorted((postings[gram] for gram in _trigrams(word) if gram in postings), key=len)
        read: list[list[int]] = []
        budget = self._max_postings
        for entries in lists:
            read.append(entries[:budget])
            budget -= len(entries)
            if budget <= 0:
                break
        shared = Counter(chain.from_iterable(read))
        best = sorted(shared.items(), key=itemgetter(1), reverse=True)[: self._shortlist]
        return [self._candidates[position] for position, _ in best]

    def _index(self) -> dict[str, list[int]]:
        if self._postings is None:
            self._postings = defaultdict(list)
            for position, candidate in enumerate(self._candidates):
                if len(candidate) <= MAX_LENGTH:
                    for gram in _trigrams(candidate):
                        self._postings[gram].append(position)
        return self._postings


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to ``word`` (did-you-mean), if any is close enough."""
    return Suggester(candidates)(word)
