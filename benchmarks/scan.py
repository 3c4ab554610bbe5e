"""Workspace scan speed and memory, against ``git ls-files`` on the same tree.

For a generated 2,000-file repository (sympy-like: mostly Python modules of a few hundred
lines, plus docs and data files, committed to git) and for every repository path given on
the command line, prints:

- ``scan/git``: ``scan_workspace`` listing with git (the default);
- ``scan/walk``: the same with the scandir walk + pathspec ``.gitignore`` matching;
- ``analyze``: what ``uet profiles`` does (load profiles, scan with their probes, rank);
- ``list/git``, ``list/walk``: the listing alone (``uet.artifacts.files.list_files``, the
  one gitignore-aware walker), with git and with the walk;
- ``candidates``: what ``uet validate`` and the language server's indexing list
  (``iter_artifact_candidates``: JSON/YAML files only, git listing);
- ``git ls-files``: the bare listing subprocess, the floor any git-based scan pays;
- peak RSS of the process doing the work, and the ratio scan/``git ls-files``.

Each measurement runs in a fresh interpreter (so RSS is per measurement), after one
untimed warm-up run (page cache warm, as in an editor session); the median of ``--repeat``
runs is shown. Goal (issue "profiles and bootstrap"): 2,000 files in <= 1 s on 2 cores.

    .venv/bin/python benchmarks/scan.py [PATH ...] [--repeat N] [--files N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODES = ("scan/git", "scan/walk", "analyze", "list/git", "list/walk", "candidates", "git ls-files")
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


def generate_tree(root: Path, files: int, seed: int = 7) -> None:
    """A committed repository of ``files`` files shaped like a large Python project."""
    rng = random.Random(seed)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "bigproject"\nversion = "1.0.0"\n'
        'dependencies = ["mpmath"]\n[project.optional-dependencies]\ndev = ["pytest"]\n',
        encoding="utf-8",
    )
    (root / ".gitignore").write_text("*.pyc\n__pycache__/\nbuild/\n", encoding="utf-8")
    body = "".join(
        f"def function_{number}(value: int) -> int:\n"
        f'    """Return value plus {number}."""\n'
        f"    return value + {number}\n\n\n"
        for number in range(60)
    )
    made = 2
    package = 0
    while made < files:
        folder = root / "bigproject" / f"module{package:03d}"
        tests = folder / "tests"
        tests.mkdir(parents=True, exist_ok=True)
        (folder / "__init__.py").write_text('"""Package."""\n', encoding="utf-8")
        made += 1
        for number in range(rng.randint(8, 20)):
            if made >= files:
                break
            kind = rng.random()
            if kind < 0.72:
                (folder / f"part{number}.py").write_text(body[: rng.randint(2000, 14000)], "utf-8")
            elif kind < 0.88:
                (tests / f"test_part{number}.py").write_text(
                    "def test_one() -> None:\n    assert True\n" * rng.randint(5, 60), "utf-8"
                )
            elif kind < 0.96:
                doc = root / "doc" / f"module{package:03d}_{number}.rst"
                doc.parent.mkdir(exist_ok=True)
                doc.write_text("Title\n=====\n\nSome prose.\n" * rng.randint(10, 80), "utf-8")
            else:
                data = root / "data" / f"case{package}_{number}.json"
                data.parent.mkdir(exist_ok=True)
                data.write_text(json.dumps({"values": list(range(rng.randint(10, 400)))}), "utf-8")
            made += 1
        package += 1
    env = {**os.environ, **_GIT_ENV}
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "bench"]):
        subprocess.run(["git", *command], cwd=root, env=env, check=True, capture_output=True)


def measure(path: Path, mode: str) -> dict[str, float]:
    """One timed run of ``mode`` on ``path`` in this process (called in a child)."""
    from uet.artifacts.files import ListingOptions, iter_artifact_candidates, list_files
    from uet.bootstrap import AnalysisOptions, ScanOptions, analyze_workspace, scan_workspace

    started = time.perf_counter()
    count = 0
    if mode == "scan/git":
        count = len(scan_workspace(path, ScanOptions(use_git=True)).files)
    elif mode == "scan/walk":
        count = len(scan_workspace(path, ScanOptions(use_git=False)).files)
    elif mode == "analyze":
        count = len(analyze_workspace(path, AnalysisOptions()).discovery.files)
    elif mode in ("list/git", "list/walk"):
        count = len(list_files(path, ListingOptions(use_git=mode == "list/git")).files)
    elif mode == "candidates":
        count = sum(1 for _ in iter_artifact_candidates(path))
    else:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=path,
            capture_output=True,
            check=False,
        )
        count = listed.stdout.count(b"\x00")
    seconds = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "rss_mb": rss_mb, "files": count}


def run_child(path: Path, mode: str) -> dict[str, float]:
    """``measure`` in a fresh interpreter (isolated RSS)."""
    completed = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(completed.stdout)
    return result


def report(label: str, path: Path, repeat: int) -> None:
    """Print one table for ``path``."""
    print(f"\n{label}: {path}")
    rows: dict[str, tuple[float, float, float]] = {}
    for mode in MODES:
        run_child(path, mode)  # warm-up: page cache, .pyc files
        runs = [run_child(path, mode) for _ in range(repeat)]
        seconds = statistics.median(run["seconds"] for run in runs)
        rss = max(run["rss_mb"] for run in runs)
        rows[mode] = (seconds, rss, runs[0]["files"])
    floor = rows["git ls-files"][0]
    print(f"  {'mode':<13} {'files':>7} {'time':>9} {'peak RSS':>10} {'x git ls-files':>15}")
    for mode, (seconds, rss, files) in rows.items():
        ratio = seconds / floor if floor > 0 else float("nan")
        print(
            f"  {mode:<13} {int(files):>7} {seconds * 1000:>7.1f}ms {rss:>7.1f} MB {ratio:>14.1f}x"
        )


def main() -> int:
    """Generate the reference tree, then measure it and every given path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="repositories to measure too")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, path = args.child
        print(json.dumps(measure(Path(path), mode)))
        return 0
    print(f"cpus: {os.cpu_count()}, python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="uet-scan-bench-") as folder:
        root = Path(folder) / "generated"
        root.mkdir()
        generate_tree(root, args.files)
        report(f"generated {args.files}-file repository", root, args.repeat)
    for path in args.paths:
        report("repository", path.resolve(), args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
