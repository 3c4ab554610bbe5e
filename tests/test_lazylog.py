"""``uet.lazylog``: loggers that import ``logging`` on their first record."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from uet.lazylog import get_logger


def test_records_name_the_line_that_logged(caplog: pytest.LogCaptureFixture) -> None:
    log = get_logger("uet.test.lazylog")
    with caplog.at_level("DEBUG", logger="uet.test.lazylog"):
        log.debug("plain %d", 1)
        log.warning("warned %s", "here")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("caught")
    records = [record for record in caplog.records if record.name == "uet.test.lazylog"]
    assert [record.getMessage() for record in records] == ["plain 1", "warned here", "caught"]
    assert {record.funcName for record in records} == {"test_records_name_the_line_that_logged"}
    assert {record.pathname for record in records} == {__file__}
    assert records[2].exc_info is not None and records[2].exc_info[0] is ValueError


def test_logging_is_imported_and_configured_on_the_first_record() -> None:
    # A fresh interpreter: nothing imports logging until the first record, which then
    # comes out as configured before (basicConfig's format, on the given stream).
    code = textwrap.dedent(
        """
        import sys
        from uet.lazylog import configure, get_logger
        configure(level="INFO", format="%(levelname)s|%(name)s|%(message)s", stream=sys.stdout)
        log = get_logger("uet.fresh")
        print("loaded before:", "logging" in sys.modules)
        log.debug("hidden")
        log.info("shown %s", 42)
        print("loaded after:", "logging" in sys.modules)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.splitlines() == [
        "loaded before: False",
        "INFO|uet.fresh|shown 42",
        "loaded after: True",
    ]
