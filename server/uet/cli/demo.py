"""``make demo``: the main job end to end, printed for a person to read.

1. Validate the sample workspace ``examples/sample-workspace`` (a profile, a router config,
   a phase and two workstreams with dependencies), then a copy with a broken workstream so
   the output shows what diagnostics look like.
2. Copy the sample project ``examples/sample-project`` (a small Python library with no UET
   artifacts) to a temporary folder, scan it, rank the profiles (with the reasons), show the
   bootstrap as a diff, bootstrap it, check its health and validate the result.
3. Run the generated test workstream with the engine (SQLite run store under ``.uet/``) and
   show its status.

The tools of this interpreter's environment (pytest, ruff, mypy) are put first on PATH so
the bootstrap detects them, as it would in a user's activated virtualenv.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from uet.artifacts.git import run_git
from uet.cli.main import main as uet_main

__all__ = ["main"]

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SAMPLE_WORKSPACE = EXAMPLES / "sample-workspace"
SAMPLE_PROJECT = EXAMPLES / "sample-project"
DEMO_WORKSTREAM = "workstreams/ph-py-test.json"

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


def _uet(argv: Sequence[str]) -> int:
    shown = " ".join(argv)
    print(f"\n$ uet {shown}", flush=True)
    status = uet_main(list(argv))
    sys.stdout.flush()
    return status


def _validate_samples(folder: Path) -> int:
    _banner("1. Validate the sample workspace")
    os.chdir(SAMPLE_WORKSPACE.parent)
    status = _uet(["validate", SAMPLE_WORKSPACE.name])
    copy = folder / "broken-workspace"
    shutil.copytree(SAMPLE_WORKSPACE, copy)
    (copy / "workstreams" / "ws-broken.yaml").write_text(_BROKEN_WORKSTREAM, "utf-8")
    print("\n(a copy of it with workstreams/ws-broken.yaml added)")
    os.chdir(copy)
    _uet(["validate", "."])
    return status


def _bootstrap(project: Path) -> int:
    _banner("2. Bootstrap a project that has no UET artifacts yet")
    shutil.copytree(SAMPLE_PROJECT, project)
    # A real project is a repository: the scan then asks git (skipped without git).
    for argv in (["init", "-q"], ["add", "-A"]):
        run_git(argv, project)
    os.chdir(project)
    for argv in (["scan", "."], ["profiles", "."]):
        if _uet(argv) not in (0, 1):
            return 2
    _show_head(["bootstrap", ".", "--dry-run"], lines=30)
    if _uet(["bootstrap", "."]) != 0:
        return 1
    _uet(["doctor", "."])
    return _uet(["validate", "."])


def _show_head(argv: Sequence[str], lines: int) -> None:
    """Run a command whose output is long (a full diff) and show its first lines."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        status = uet_main(list(argv))
    output = buffer.getvalue().splitlines()
    print(f"\n$ uet {' '.join(argv)}")
    print("\n".join(output[:lines]))
    if len(output) > lines:
        print(f"... ({len(output) - lines} more lines of diff; exit status {status})")


def _run(project: Path, sample_copy: Path) -> int:
    _banner("3. Run workstreams with the engine (run store: .uet/runs.db)")
    os.chdir(project)
    status = _uet(["run", DEMO_WORKSTREAM])
    os.chdir(sample_copy)
    print("\n(the sample workspace's ws-verify: compile -> unit-tests, and repo-state in parallel)")
    status = max(status, _uet(["run", "workstreams/ws-verify.yaml"]))
    _uet(["runs"])
    return status


def main() -> int:
    """Run the demo; exit status 0 when every step did what it should."""
    for required in (SAMPLE_WORKSPACE, SAMPLE_PROJECT):
        if not required.is_dir():
            print(f"sample folder not found: {required}", file=sys.stderr)
            return 2
    tools = str(Path(sys.executable).parent)
    os.environ["PATH"] = tools + os.pathsep + os.environ.get("PATH", "")
    previous = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="uet-demo-") as temporary:
        folder = Path(temporary)
        try:
            results = [_validate_samples(folder)]
            project = folder / "tinycalc"
            results.append(_bootstrap(project))
            if results[-1] == 0:
                results.append(_run(project, folder / "broken-workspace"))
        finally:
            os.chdir(previous)
    failed = [number for number, status in enumerate(results, start=1) if status != 0]
    _banner("demo finished" if not failed else f"demo: step(s) {failed} did not succeed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
