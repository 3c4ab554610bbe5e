"""``make demo``: the main job end to end, printed for a person to read.

1. Validate the sample workspace ``examples/sample-workspace`` (a profile, a router config,
   a phase and two workstreams with dependencies), then a copy of it with a broken
   workstream (``broken-workspace/``) so the output shows what diagnostics look like.
2. Copy the sample project ``examples/sample-project`` (a small Python library with no UET
   artifacts) to ``tinycalc/``, scan it, rank the profiles (with the reasons), show the
   bootstrap as a diff, bootstrap it, check its health and validate the result.
3. Run two of the generated workstreams with the engine (one run store,
   ``tinycalc/.uet/runs.db``), then list both runs.

Everything happens in one folder, ``build/demo`` of the source checkout unless a folder is
named (``python -m uet.cli.demo DIR``), which is left in place for the reader to look
around in; the README's command-line examples use it. A demo folder from an earlier demo
(it holds :data:`MARKER`) is replaced; any other non-empty folder is refused.

The tools of this interpreter's environment (pytest, ruff, mypy) are put first on PATH so
the bootstrap detects them, as it would in a user's activated virtualenv.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from uet.artifacts.git import run_git
from uet.cli.main import main as uet_main

__all__ = ["main"]

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SAMPLE_WORKSPACE = EXAMPLES / "sample-workspace"
SAMPLE_PROJECT = EXAMPLES / "sample-project"
DEFAULT_FOLDER = EXAMPLES.parent / "build" / "demo"
# The workstreams of the bootstrapped project that step 3 runs, in order.
DEMO_WORKSTREAMS = ("workstreams/ph-py-test.json", "workstreams/ph-py-lint.json")
# The file that marks a folder as the demo's own: only such a folder is replaced.
MARKER = ".uet-demo"

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
    _make_repository(copy)
    print("\n(a copy of it with workstreams/ws-broken.yaml added)")
    os.chdir(copy)
    _uet(["validate", "."])
    return status


def _bootstrap(project: Path) -> int:
    _banner("2. Bootstrap a project that has no UET artifacts yet")
    shutil.copytree(SAMPLE_PROJECT, project)
    _make_repository(project)
    os.chdir(project)
    for argv in (["scan", "."], ["profiles", "."]):
        if _uet(argv) not in (0, 1):
            return 2
    _show_head(["bootstrap", ".", "--dry-run"], lines=30)
    if _uet(["bootstrap", "."]) != 0:
        return 1
    _uet(["doctor", "."])
    return _uet(["validate", "."])


def _make_repository(folder: Path) -> None:
    """``git init`` and ``git add`` in ``folder``: a real project is a repository of its
    own, whose files uet lists through git (skipped without git). Its own repository also
    keeps the checkout's ``.gitignore``, which ignores ``build/``, from hiding them."""
    for argv in (["init", "-q"], ["add", "-A"]):
        run_git(argv, folder)


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


def _run(project: Path) -> int:
    _banner("3. Run workstreams with the engine (run store: tinycalc/.uet/runs.db)")
    os.chdir(project)
    status = max(_uet(["run", workstream]) for workstream in DEMO_WORKSTREAMS)
    _uet(["runs"])
    return status


def _prepare(folder: Path) -> str | None:
    """Make ``folder`` an empty demo folder; the reason it cannot be one, or ``None``."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        return f"{folder} is not a folder"
    if folder.is_dir() and any(folder.iterdir()):
        if not (folder / MARKER).is_file():
            return f"{folder} is not empty and was not made by the demo; name another folder"
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("made by make demo (python -m uet.cli.demo)\n", "utf-8")
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo in ``argv[0]`` (default :data:`DEFAULT_FOLDER`); exit status 0 when
    every step did what it should, 2 when it could not start."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    folder = Path(arguments[0] if arguments else DEFAULT_FOLDER).absolute()
    for required in (SAMPLE_WORKSPACE, SAMPLE_PROJECT):
        if not required.is_dir():
            print(f"sample folder not found: {required}", file=sys.stderr)
            return 2
    refusal = _prepare(folder)
    if refusal is not None:
        print(f"demo: {refusal}", file=sys.stderr)
        return 2
    tools = str(Path(sys.executable).parent)
    os.environ["PATH"] = tools + os.pathsep + os.environ.get("PATH", "")
    previous = Path.cwd()
    try:
        results = [_validate_samples(folder)]
        project = folder / "tinycalc"
        results.append(_bootstrap(project))
        if results[-1] == 0:
            results.append(_run(project))
    finally:
        os.chdir(previous)
    failed = [number for number, status in enumerate(results, start=1) if status != 0]
    _banner("demo finished" if not failed else f"demo: step(s) {failed} did not succeed")
    print(f"The demo's workspaces are in {_shown(folder, previous)}:")
    print("  broken-workspace/  the sample workspace with a broken workstream added")
    print("  tinycalc/          the bootstrapped project and its two runs (uet runs there)")
    return 1 if failed else 0


def _shown(folder: Path, here: Path) -> str:
    """``folder`` relative to ``here`` when inside it (as the README writes it)."""
    return str(folder.relative_to(here)) if folder.is_relative_to(here) else str(folder)


if __name__ == "__main__":
    raise SystemExit(main())
