"""Format checks used by schema validation, implemented without optional dependencies.

jsonschema checks ``date-time`` only when an extra package is installed; we check the
formats our schemas use ourselves so validation does not depend on what else is present.
"""

from __future__ import annotations

import re
from datetime import datetime

from jsonschema import FormatChecker

__all__ = ["FORMAT_CHECKER"]

FORMAT_CHECKER = FormatChecker(formats=())

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    return True


@FORMAT_CHECKER.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE.match(value):
        return False
    datetime.strptime(value, "%Y-%m-%d")
    return True


@FORMAT_CHECKER.checks("regex", raises=re.error)
def _is_regex(value: object) -> bool:
    if isinstance(value, str):
        re.compile(value)
    return True
