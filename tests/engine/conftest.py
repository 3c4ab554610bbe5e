"""Fixtures of the engine tests: a run store in tmp_path."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from uet.engine.store.database import connect


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / ".uet" / "runs.db"


@pytest.fixture
def connection(db_path: Path) -> Iterator[sqlite3.Connection]:
    conn = connect(db_path)
    try:
        yield conn
    finally:
        conn.close()
