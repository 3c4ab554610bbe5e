"""A freshly bootstrapped Python project runs its generated workstreams with its own tools.

The project is real: a git repository with a src-layout library, its pytest configuration
and its own virtual environment (made by ``python -m venv``; pytest, ruff and mypy come from
the test environment's packages through a ``.pth`` file, so nothing is downloaded). Another
environment is first on ``PATH``, as uet's is when its virtual environment is active: its
``pytest``, ``ruff`` and ``mypy`` fail. ``uet doctor`` must say ready and every generated
workstream must succeed through the real ``uet run``, which can only happen with the
project's own tools.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from tests.bootstrap.support import BIN, python_library, tool_path, write

# Building needs the network (pyproject-build makes an isolated build environment), so the
# release workstream is generated but not run here.
RUN = ("ph-py-lint", "ph-py-review", "ph-py-test", "ph-py-typecheck")


def project_environment(root: Path) -> Path:
    """``root/.venv``: a real virtual environment whose pytest, ruff and mypy work."""
    environment = root / ".venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(environment)], check=True, timeout=120
    )
    (site_packages,) = (environment / "lib").glob("python*/site-packages")
    (site_packages / "test_tools.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    python = environment / "bin" / "python"
    scripts = {"pytest": "pytest:console_main", "mypy": "mypy.__main__:console_entry"}
    for name, target in scripts.items():
        module, function = target.split(":")
        script = environment / "bin" / name
        script.write_text(
            f"#!{python}\nimport sys\nfrom {module} import {function}\nsys.exit({function}())\n",
            encoding="utf-8",
        )
        script.chmod(0o755)
    (environment / "bin" / "ruff").symlink_to(BIN / "ruff")
    build = environment / "bin" / "pyproject-build"
    build.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    build.chmod(0o755)
    return environment


def other_environment(folder: Path) -> str:
    """A ``PATH`` with git and python3, and a pytest, ruff and mypy that are not the
    project's: they fail."""
    search = tool_path(folder, real=("git", "python3"))
    for name in ("pytest", "ruff", "mypy"):
        write(folder, {name: f"#!/bin/sh\necho 'not the project''s {name}'\nexit 3\n"})
        (folder / name).chmod(0o755)
    return search


def uet(root: Path, search: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": search,
        "HOME": str(root),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [sys.executable, "-m", "uet", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_generated_workstreams_succeed_with_the_projects_own_tools(tmp_path: Path) -> None:
    root = python_library(tmp_path / "lib")
    project_environment(root)
    search = other_environment(tmp_path / "other-env")
    bootstrap = uet(root, search, "bootstrap", ".")
    assert bootstrap.returncode == 0, bootstrap.stdout + bootstrap.stderr
    doctor = uet(root, search, "doctor", ".", "--json")
    report = json.loads(doctor.stdout)
    assert report["status"] == "ready", doctor.stdout
    assert doctor.returncode == 0
    test_tasks = json.loads((root / "workstreams/ph-py-test.json").read_text("utf-8"))["tasks"]
    assert test_tasks[0]["args"] == ["-q"]  # pytest reads the project's configuration
    for name in RUN:
        run = uet(root, search, "run", f"workstreams/{name}.json")
        assert run.returncode == 0, f"{name}: {run.stdout}{run.stderr}"
        assert "0 failed" in run.stdout
    logs = "".join(path.read_text() for path in (root / ".uet" / "logs").rglob("*.log"))
    assert "not the project's" not in logs
    assert "1 passed" in logs  # the project's real pytest ran its test
