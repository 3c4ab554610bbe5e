"""Identifiers and timestamps of run-store rows.

Ids are real ULIDs (the ULID spec, as python-ulid reads and writes them): 48 bits of
milliseconds then 80 random bits, written in Crockford base32. The generator is monotonic
within one process (an id made in the same millisecond as the previous one is that one plus
one), so ids sort in creation order, which the run store relies on for events. The random
bits come from :mod:`random` (reseeded in a forked child): ids must not collide, not be
unguessable, and the engine makes several per task.

Timestamps are RFC 3339 UTC strings with milliseconds, which sort as text.
"""

from __future__ import annotations

import random
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

_lock = threading.Lock()
_last_value = 0  # the last ULID made in this process, as an integer


def new_ulid() -> str:
    """A new ULID, strictly greater than every ULID made before in this process."""
    global _last_value  # noqa: PLW0603 - the generator's one piece of state
    milliseconds = time.time_ns() // 1_000_000
    value = (milliseconds << _RANDOM_BITS) | random.getrandbits(_RANDOM_BITS)
    with _lock:
        value = max(value, _last_value + 1)
        _last_value = value
    # 26 digits of 5 bits: 130 bits, the top two zero.
    return "".join([_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5)])


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


def utc_timestamp() -> str:
    """Now as an RFC 3339 UTC timestamp with milliseconds (``2025-01-31T12:00:00.000Z``)."""
    return _rfc3339(datetime.now(UTC))


def timestamp_from_epoch(seconds: float) -> str:
    """``seconds`` since the epoch as an RFC 3339 UTC timestamp with milliseconds."""
    return _rfc3339(datetime.fromtimestamp(seconds, UTC))


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
