"""The building blocks of compiled checks (:mod:`uet.artifacts.fastcheck`): JSON equality
and uniqueness as JSON Schema defines them, type tests, and the closures for keywords
that need no schema lookup.

These closures run once per value of every checked document (an editor re-checks on every
keystroke; ``uet run`` checks a workstream of thousands of tasks), so the common shapes
are specialised: a string with a ``pattern`` is one closure, not three; an object walks
whichever is smaller, its keys or the declared properties.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "Check",
    "always",
    "bound",
    "enum_check",
    "equal",
    "every",
    "is_number",
    "never",
    "properties_check",
    "size_bound",
    "string_check",
    "type_check",
    "unique",
]

Check = Callable[[Any], bool]


def always(_: Any) -> bool:
    return True


def never(_: Any) -> bool:
    return False


def every(checks: list[Check]) -> Check:
    """All of ``checks``, in order (specialised: these closures run once per value)."""
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda value: first(value) and second(value)
    if len(checks) == 3:
        first, second, third = checks
        return lambda value: first(value) and second(value) and third(value)

    def all_of(value: Any) -> bool:
        for check in checks:  # noqa: SIM110 - a loop is ~2x all() over a generator here
            if not check(value):
                return False
        return True

    return all_of


def is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value.is_integer()


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_TYPE_TESTS: dict[str, Check] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "integer": is_integer,
    "number": is_number,
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
}
# The types one isinstance() tells apart (integer and number must exclude booleans).
_PLAIN_TYPES: dict[str, type[Any]] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def type_check(names: list[str]) -> Check:
    """``type``: one name or a list of names."""
    if len(names) == 1:
        return _TYPE_TESTS[names[0]]
    if all(name in _PLAIN_TYPES for name in names):
        kinds = tuple(_PLAIN_TYPES[name] for name in names)
        return lambda value: isinstance(value, kinds)
    tests = [_TYPE_TESTS[name] for name in names]
    return lambda value: any(test(value) for test in tests)


# Keywords a fused string check covers (besides annotations).
_STRING_KEYWORDS = frozenset({"type", "pattern", "minLength", "maxLength"})


def string_check(schema: Mapping[str, Any], keywords: list[str]) -> Check | None:
    """A ``type: string`` schema whose other ``keywords`` are only ``pattern``,
    ``minLength`` and ``maxLength`` (ids, names, timestamps...) as one closure; ``None``
    for any other schema."""
    if schema.get("type") != "string" or not _STRING_KEYWORDS.issuperset(keywords):
        return None
    search = re.compile(str(schema["pattern"])).search if "pattern" in schema else None
    shortest = int(schema.get("minLength", 0))
    longest = int(schema["maxLength"]) if "maxLength" in schema else None
    if longest is None and not shortest:
        if search is None:
            return _TYPE_TESTS["string"]
        return lambda value: isinstance(value, str) and search(value) is not None

    def string(value: Any) -> bool:
        if not isinstance(value, str) or len(value) < shortest:
            return False
        if longest is not None and len(value) > longest:
            return False
        return search is None or search(value) is not None

    return string


def enum_check(options: list[Any]) -> Check:
    """``enum``; a list of strings (the usual case) is one set lookup."""
    if options and all(type(option) is str for option in options):
        texts = frozenset(options)  # what equal() says for strings
        return lambda value: type(value) is str and value in texts
    return lambda value: any(equal(value, option) for option in options)


def equal(left: Any, right: Any) -> bool:
    """JSON equality as jsonschema defines it: booleans are not numbers."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(equal, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(equal(left[key], right[key]) for key in left)
    if is_number(left) and is_number(right):
        return bool(left == right)
    return type(left) is type(right) and bool(left == right)


_ONLY_STRINGS = {str}


def unique(items: list[Any]) -> bool:
    """``uniqueItems``: no two items are JSON-equal."""
    if len(items) < 2:
        return True
    if set(map(type, items)) == _ONLY_STRINGS:  # the usual case (ids): exact with a set
        return len(set(items)) == len(items)
    for position, item in enumerate(items):
        for other in items[position + 1 :]:
            if equal(item, other):
                return False
    return True


def properties_check(compiled: dict[str, Check]) -> Check:
    """``properties``: each declared property present in the value passes its check.
    Objects usually hold a few of many declared properties, so the smaller side is walked."""
    compiled = {name: check for name, check in compiled.items() if check is not always}
    if not compiled:
        return always
    items = list(compiled.items())
    declared_count = len(items)
    get = compiled.get

    def properties(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        if len(value) < declared_count:
            for name, item in value.items():
                check = get(name)
                if check is not None and not check(item):
                    return False
            return True
        for name, check in items:  # noqa: SIM110 - a loop is ~2x all() over a generator
            if name in value and not check(value[name]):
                return False
        return True

    return properties


def size_bound(keyword: str, limit: int) -> Check:
    """``minProperties``, ``maxProperties``, ``minItems``, ``maxItems``."""
    kind: tuple[type[Any], ...] = (dict,) if keyword.endswith("Properties") else (list,)

    def size(value: Any) -> int | None:
        return len(value) if isinstance(value, kind) else None

    if keyword.startswith("min"):
        return lambda value: (found := size(value)) is None or found >= limit
    return lambda value: (found := size(value)) is None or found <= limit


def bound(keyword: str, limit: Any) -> Check:
    """``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``."""
    if keyword == "minimum":
        return lambda value: not is_number(value) or value >= limit
    if keyword == "maximum":
        return lambda value: not is_number(value) or value <= limit
    if keyword == "exclusiveMinimum":
        return lambda value: not is_number(value) or value > limit
    return lambda value: not is_number(value) or value < limit
