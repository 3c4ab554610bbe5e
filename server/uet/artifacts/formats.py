"""Format checks used by schema validation, implemented without optional dependencies.

jsonschema checks ``date-time`` only when an extra package is installed; we check the
formats our schemas use ourselves so validation does not depend on what else is present.

The checks are plain predicates (:data:`FORMAT_TESTS`), given to jsonschema-rs by the
registry (any other format our schemas name is an annotation only) and to jsonschema as
``FORMAT_CHECKER``, its ``FormatChecker`` with the same predicates, built on first use
(PEP 562), so that a valid document is checked without importing jsonschema.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import FormatChecker

    FORMAT_CHECKER: FormatChecker

__all__ = ["FORMAT_CHECKER", "FORMAT_TESTS"]

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    except ValueError:
        return False
    return True


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE.match(value):
        return False
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def _is_regex(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        re.compile(value)
    except re.error:
        return False
    return True


# Format name → whether a value conforms (values of other types always do, as in jsonschema).
FORMAT_TESTS: dict[str, Callable[[object], bool]] = {
    "date-time": _is_date_time,
    "date": _is_date,
    "regex": _is_regex,
}


_checker_lock = threading.Lock()


def __getattr__(name: str) -> Any:
    if name != "FORMAT_CHECKER":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _checker_lock:
        checker = globals().get("FORMAT_CHECKER")
        if checker is None:
            checker = _format_checker()
            globals()["FORMAT_CHECKER"] = checker
    return checker


def _format_checker() -> FormatChecker:
    """jsonschema's ``FormatChecker`` knowing exactly the formats of :data:`FORMAT_TESTS`."""
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    for name, test in FORMAT_TESTS.items():
        checker.checks(name)(test)
    return checker
