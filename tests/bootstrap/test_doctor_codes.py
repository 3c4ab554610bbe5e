"""The doctor's codes are the ones the artifact model documents."""

from __future__ import annotations

from uet.artifacts import CODES
from uet.bootstrap.checks import DOCTOR_CODES


def test_doctor_codes_are_registered() -> None:
    assert set(DOCTOR_CODES) <= set(CODES)
    assert {code for code in CODES if code.startswith("UET5")} == set(DOCTOR_CODES)
