"""What ``uet run`` loads: a valid JSON workstream runs without jsonschema, ``referencing``,
the positional checker or the monitoring queries, and ``uet.engine`` loads its modules by
name, on first use.

The module lists come from the real command (``python -m uet run``) in a fresh interpreter:
the names in ``sys.modules`` when the process ends.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest
from engine_support import write_workspace

from uet.cli.main import main

# What a run of a valid JSON workstream must not need: the full validator stack (jsonschema-rs
# vouches for the file), the positional checker behind it, and the run-store queries of
# ``uet runs`` / ``uet status``.
NOT_FOR_A_RUN = (
    "jsonschema",
    "referencing",
    "uet.artifacts.checking",
    "uet.artifacts.validation",
    "uet.engine.running.monitor",
)
TASKS = [
    {"task_id": "first", "command": ["true"]},
    {"task_id": "second", "command": ["true"], "depends_on": ["first"]},
]


# ``python -m uet ARGS`` (runpy, as ``-m`` does), writing the names in ``sys.modules`` to a
# file when the process ends, from an atexit hook. (``-X importtime`` would not do: it does
# not list modules imported through ``importlib.import_module``, which is how
# ``uet.engine`` loads them.)
_RUN_AND_LIST_MODULES = """
import atexit, json, pathlib, runpy, sys
listing, sys.argv = pathlib.Path(sys.argv[1]), ["uet", *sys.argv[2:]]
atexit.register(lambda: listing.write_text(json.dumps(sorted(sys.modules))))
runpy.run_module("uet", run_name="__main__", alter_sys=True)
"""


def _uet_run(root: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """``uet run ws.json`` in a fresh interpreter in ``root``: the process and the modules
    it had imported when it ended."""
    listing = root / "modules.json"
    completed = subprocess.run(
        [sys.executable, "-c", _RUN_AND_LIST_MODULES, str(listing), "run", "ws.json"],
        cwd=root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return completed, set(json.loads(listing.read_text()))


def test_a_valid_json_workstream_runs_without_the_validator_stack(tmp_path: Path) -> None:
    write_workspace(tmp_path, TASKS)
    completed, loaded = _uet_run(tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "2 succeeded" in completed.stdout
    assert {"uet.engine.running.start", "jsonschema_rs"} <= loaded  # the listing works
    unwanted = sorted(
        module
        for module in loaded
        if module in NOT_FOR_A_RUN or module.split(".")[0] in NOT_FOR_A_RUN
    )
    assert not unwanted, unwanted


def test_an_invalid_workstream_gets_positional_diagnostics(tmp_path: Path) -> None:
    """The other side of the fast way: a schema error is reported at its line and column,
    by the positional checker, loaded for it."""
    write_workspace(tmp_path, TASKS)
    workstream = json.loads((tmp_path / "ws.json").read_text())
    workstream["tasks"][1]["kind"] = 42
    (tmp_path / "ws.json").write_text(json.dumps(workstream, indent=2))
    completed, loaded = _uet_run(tmp_path)
    assert completed.returncode == 2
    problems = [line for line in completed.stderr.splitlines() if line.startswith("ws.json:")]
    assert problems and all(": error " in line for line in problems), completed.stderr
    assert "nothing was started" in completed.stderr
    assert "uet.artifacts.validation" in loaded
    assert not (tmp_path / ".uet" / "runs.db").exists()


def test_importing_the_engine_loads_its_modules_on_first_use() -> None:
    code = (
        "import inspect, json, sys\n"
        "import uet.engine\n"
        "before = sorted(m for m in sys.modules if m.startswith('uet.engine.'))\n"
        "from uet.engine import find_workspace\n"
        "after = sorted(m for m in sys.modules if m.startswith('uet.engine.'))\n"
        "values = [getattr(uet.engine, name) for name in uet.engine.__all__]\n"
        "modules = {value.__name__: value.__module__ for value in values\n"
        "           if inspect.isclass(value) or inspect.isfunction(value)}\n"
        "print(json.dumps([before, after, modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    before, after, modules = json.loads(result.stdout)
    assert before == []
    assert after == ["uet.engine.errors", "uet.engine.workspace"]
    # Every public name resolves; classes and functions come from the engine's own modules.
    assert all(module.startswith("uet.engine.") for module in modules.values()), modules


def test_every_public_name_of_the_engine_is_listed_once() -> None:
    import uet.engine

    assert len(set(uet.engine.__all__)) == len(uet.engine.__all__)
    for name in uet.engine.__all__:
        assert getattr(uet.engine, name) is not None
    with pytest.raises(AttributeError):
        _ = uet.engine.no_such_name


def test_in_process_callers_keep_their_garbage_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A program calling ``main(argv)`` keeps its collector as it was."""
    write_workspace(tmp_path, TASKS)
    monkeypatch.chdir(tmp_path)
    frozen = gc.get_freeze_count()
    assert main(["run", "ws.json"]) == 0
    assert "2 succeeded" in capsys.readouterr().out
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


@pytest.mark.parametrize("status", [0, 1])
def test_the_uet_process_ends_with_a_normal_exit(tmp_path: Path, status: int) -> None:
    """``uet run`` as the process's entry point returns its status through the
    interpreter's normal exit: atexit hooks run (other libraries' clean-up), output is
    flushed, the status is the run's."""
    tasks = TASKS if status == 0 else [{"task_id": "first", "command": ["false"]}]
    write_workspace(tmp_path, tasks)
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('atexit hook ran', flush=True))\n"
        "from uet.cli.main import main\n"
        "sys.argv = ['uet', 'run', 'ws.json']\n"
        "raise SystemExit(main())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == status, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "atexit hook ran"
