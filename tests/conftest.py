"""Shared test configuration: paths to the repository and to ../shared (may be absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
UET_REFERENCE = SHARED / "uet-reference"


@pytest.fixture
def uet_reference() -> Path:
    """The original UET reference data; tests using it skip visibly when it is absent."""
    if not UET_REFERENCE.is_dir():
        pytest.skip("../shared/uet-reference is not present beside the repository")
    return UET_REFERENCE
