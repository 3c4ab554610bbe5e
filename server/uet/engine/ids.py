"""Identifiers and timestamps of run-store rows.

Ids are real ULIDs (python-ulid): 48 bits of milliseconds then 80 random bits, written in
Crockford base32. The generator is monotonic within one process (an id made in the same
millisecond as the previous one is that one plus one), so ids sort in creation order, which
the run store relies on for events. Timestamps are RFC 3339 UTC strings with milliseconds,
which sort as text.
"""

from __future__ import annotations

import os
import re
import threading
import time
from datetime import UTC, datetime

from ulid import ULID

__all__ = ["ULID_PATTERN", "is_ulid", "new_ulid", "timestamp_from_epoch", "utc_timestamp"]

ULID_PATTERN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_RANDOM_BITS = 80
_RANDOM_BYTES = _RANDOM_BITS // 8

_lock = threading.Lock()
_last_value = [0]  # the last ULID made in this process, as an integer


def new_ulid() -> str:
    """A new ULID, strictly greater than every ULID made before in this process."""
    milliseconds = time.time_ns() // 1_000_000
    value = (milliseconds << _RANDOM_BITS) | int.from_bytes(os.urandom(_RANDOM_BYTES), "big")
    with _lock:
        if value <= _last_value[0]:
            value = _last_value[0] + 1
        _last_value[0] = value
    return str(ULID.from_int(value))


def is_ulid(text: str) -> bool:
    """Whether ``text`` is a well-formed ULID."""
    return ULID_PATTERN.match(text) is not None


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
