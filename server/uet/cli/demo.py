"""``make demo``: the main job on the sample workspace, printed for a person to read.

Validates ``examples/sample-workspace`` (a profile, a router config, a phase and two
workstreams with dependencies) and shows a deliberately broken copy, so the output shows
both a clean result and what diagnostics look like.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from uet.cli.main import main as uet_main

__all__ = ["main"]

SAMPLE = Path(__file__).resolve().parents[3] / "examples" / "sample-workspace"

_BROKEN_WORKSTREAM = """workstream_id: ws-broken
project_id: PRJ-SAMPLE-CALC
phase_id: PH-BUILD
name: A workstream with four mistakes
objective: Show what uet validate reports.
error_handling:
  strategy: fail-fast
tasks:
  - task_id: compile
    name: Byte-compile every module
    kind: lint
    timout_seconds: 30
  - task_id: unit-tests
    kind: test
    depends_on: [compile, complie]
"""


def _banner(text: str) -> None:
    print(f"\n== {text} ==", flush=True)


def main() -> int:
    """Run the demo; the exit status is 0 when the sample workspace validated cleanly."""
    if not SAMPLE.is_dir():
        print(f"sample workspace not found at {SAMPLE}", file=sys.stderr)
        return 2
    _banner(f"uet validate {SAMPLE.relative_to(SAMPLE.parents[1])}")
    status = uet_main(["validate", str(SAMPLE)])
    with tempfile.TemporaryDirectory(prefix="uet-demo-") as folder:
        copy = Path(folder) / "sample-workspace"
        shutil.copytree(SAMPLE, copy)
        (copy / "workstreams" / "ws-broken.yaml").write_text(_BROKEN_WORKSTREAM, "utf-8")
        _banner("a copy with workstreams/ws-broken.yaml added: uet validate .")
        previous = Path.cwd()
        os.chdir(copy)
        try:
            uet_main(["validate", "."])
        finally:
            os.chdir(previous)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
