"""Fixture repositories for the bootstrap tests, built from real files in ``tmp_path``.

Each builder writes a small but realistic project (a Python library, a dbt project, an
MkDocs site, a Terraform + Ansible repository, ...). ``tool_path`` builds a ``PATH`` folder
holding exactly the tools a test wants detected: real executables (git, this interpreter as
``python3``, pytest/ruff/mypy from the test environment) or stubs that exit 0.
``run_workstream`` executes a generated workstream the way the engine does (app command +
task args, in the task's cwd) so tests prove the starter workstreams really run.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from uet.artifacts import Severity, check_file

BIN = Path(sys.executable).parent
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
}


def write(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> text) under ``root``; return ``root``."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def git(root: Path, *args: str) -> str:
    """Run git in ``root`` (hermetic identity, no user config)."""
    env = {**os.environ, **GIT_ENV, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(root)}
    completed = subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    return completed.stdout


def git_repository(root: Path) -> Path:
    """Make ``root`` a git repository with everything committed."""
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


PYTHON_LIBRARY = {
    "pyproject.toml": (
        "[project]\n"
        'name = "tinylib"\n'
        'version = "0.1.0"\n'
        'requires-python = ">=3.11"\n'
        "\n"
        "[project.optional-dependencies]\n"
        'dev = ["pytest", "ruff", "mypy"]\n'
        "\n"
        "[tool.pytest.ini_options]\n"
        'pythonpath = ["src"]\n'
    ),
    "README.md": "# tinylib\n\nAdds numbers.\n",
    "src/tinylib/__init__.py": (
        '"""A tiny library."""\n'
        "\n"
        "\n"
        "def add(left: int, right: int) -> int:\n"
        '    """Return the sum of two integers."""\n'
        "    return left + right\n"
    ),
    "src/tinylib/py.typed": "",
    "tests/test_add.py": (
        "from tinylib import add\n\n\ndef test_add() -> None:\n    assert add(1, 2) == 3\n"
    ),
    ".gitignore": "__pycache__/\n.pytest_cache/\n.mypy_cache/\n.ruff_cache/\n",
}


def python_library(root: Path) -> Path:
    """A src-layout Python library with a passing test, committed to git."""
    return git_repository(write(root, PYTHON_LIBRARY))


def dbt_project(root: Path) -> Path:
    """A dbt project with models, a test, a macro and an Airflow DAG."""
    return write(
        root,
        {
            "dbt_project.yml": (
                "name: shop_analytics\nversion: '1.0.0'\nprofile: shop\nmodel-paths: ['models']\n"
            ),
            "models/staging/stg_orders.sql": (
                "select id, customer_id, amount\nfrom {{ source('shop', 'orders') }}\n"
            ),
            "models/staging/stg_customers.sql": (
                "select id, name\nfrom {{ source('shop', 'customers') }}\n"
            ),
            "models/marts/revenue.sql": (
                "select customer_id, sum(amount) as revenue\n"
                "from {{ ref('stg_orders') }}\ngroup by 1\n"
            ),
            "models/staging/schema.yml": (
                "version: 2\nmodels:\n  - name: stg_orders\n    columns:\n      - name: id\n"
            ),
            "macros/cents.sql": "{% macro cents(column) %}({{ column }} * 100){% endmacro %}\n",
            "tests/assert_positive_revenue.sql": (
                "select * from {{ ref('revenue') }} where revenue < 0\n"
            ),
            "dags/daily_refresh.py": (
                "from airflow import DAG\n\n"
                "with DAG('daily_refresh', schedule='@daily') as dag:\n    pass\n"
            ),
            "requirements.txt": "dbt-core>=1.7\ndbt-duckdb\napache-airflow==2.9.0\n",
        },
    )


def mkdocs_site(root: Path) -> Path:
    """An MkDocs site: configuration, pages and the docs dependency."""
    pages = {
        f"docs/guide/page{number}.md": f"# Page {number}\n\nSome text about topic {number}.\n"
        for number in range(8)
    }
    return write(
        root,
        {
            "mkdocs.yml": "site_name: Handbook\nnav:\n  - Home: index.md\n",
            "docs/index.md": "# Handbook\n\nWelcome. See [the guide](guide/page0.md).\n",
            "requirements.txt": "mkdocs>=1.5\nmkdocs-material\n",
            **pages,
        },
    )


def terraform_ansible(root: Path) -> Path:
    """Terraform modules and an Ansible playbook with a role and an inventory."""
    return write(
        root,
        {
            "infra/main.tf": (
                'terraform {\n  required_version = ">= 1.5"\n}\n\n'
                'variable "region" {\n  type    = string\n  default = "eu-west-1"\n}\n'
            ),
            "infra/outputs.tf": 'output "region" {\n  value = var.region\n}\n',
            "ansible/site.yml": ("- hosts: web\n  become: true\n  roles:\n    - nginx\n"),
            "ansible/roles/nginx/tasks/main.yml": (
                "- name: Install nginx\n  ansible.builtin.package:\n    name: nginx\n"
            ),
            "ansible/inventory/hosts.ini": "[web]\nweb1.example.invalid\n",
            "ansible.cfg": "[defaults]\ninventory = ansible/inventory\n",
        },
    )


def symlink_hazards(root: Path, outside: Path) -> Path:
    """A folder with a symlink loop, a link to ``/``, a link to a file outside the
    workspace, a folder linking to itself, and one ordinary file."""
    write(root, {"notes.txt": "just notes\n"})
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret.py").write_text("print('outside')\n", encoding="utf-8")
    (root / "loop_a").symlink_to(root / "loop_b")
    (root / "loop_b").symlink_to(root / "loop_a")
    (root / "to_root").symlink_to("/")
    (root / "outside_file.py").symlink_to(outside / "secret.py")
    (root / "self").symlink_to(root)
    return root


def ignored_repository(root: Path, count: int = 5000) -> Path:
    """A git repository (a Python library) plus ``count`` ignored files."""
    python_library(root)
    write(root, {".gitignore": PYTHON_LIBRARY[".gitignore"] + "*.log\ngenerated/\n"})
    git(root, "add", ".gitignore")
    git(root, "commit", "-q", "-m", "ignore logs")
    half = count // 2
    for folder, names in (("generated", range(half)), ("src/tinylib/logs", range(count - half))):
        target = root / folder
        target.mkdir(parents=True, exist_ok=True)
        for number in names:
            suffix = ".md" if folder == "generated" else ".log"
            (target / f"file{number}{suffix}").write_text("ignored\n", encoding="utf-8")
    return root


def tool_path(folder: Path, real: tuple[str, ...] = (), stubs: tuple[str, ...] = ()) -> str:
    """A ``PATH`` value holding only the named tools.

    ``real``: ``python3`` (this interpreter), ``git``, or a script of the test environment
    (``pytest``, ``ruff``, ``mypy``); ``stubs``: fake executables that exit 0."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in real:
        if name == "python3":
            source = Path(sys.executable)
        elif name == "git":
            found = shutil.which("git")
            assert found is not None, "git is needed by the bootstrap tests"
            source = Path(found)
        else:
            source = BIN / name
        assert source.exists(), f"{source} missing from the test environment"
        (folder / name).symlink_to(source)
    for name in stubs:
        stub = folder / name
        stub.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
        stub.chmod(0o755)
    return str(folder)


def error_diagnostics(path: Path, root: Path) -> list[str]:
    """The error diagnostics of one artifact file, formatted (empty when it is valid)."""
    report = check_file(path, root=root)
    assert report.schema is not None, f"{path} is not associated with a schema"
    return [
        line
        for line, item in zip(report.format_lines(), report.diagnostics, strict=True)
        if item.severity is Severity.ERROR
    ]


def assert_valid_workspace(root: Path, written: list[str]) -> None:
    """Every written artifact file (JSON/YAML) validates with zero errors."""
    artifacts = [path for path in written if path.endswith((".json", ".yaml"))]
    assert artifacts, "nothing to validate"
    problems = {path: error_diagnostics(root / path, root) for path in artifacts}
    assert {path: found for path, found in problems.items() if found} == {}


def run_workstream(root: Path, workstream: str, search_path: str) -> list[tuple[str, int, str]]:
    """Run every task of ``workstream`` as the engine would; ``(task_id, exit, output)``."""
    router = json.loads((root / "router_config.json").read_text("utf-8"))
    document = json.loads((root / workstream).read_text("utf-8"))
    results: list[tuple[str, int, str]] = []
    env = {
        "PATH": search_path,
        "HOME": str(root),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for task in document["tasks"]:
        app: dict[str, Any] = router["apps"][task["tool"]]
        if app.get("shell"):  # a command line for /bin/sh, as the engine runs it
            args = task.get("args", [])
            argv = [
                "/bin/sh",
                "-c",
                " ".join([app["command"], shlex.join(args)] if args else [app["command"]]),
            ]
        else:
            argv = [*app["command"], *task.get("args", [])]
        executable = shutil.which(argv[0], path=search_path)
        assert executable is not None, f"{argv[0]} not on the test PATH"
        completed = subprocess.run(
            [executable, *argv[1:]],
            cwd=root / task.get("cwd", "."),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        results.append((task["task_id"], completed.returncode, completed.stdout + completed.stderr))
    return results
