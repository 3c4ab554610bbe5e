"""The repository map (``uet.context.RepoMap``) against aider's RepoMap on the same repository.

For the repository REPO (copied to a temporary folder first, so nothing is written into it),
prints for uet:

- ``cold``: a fresh process, no cache: list, parse (on all cores), build the graph, render;
- ``warm``: a fresh process, the cache from the cold build present and nothing changed;
- ``update``: in the warm process, one line appended to one file, then ``update`` + render;
- peak RSS of the process doing the cold build, and of its largest parse worker.

Given ``--compare-aider PYTHON`` (an interpreter with ``aider-chat`` installed), the same for
aider's ``RepoMap.get_repo_map`` on its own copy of REPO (its tag cache,
``.aider.tags.cache.v*``, removed for a cold run), then the ratios uet/aider against the goals
of issue 19 with PASS or MISSED. Times are taken inside the measured process, imports done;
each is the median of ``--repeat`` runs (cold and warm: one process each per run).

    .venv/bin/python benchmarks/repo_map.py REPO [--compare-aider PYTHON] [--tokens N]
        [--repeat K] [--touch FILE] [--profile cold|warm|update]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

SERVER = Path(__file__).resolve().parent.parent / "server"

# One phase of uet in a fresh interpreter; prints one JSON line of figures.
UET_DRIVER = r"""
import cProfile, io, json, pstats, resource, sys, time
from pathlib import Path
from uet.context import RepoMap
import uet.context.rank, uet.context.render, uet.context.tags  # imports outside the timings

root, cache, tokens, touch, updates, profile = (
    Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]),
    sys.argv[6],
)
profiler = cProfile.Profile() if profile in ("cold", "warm", "update") else None
out = {}
if profiler is not None and profile in ("cold", "warm"):
    profiler.enable()
start = time.perf_counter()
repo_map = RepoMap(root, cache)
stats = repo_map.refresh()
built = time.perf_counter()
text = repo_map.render(tokens=tokens)
end = time.perf_counter()
if profiler is not None and profile in ("cold", "warm"):
    profiler.disable()
out.update(build=end - start, refresh=built - start, render=end - built,
           files=stats.files, parsed=stats.parsed, map_chars=len(text))
times = []
for number in range(updates):
    with open(root / touch, "a", encoding="utf-8") as stream:
        stream.write("\n")
    if profiler is not None and profile == "update":
        profiler.enable()
    start = time.perf_counter()
    stats = repo_map.update([touch])
    repo_map.render(tokens=tokens)
    times.append(time.perf_counter() - start)
    if profiler is not None and profile == "update":
        profiler.disable()
    assert stats.parsed == 1, stats
out["updates"] = times
out["rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out["workers_rss_kib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
if profiler is not None:
    report = io.StringIO()
    pstats.Stats(profiler, stream=report).sort_stats("cumulative").print_stats(25)
    report.write("\n")
    pstats.Stats(profiler, stream=report).sort_stats("tottime").print_stats(15)
    out["profile"] = report.getvalue()
print(json.dumps(out))
"""

# The same phases with aider's RepoMap, run by the interpreter given with --compare-aider.
# Its tokens are counted by the model's tokenizer (litellm ships cl100k_base, no download);
# refresh="always": recompute on every call (its "files" and "auto" modes may return the last
# map although a file changed), as the update must.
AIDER_DRIVER = r"""
import json, os, resource, sys, time
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
from pathlib import Path
from aider.io import InputOutput
from aider.models import Model
from aider.repomap import RepoMap

root, tokens, touch, updates = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
files = [str(Path(sys.argv[5], line.strip())) for line in open(sys.argv[6], encoding="utf-8")]
model = Model("gpt-4o-mini")
model.token_count("warm up the tokenizer")
io = InputOutput(yes=True, pretty=False, fancy_input=False)
start = time.perf_counter()
repo_map = RepoMap(map_tokens=tokens, root=str(root), main_model=model, io=io, refresh="always")
text = repo_map.get_repo_map(chat_files=[], other_files=files) or ""
out = {"build": time.perf_counter() - start, "files": len(files), "map_chars": len(text)}
times = []
for number in range(updates):
    with open(root / touch, "a", encoding="utf-8") as stream:
        stream.write("\n")
    start = time.perf_counter()
    repo_map.get_repo_map(chat_files=[], other_files=files)
    times.append(time.perf_counter() - start)
out["updates"] = times
out["rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out["workers_rss_kib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps(out))
"""

GOALS = {  # issue 19: uet/aider ratios, or an absolute bound in seconds
    "cold": 0.25,
    "warm": 0.1,
    "rss": 0.33,
}
UPDATE_GOAL_S = 0.1
SMALL_COLD_GOAL_S = 1.0
# "On a 100-file repository, cold <= 1 s": checked up to this many mapped files (stricter above).
SMALL_REPO_FILES = 200


def _run(command: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        sys.exit(f"{command[0]} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def copy_repo(repo: Path, into: Path) -> Path:
    """A copy of ``repo`` (its git folder too, so ``.gitignore`` listing is the same)."""
    target = into / repo.name
    shutil.copytree(repo, target, symlinks=True, ignore=shutil.ignore_patterns(".uet"))
    return target


def source_paths(root: Path) -> list[str]:
    """The files uet maps, workspace-relative: aider gets the same list."""
    sys.path.insert(0, str(SERVER))
    from uet.context.sources import source_files

    return sorted(item.path for item in source_files(root).files)


def pick_touch(paths: list[str], root: Path) -> str:
    """A file of median size among the mapped ones: a typical edit, not the largest module."""
    sized = sorted(paths, key=lambda path: ((root / path).stat().st_size, path))
    return sized[len(sized) // 2]


def measure_uet(root: Path, args: argparse.Namespace, touch: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(SERVER)}
    cache_dir = Path(tempfile.mkdtemp(prefix="uet-map-cache-"))
    cache = cache_dir / "repomap.db"
    colds, warms, updates, rss, workers = [], [], [], [], []

    def driver(updates: int, profile: str = "-") -> dict[str, Any]:
        return _run(
            [
                sys.executable,
                "-c",
                UET_DRIVER,
                str(root),
                str(cache),
                str(args.tokens),
                touch,
                str(updates),
                profile,
            ],
            env,
        )

    for _ in range(args.repeat):
        for leftover in cache_dir.iterdir():
            leftover.unlink()
        cold = driver(0)
        warm = driver(args.repeat)
        colds.append(cold["build"])
        warms.append(warm["build"])
        updates.extend(warm["updates"])
        rss.append(cold["rss_kib"])
        workers.append(cold["workers_rss_kib"])
    if args.profile != "-":  # an extra run: the profiler's overhead stays out of the figures
        if args.profile == "cold":
            for leftover in cache_dir.iterdir():
                leftover.unlink()
        print(
            driver(3 if args.profile == "update" else 0, args.profile)["profile"], file=sys.stderr
        )
    shutil.rmtree(cache_dir, ignore_errors=True)
    return {
        "cold": statistics.median(colds),
        "warm": statistics.median(warms),
        "update": statistics.median(updates),
        "rss": statistics.median(rss) * 1024,
        "workers_rss": statistics.median(workers) * 1024,
        "files": cold["files"],
        "map_chars": cold["map_chars"],
        "detail": f"refresh {cold['refresh']:.2f} s + render {cold['render']:.2f} s (cold)",
    }


def measure_aider(
    python: str, root: Path, paths: list[str], args: argparse.Namespace, touch: str
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="aider-map-"))
    driver = work / "driver.py"
    driver.write_text(AIDER_DRIVER, encoding="utf-8")
    listing = work / "files.txt"
    listing.write_text("".join(f"{path}\n" for path in paths), encoding="utf-8")
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    env.pop("PYTHONPATH", None)
    colds, warms, updates, rss, workers = [], [], [], [], []
    for _ in range(args.repeat):
        for cache in root.glob(".aider.tags.cache.v*"):
            shutil.rmtree(cache)
        command = [python, str(driver), str(root), str(args.tokens), touch]
        cold = _run([*command, "0", str(root), str(listing)], env)
        warm = _run([*command, str(args.repeat), str(root), str(listing)], env)
        colds.append(cold["build"])
        warms.append(warm["build"])
        updates.extend(warm["updates"])
        rss.append(cold["rss_kib"])
        workers.append(cold["workers_rss_kib"])
    shutil.rmtree(work, ignore_errors=True)
    return {
        "cold": statistics.median(colds),
        "warm": statistics.median(warms),
        "update": statistics.median(updates),
        "rss": statistics.median(rss) * 1024,
        "workers_rss": statistics.median(workers) * 1024,
        "files": cold["files"],
        "map_chars": cold["map_chars"],
    }


def _time(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISSED"


def report(uet: dict[str, Any], aider: dict[str, Any] | None) -> None:
    mib = 1024 * 1024
    print(f"files mapped: {uet['files']}; {uet['detail']}; map {uet['map_chars']} chars")
    if aider is not None:
        print(f"aider: {aider['files']} files given, map {aider['map_chars']} chars")
    print(f"{'':10}{'uet':>10}{'aider':>10}{'ratio':>8}  goal")
    for key in ("cold", "warm", "update"):
        line = f"{key:10}{_time(uet[key]):>10}"
        if aider is not None:
            line += f"{_time(aider[key]):>10}{uet[key] / aider[key]:>8.3f}"
        else:
            line += f"{'':18}"
        if key == "update":
            line += f"  <= {UPDATE_GOAL_S * 1000:g} ms: {_verdict(uet[key] <= UPDATE_GOAL_S)}"
        elif aider is not None:
            goal = GOALS[key]
            line += f"  <= {goal}x: {_verdict(uet[key] <= goal * aider[key])}"
        print(line)
    line = f"{'peak RSS':10}{uet['rss'] / mib:>6.0f} MiB"
    if aider is not None:
        ratio = uet["rss"] / aider["rss"]
        line += f"{aider['rss'] / mib:>6.0f} MiB{ratio:>8.3f}"
        line += f"  <= {GOALS['rss']}x: {_verdict(ratio <= GOALS['rss'])}"
    print(line)
    print(f"{'  worker':10}{uet['workers_rss'] / mib:>6.0f} MiB  (uet's largest parse worker)")
    if uet["files"] <= SMALL_REPO_FILES:
        print(
            f"small repository: cold {uet['cold']:.3f} s <= {SMALL_COLD_GOAL_S:g} s: "
            f"{_verdict(uet['cold'] <= SMALL_COLD_GOAL_S)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--compare-aider", metavar="PYTHON")
    parser.add_argument("--tokens", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--touch", help="the file to edit for the update (default: median size)")
    parser.add_argument(
        "--profile",
        choices=("cold", "warm", "update", "-"),
        default="-",
        help="print uet's cProfile of a cold build, a warm start or 3 updates to stderr "
        "(from an extra run, outside the figures)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="repo-map-bench-") as temp:
        uet_root = copy_repo(args.repo.resolve(), Path(temp) / "uet")
        paths = source_paths(uet_root)
        if not paths:
            sys.exit(f"{args.repo}: no source file to map")
        touch = args.touch or pick_touch(paths, uet_root)
        print(f"{args.repo}: {len(paths)} source files; update edits {touch}")
        uet = measure_uet(uet_root, args, touch)
        aider = None
        if args.compare_aider:
            aider_root = copy_repo(args.repo.resolve(), Path(temp) / "aider")
            aider = measure_aider(args.compare_aider, aider_root, paths, args, touch)
        report(uet, aider)


if __name__ == "__main__":
    main()
