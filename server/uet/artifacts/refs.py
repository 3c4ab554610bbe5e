"""Offline ``$ref`` lookup for the compiled checks, without ``referencing``.

The compiled validity checks (:mod:`uet.artifacts.fastcheck`) only need to follow a
``$ref`` to the subschema it names. ``referencing`` (with ``jsonschema`` and ``attrs``)
costs ~45 ms to import, which the engine would pay on every ``uet run`` of a valid JSON
workstream, so the registry answers those lookups itself: a reference is joined with the
base URI, the schema registered under the resulting URI is taken, and its JSON pointer
fragment is followed, as ``referencing`` does.

Anything beyond that — a plain-name fragment (``$anchor``), a pointer crossing a nested
``$id``, a URI the registry does not hold — raises :class:`UnresolvableReference`; the
registry then has no compiled check for that schema and jsonschema (with ``referencing``)
validates it alone, so an unusual schema can cost speed but never a missed error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import unquote, urldefrag, urljoin

__all__ = ["OfflineResolver", "Resolved", "UnresolvableReference"]


class UnresolvableReference(LookupError):
    """A ``$ref`` this lookup cannot follow (jsonschema has to validate the schema)."""


class Resolved(NamedTuple):
    """What a reference points to, and the resolver for the references inside it."""

    contents: Any
    resolver: OfflineResolver


class OfflineResolver:
    """Resolves references against ``base_uri``; ``schema_for(uri)`` gives the contents of
    the schema registered under ``uri`` (``None``: none is)."""

    __slots__ = ("_schema_for", "base_uri")

    def __init__(self, schema_for: Callable[[str], Any], base_uri: str) -> None:
        self._schema_for = schema_for
        self.base_uri = base_uri

    def lookup(self, reference: str) -> Resolved:
        """The subschema ``reference`` names; raises :class:`UnresolvableReference`."""
        if reference.startswith("#"):
            uri, fragment = self.base_uri, reference[1:]
        else:
            uri, fragment = _absolute(self.base_uri, reference)
        contents = self._schema_for(uri)
        if contents is None:
            raise UnresolvableReference(f"{reference!r}: no schema {uri!r} in the registry")
        resolver = self if uri == self.base_uri else OfflineResolver(self._schema_for, uri)
        if not fragment:
            return Resolved(contents, resolver)
        if not fragment.startswith("/"):
            raise UnresolvableReference(f"{reference!r}: plain-name fragments are not followed")
        for segment in unquote(fragment[1:]).split("/"):
            contents = _step(contents, segment, reference)
            if isinstance(contents, Mapping) and "$id" in contents:
                # The base URI changes inside an embedded resource: leave it to referencing.
                raise UnresolvableReference(f"{reference!r}: crosses an embedded $id")
        return Resolved(contents, resolver)


@lru_cache(maxsize=1024)
def _absolute(base_uri: str, reference: str) -> tuple[str, str]:
    """``reference`` joined with ``base_uri``: (URI, fragment). Cached: a schema set names
    the same few shared definitions hundreds of times, and ``urljoin`` is slow."""
    uri, fragment = urldefrag(urljoin(base_uri, reference))
    return uri, fragment


def _step(contents: Any, segment: str, reference: str) -> Any:
    """One JSON pointer step (RFC 6901)."""
    try:
        if isinstance(contents, list):
            return contents[int(segment)]
        if isinstance(contents, Mapping):
            return contents[segment.replace("~1", "/").replace("~0", "~")]
    except (LookupError, ValueError):
        pass
    raise UnresolvableReference(f"{reference!r}: the pointer leads nowhere")
