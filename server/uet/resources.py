"""Locates the data shipped with the package: the schema registry and the profiles.

In a wheel, top-level ``schemas/`` and ``profiles/`` are installed as ``uet/_data/...`` and
read through ``importlib.resources``. In a source checkout (editable install, tests) the same
folders are read from the repository root, so there is exactly one copy of each file.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

__all__ = ["DataMissingError", "data_dir", "profiles_dir", "schemas_dir"]


class DataMissingError(RuntimeError):
    """The installation lacks its bundled data (a broken wheel or checkout)."""


def data_dir(name: str) -> Traversable:
    """Return the bundled folder ``name`` (``schemas`` or ``profiles``)."""
    packaged = resources.files("uet") / "_data" / name
    if packaged.is_dir():
        return packaged
    source = Path(__file__).resolve().parents[2] / name
    if source.is_dir():
        return source
    raise DataMissingError(f"bundled data folder {name!r} not found; reinstall uet-lsp")


def schemas_dir() -> Traversable:
    """The folder holding ``*.schema.json``."""
    return data_dir("schemas")


def profiles_dir() -> Traversable:
    """The folder holding one sub-folder per built-in profile."""
    return data_dir("profiles")
