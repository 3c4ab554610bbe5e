"""Locates the data shipped with the package: the schema registry and the profiles.

In a wheel, top-level ``schemas/`` and ``profiles/`` are installed as ``uet/_data/...``;
in a source checkout (editable install, tests) the same folders are read from the
repository root, so there is exactly one copy of each file. Both are plain folders next
to this file; ``importlib.resources`` (which imports zipfile, tempfile and more) is
only asked when the package is not installed as files (a zip).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

__all__ = ["DataMissingError", "data_dir", "profiles_dir", "schemas_dir"]


class DataMissingError(RuntimeError):
    """The installation lacks its bundled data (a broken wheel or checkout)."""


def data_dir(name: str) -> Traversable:
    """Return the bundled folder ``name`` (``schemas`` or ``profiles``)."""
    here = Path(__file__)
    if here.is_file():  # installed as files (a wheel) or a source checkout
        package = here.resolve().parent
        for folder in (package / "_data" / name, package.parents[1] / name):
            if folder.is_dir():
                return folder
        raise DataMissingError(f"bundled data folder {name!r} not found; reinstall uet-lsp")
    from importlib import resources

    packaged = resources.files("uet") / "_data" / name
    if packaged.is_dir():
        return packaged
    raise DataMissingError(f"bundled data folder {name!r} not found; reinstall uet-lsp")


def schemas_dir() -> Traversable:
    """The folder holding ``*.schema.json``."""
    return data_dir("schemas")


def profiles_dir() -> Traversable:
    """The folder holding one sub-folder per built-in profile."""
    return data_dir("profiles")
