"""Load + validate speed of the artifact model, against plain jsonschema without positions.

Prints, for a generated 2,000-line workstream (YAML and JSON) and for a generated
1,000-artifact workspace (with cross-artifact checks), our time and the time of the same
work done the plain way (``yaml``/``json`` load + ``jsonschema`` validation, no positions,
no cross checks), and the ratio: what position tracking and precise diagnostics cost.

Goals (issue "Foundation"): one 2,000-line workstream <= 20 ms; 1,000 artifacts <= 2 s.

    .venv/bin/python benchmarks/validate.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from uet.artifacts import bundled_registry, check_text
from uet.artifacts.formats import FORMAT_CHECKER
from uet.artifacts.workspace import check_workspace

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def workstream(tasks: int, workstream_id: str = "ws-big", phase: str = "PH-1") -> dict[str, object]:
    """A realistic workstream: each task ~10 YAML lines, depending on the previous ones."""
    items = []
    for number in range(tasks):
        task: dict[str, object] = {
            "task_id": f"task-{number:04d}",
            "name": f"Task number {number}",
            "kind": ["lint", "test", "analysis"][number % 3],
            "depends_on": [f"task-{number - step:04d}" for step in (1, 2) if number - step >= 0],
            "tags": ["generated"],
            "args": ["-m", "pytest", f"tests/test_{number}.py"],
            "execution": {"timeout_seconds": 60, "max_attempts": 2},
        }
        items.append(task)
    return {
        "workstream_id": workstream_id,
        "project_id": "PRJ-BENCH",
        "phase_id": phase,
        "name": "Benchmark workstream",
        "objective": "Exercise the validator.",
        "concurrency": {"max_parallel": 4},
        "error_handling": {"strategy": "continue"},
        "tasks": items,
    }


def measure(action: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``action`` in milliseconds (after one warm-up run)."""
    action()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def plain_validator(name: str) -> Any:
    """jsonschema itself, the reference the registry (jsonschema-rs) is measured against."""
    registry = bundled_registry()
    return Draft202012Validator(
        registry.info(name).contents,
        registry=registry.referencing_registry,
        format_checker=FORMAT_CHECKER,
    )


def single_file(repeat: int) -> None:
    """A valid workstream, then the same with one typo (an editor's usual state while
    typing: the document is invalid and the diagnostics must still come fast)."""
    registry = bundled_registry()
    validator = plain_validator("workstream_spec")
    valid = workstream(150)
    typo = json.loads(json.dumps(valid))
    typo["tasks"][75]["kind"] = "lnt"
    for label, value in (("valid", valid), ("one typo", typo)):
        texts = {
            "yaml": yaml.safe_dump(value, sort_keys=False, width=200),
            "json": json.dumps(value, indent=2),
        }
        for language, text in texts.items():
            lines = text.count("\n")
            path = f"workstreams/big.{language}"
            ours = measure(lambda t=text, p=path: check_text(t, p, registry=registry), repeat)
            if language == "yaml":

                def plain(t: str = text) -> object:
                    return list(validator.iter_errors(yaml.load(t, Loader=LOADER)))
            else:

                def plain(t: str = text) -> object:
                    return list(validator.iter_errors(json.loads(t)))

            baseline = measure(plain, repeat)
            print(
                f"one workstream ({label:8}), {lines:,} lines of {language.upper():4}: "
                f"uet {ours:7.2f} ms | plain jsonschema {baseline:7.2f} ms | "
                f"ratio {ours / baseline:4.2f}x | goal <= 20 ms"
            )


def generate_workspace(root: Path, artifacts: int) -> None:
    """``artifacts`` files: 1 router config, 9 phases, the rest workstreams."""
    (root / "workstreams").mkdir(parents=True)
    (root / "phases").mkdir()
    router = {
        "version": "1.0.0",
        "apps": {"python": {"kind": "tool", "command": ["python3"], "capabilities": {}}},
        "routing": {"rules": [{"id": "all", "match": {}, "select_from": ["python"]}]},
    }
    (root / "router_config.json").write_text(json.dumps(router, indent=2), "utf-8")
    phases = 9
    for number in range(phases):
        phase = {
            "phase_id": f"PH-{number}",
            "name": f"Phase {number}",
            "category": "core_dev",
            "resource_scope": {"type": "files", "read": ["**"]},
            "constraints": {},
            "acceptance": {"mode": "all", "checks": []},
        }
        (root / "phases" / f"PH-{number}.yaml").write_text(yaml.safe_dump(phase), "utf-8")
    for number in range(artifacts - phases - 1):
        value = workstream(8, f"ws-{number:04d}", f"PH-{number % phases}")
        name = f"ws-{number:04d}.{'yaml' if number % 2 else 'json'}"
        text = yaml.safe_dump(value, sort_keys=False) if number % 2 else json.dumps(value, indent=2)
        (root / "workstreams" / name).write_text(text, "utf-8")


def workspace(artifacts: int, repeat: int) -> None:
    registry = bundled_registry()
    with tempfile.TemporaryDirectory(prefix="uet-bench-") as folder:
        root = Path(folder)
        generate_workspace(root, artifacts)
        files = sorted(path for path in root.rglob("*") if path.is_file())
        total_lines = sum(path.read_text("utf-8").count("\n") for path in files)

        def ours() -> object:
            return check_workspace([root], registry=registry)

        validators = {
            name: plain_validator(name)
            for name in ("router_config", "phase_spec", "workstream_spec")
        }

        def plain() -> object:
            for path in files:
                text = path.read_text("utf-8")
                if path.name == "router_config.json":
                    name, value = "router_config", json.loads(text)
                elif path.parent.name == "phases":
                    name, value = "phase_spec", yaml.load(text, Loader=LOADER)
                else:
                    name = "workstream_spec"
                    value = (
                        json.loads(text)
                        if path.suffix == ".json"
                        else yaml.load(text, Loader=LOADER)
                    )
                list(validators[name].iter_errors(value))
            return None

        result = check_workspace([root], registry=registry)
        problems = sum(len(result.index.diagnostics(path)) for path in result.index.paths())
        ours_ms = measure(ours, max(1, repeat // 5))
        plain_ms = measure(plain, max(1, repeat // 5))
        print(
            f"workspace of {len(files):,} artifacts ({total_lines:,} lines, {problems} problems): "
            f"uet {ours_ms / 1000:5.2f} s | plain jsonschema {plain_ms / 1000:5.2f} s | "
            f"ratio {ours_ms / plain_ms:4.2f}x | goal <= 2 s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--artifacts", type=int, default=1000)
    args = parser.parse_args()
    single_file(args.repeat)
    workspace(args.artifacts, args.repeat)


if __name__ == "__main__":
    main()
