"""A task's child runs in the project's environment: the real ``uet run`` starts a task whose
command is a shell script calling ``pytest`` by name (as a Makefile target or a package.json
script does). The project's ``.venv`` holds a stand-in ``pytest`` that records it ran;
another environment comes first on ``PATH`` and is the active ``VIRTUAL_ENV`` (uet's own,
when its environment is activated), and its ``pytest`` fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from engine_support import write_workspace


def _stand_in(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    (folder / name).chmod(0o755)


def _uet(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uet", *args],
        cwd=root,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_tasks_child_gets_the_projects_environment(tmp_path: Path) -> None:
    root = tmp_path / "project"
    seen = tmp_path / "seen.txt"
    script = f'echo "PATH=$PATH" > "{seen}"; echo "VIRTUAL_ENV=$VIRTUAL_ENV" >> "{seen}"; pytest'
    write_workspace(root, [{"task_id": "test", "command": ["sh", "-c", script]}])
    (root / ".venv").mkdir()
    (root / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    ran = tmp_path / "ran.txt"
    _stand_in(root / ".venv" / "bin", "pytest", f'#!/bin/sh\necho "project pytest" > "{ran}"\n')
    other = tmp_path / "other-env"
    _stand_in(other / "bin", "pytest", "#!/bin/sh\necho 'not the project pytest'\nexit 3\n")
    (other / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    env = {
        **os.environ,
        "PATH": f"{other / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "VIRTUAL_ENV": str(other),
    }
    done = _uet(root, env, "run", "ws.json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert ran.read_text(encoding="utf-8") == "project pytest\n"
    lines = dict(line.split("=", 1) for line in seen.read_text(encoding="utf-8").splitlines())
    assert lines["VIRTUAL_ENV"] == str(root / ".venv")
    folders = lines["PATH"].split(os.pathsep)
    assert folders[0] == str(root / ".venv" / "bin")
    assert folders.count(str(root / ".venv" / "bin")) == 1
    assert folders[1:] == [str(other / "bin"), "/usr/bin", "/bin"]


def test_a_workspace_without_tool_folders_keeps_the_engines_environment(tmp_path: Path) -> None:
    root = tmp_path / "project"
    seen = tmp_path / "seen.txt"
    script = f'echo "$PATH|$VIRTUAL_ENV" > "{seen}"'
    write_workspace(root, [{"task_id": "show", "command": ["sh", "-c", script]}])
    env = {**os.environ, "PATH": f"/usr/bin{os.pathsep}/bin", "VIRTUAL_ENV": "/elsewhere"}
    done = _uet(root, env, "run", "ws.json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert seen.read_text(encoding="utf-8") == f"/usr/bin{os.pathsep}/bin|/elsewhere\n"
