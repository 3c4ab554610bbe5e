"""Identifiers and timestamps of run-store rows.

Ids are real ULIDs (the ULID spec, as python-ulid reads and writes them): 48 bits of
milliseconds then 80 random bits, written in Crockford base32. The generator is monotonic
within one process (an id made in the same millisecond as the previous one is that one plus
one), so ids sort in creation order, which the run store relies on for events. The engine
makes several ids per task, so they are made here without a syscall or an object per id:
the random bits are cut from a pool of ``os.urandom`` bytes refilled every few hundred ids
(and emptied in a forked child), and the encoding goes two characters at a time through a
table.

Timestamps are RFC 3339 UTC strings with milliseconds, which sort as text.
"""

from __future__ import annotations

import os
import re
import threading
import time
from datetime import UTC, datetime

__all__ = [
    "ULID_PATTERN",
    "is_ulid",
    "new_ulid",
    "timestamp_from_epoch",
    "ulid_seconds",
    "utc_timestamp",
]

ULID_PATTERN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_RANDOM_BITS = 80

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Every pair of Crockford digits, indexed by the 10 bits they encode; 13 pairs make the 26
# characters of a 128-bit ULID (the top two of the 130 bits are zero).
_PAIRS = tuple(high + low for high in _CROCKFORD for low in _CROCKFORD)
_PAIR_SHIFTS = tuple(range(120, -1, -10))
_PAIR_MASK = 0x3FF

_RANDOM_BYTES = _RANDOM_BITS // 8
_POOL_SIZE = 400  # random parts per os.urandom call

_lock = threading.Lock()
_last_value = [0]  # the last ULID made in this process, as an integer
_random_parts: list[int] = []  # 80-bit random parts cut from os.urandom bytes, used from the end


def _fill_pool() -> None:
    data = os.urandom(_RANDOM_BYTES * _POOL_SIZE)
    _random_parts[:] = [
        int.from_bytes(data[start : start + _RANDOM_BYTES])
        for start in range(0, len(data), _RANDOM_BYTES)
    ]


os.register_at_fork(after_in_child=_random_parts.clear)  # never repeat the parent's parts


def new_ulid() -> str:
    """A new ULID, strictly greater than every ULID made before in this process."""
    milliseconds = time.time_ns() // 1_000_000
    with _lock:
        if not _random_parts:
            _fill_pool()
        value = (milliseconds << _RANDOM_BITS) | _random_parts.pop()
        if value <= _last_value[0]:
            value = _last_value[0] + 1
        _last_value[0] = value
    pairs = _PAIRS
    return "".join([pairs[(value >> shift) & _PAIR_MASK] for shift in _PAIR_SHIFTS])


def is_ulid(text: str) -> bool:
    """Whether ``text`` is a well-formed ULID."""
    return ULID_PATTERN.match(text) is not None


def ulid_seconds(text: str) -> float | None:
    """When the ULID ``text`` was made (seconds since the epoch, from its first 48 bits);
    ``None`` for a string that is not a ULID."""
    if not is_ulid(text):
        return None
    milliseconds = 0
    for character in text[:10]:  # 10 Crockford digits: 50 bits, the top two zero
        milliseconds = milliseconds * 32 + _CROCKFORD.index(character)
    return milliseconds / 1000


_second_prefix: list[tuple[int, str]] = [(-1, "")]  # (epoch second, "YYYY-MM-DDTHH:MM:SS.")


def utc_timestamp() -> str:
    """Now as an RFC 3339 UTC timestamp with milliseconds (``2025-01-31T12:00:00.000Z``).

    The date-and-time part is formatted once per second: the engine stamps several rows
    per task, and this keeps stamping cheap.
    """
    milliseconds = time.time_ns() // 1_000_000
    second, millisecond = divmod(milliseconds, 1000)
    cached_second, prefix = _second_prefix[0]
    if cached_second != second:
        prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        _second_prefix[0] = (second, prefix)
    return f"{prefix}{millisecond:03d}Z"


def timestamp_from_epoch(seconds: float) -> str:
    """``seconds`` since the epoch as an RFC 3339 UTC timestamp with milliseconds."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
