"""The weights of the repository map's file graph and PageRank, as one frozen record.

They follow aider's repository map (``aider/repomap.py``, ``get_ranked_tags``), whose
defaults have been tuned on real chats: a user reads a map ranked that way, so ours ranks
the same way unless told otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_WEIGHTS", "RankWeights"]


@dataclass(frozen=True, slots=True)
class RankWeights:
    """How much each kind of evidence counts when ranking definitions.

    An edge goes from a file that references an identifier to each file defining it; its
    weight is ``sqrt(references)`` (or the count itself without ``sqrt_reference_counts``)
    times every multiplier that applies:

    - ``mentioned``: the identifier was named by the user (``--mention``): it is what they
      are asking about, so what defines it matters most.
    - ``long_identifier`` (at least ``long_identifier_length`` characters and snake_case,
      camelCase or kebab-case): such a name is specific, so sharing it is real coupling;
      ``i``, ``get`` or ``run`` are shared by chance.
    - ``private`` (a leading underscore): an internal name says little about the API a
      reader needs.
    - ``widely_defined`` (defined in more than ``widely_defined_files`` files): ``__init__``,
      ``name``, ``main`` ... point to no file in particular.
    - ``focus_referencer``: the referencing file is in focus (open, being edited): what it
      uses is what the reader needs next.

    ``sqrt_reference_counts`` damps a file calling one name a hundred times, so many distinct
    names outweigh one name used often.

    ``unreferenced_self_edge`` is the weight of a self-loop from a file to itself for each
    identifier it defines that no file references: the file's rank is split over its edges,
    and without the loop such definitions would get none and never appear. The loop is not
    a PageRank edge (``uet.context.graph`` says why).

    PageRank: ``damping`` is the chance of following an edge rather than teleporting;
    teleports go to the personalisation: ``focus_personalization`` for each file in focus and
    ``mentioned_path_personalization`` for each file whose path has a part (a directory, the
    file name with or without its suffix) equal to a mentioned identifier. With neither,
    teleports are uniform. ``tolerance`` (per node, L1) and ``max_iterations`` bound the power
    iteration, as networkx's ``pagerank`` does (1e-6, 100) but returning the last iterate
    instead of failing.
    """

    mentioned: float = 10.0
    long_identifier: float = 10.0
    long_identifier_length: int = 8
    private: float = 0.1
    widely_defined: float = 0.1
    widely_defined_files: int = 5
    focus_referencer: float = 50.0
    sqrt_reference_counts: bool = True
    unreferenced_self_edge: float = 0.1
    damping: float = 0.85
    focus_personalization: float = 1.0
    mentioned_path_personalization: float = 1.0
    tolerance: float = 1e-6
    max_iterations: int = 100

    def identifier_multiplier(
        self, ident: str, defining_files: int, mentioned: bool = False
    ) -> float:
        """Every multiplier that depends on the identifier alone (not on the referencing file)."""
        multiplier = 1.0
        if mentioned:
            multiplier *= self.mentioned
        if len(ident) >= self.long_identifier_length and is_styled_identifier(ident):
            multiplier *= self.long_identifier
        if ident.startswith("_"):
            multiplier *= self.private
        if defining_files > self.widely_defined_files:
            multiplier *= self.widely_defined
        return multiplier


def is_styled_identifier(ident: str) -> bool:
    """snake_case, kebab-case or camelCase: a compound name, as aider tells them."""
    has_alpha = any(c.isalpha() for c in ident)
    snake = "_" in ident and has_alpha
    kebab = "-" in ident and has_alpha
    camel = any(c.isupper() for c in ident) and any(c.islower() for c in ident)
    return snake or kebab or camel


DEFAULT_WEIGHTS = RankWeights()
