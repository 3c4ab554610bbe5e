"""docs/diagnostics.md documents exactly the codes the code can produce."""

from __future__ import annotations

import re
from pathlib import Path

from uet.artifacts import CODES

DOC = Path(__file__).resolve().parents[2] / "docs" / "diagnostics.md"


def test_every_code_is_documented_once_and_nothing_else() -> None:
    documented = re.findall(r"^\| (UET\d{3}) \|", DOC.read_text("utf-8"), flags=re.M)
    assert sorted(documented) == sorted(CODES)
    assert len(documented) == len(set(documented))
