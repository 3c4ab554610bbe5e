"""Recognises build files, frameworks, CI systems and folder roles from paths and heads.

A *marker* is ``(kind, path)``: "this file says the project uses X". Most kinds follow from
the file name (``pyproject.toml``, ``*.tf``); a few need the first bytes of the file
(``ContentProbe``): an Airflow DAG is a Python file importing ``airflow``, a Kubernetes
manifest a YAML file with ``apiVersion:`` and ``kind:``. Profiles refer to marker kinds in
task templates (``{{paths:terraform}}``), so the kinds listed in ``MARKER_KINDS`` are a
documented contract (docs/profiles.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from uet.bootstrap.globs import GlobMatcher, compile_globs
from uet.bootstrap.workspace_regex import BytesSearch

__all__ = [
    "BUILTIN_PROBES",
    "CI_SYSTEMS",
    "FRAMEWORK_KINDS",
    "MARKER_KINDS",
    "ContentProbe",
    "directory_roles",
    "markers_for_path",
]

_BY_NAME: dict[str, str] = {
    "pyproject.toml": "pyproject",
    "setup.cfg": "setup_cfg",
    "setup.py": "setup_py",
    "Pipfile": "pipfile",
    "package.json": "package_json",
    "Cargo.toml": "cargo",
    "go.mod": "go_mod",
    "Makefile": "makefile",
    "GNUmakefile": "makefile",
    "makefile": "makefile",
    "Dockerfile": "dockerfile",
    "docker-compose.yml": "compose",
    "docker-compose.yaml": "compose",
    "compose.yml": "compose",
    "compose.yaml": "compose",
    "dbt_project.yml": "dbt_project",
    "mkdocs.yml": "mkdocs",
    "mkdocs.yaml": "mkdocs",
    "ansible.cfg": "ansible",
    "Chart.yaml": "helm",
    "kustomization.yaml": "kustomize",
    "kustomization.yml": "kustomize",
    "tox.ini": "tox",
    "noxfile.py": "nox",
    "pytest.ini": "pytest",
    "conftest.py": "pytest",
    ".pre-commit-config.yaml": "pre_commit",
    "Jenkinsfile": "ci",
    ".gitlab-ci.yml": "ci",
    "azure-pipelines.yml": "ci",
    ".travis.yml": "ci",
    "bitbucket-pipelines.yml": "ci",
}

_BY_EXTENSION: dict[str, str] = {
    ".tf": "terraform",
    ".tfvars": "terraform",
    ".sql": "sql",
    ".ipynb": "notebook",
}

# CI system per marker path (the artifact's ``existing_ci``).
CI_SYSTEMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^\.github/workflows/[^/]+\.ya?ml$"), "github-actions"),
    (re.compile(r"^\.gitlab-ci\.yml$"), "gitlab-ci"),
    (re.compile(r"^\.circleci/config\.ya?ml$"), "circleci"),
    (re.compile(r"^azure-pipelines\.yml$"), "azure-pipelines"),
    (re.compile(r"^(.*/)?Jenkinsfile$"), "jenkins"),
    (re.compile(r"^\.travis\.yml$"), "travis-ci"),
    (re.compile(r"^bitbucket-pipelines\.yml$"), "bitbucket-pipelines"),
)

_PATH_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^\.github/workflows/[^/]+\.ya?ml$"), "ci"),
    (re.compile(r"^\.circleci/config\.ya?ml$"), "ci"),
    (re.compile(r"(^|/)requirements[^/]*\.txt$"), "requirements"),
    (re.compile(r"(^|/)requirements/[^/]+\.txt$"), "requirements"),
    (re.compile(r"(^|/)roles/[^/]+/tasks/[^/]+\.ya?ml$"), "ansible"),
    (re.compile(r"(^|/)(inventory|inventories)/"), "ansible"),
    (re.compile(r"(^|/)(test_[^/]*|[^/]*_test)\.py$"), "python_tests"),
    (re.compile(r"(^|/)[^/]+_test\.go$"), "go_tests"),
    (re.compile(r"(^|/)[^/]+\.(test|spec)\.[jt]sx?$"), "js_tests"),
)

# Kinds that name a framework or tool family (listed as ``frameworks`` in the artifact).
FRAMEWORK_KINDS: dict[str, str] = {
    "dbt_project": "dbt",
    "airflow_dag": "airflow",
    "mkdocs": "mkdocs",
    "sphinx": "sphinx",
    "terraform": "terraform",
    "ansible": "ansible",
    "ansible_playbook": "ansible",
    "kubernetes": "kubernetes",
    "helm": "helm",
    "kustomize": "kustomize",
    "dockerfile": "docker",
    "compose": "docker-compose",
    "pyproject": "python-packaging",
    "setup_py": "python-packaging",
    "package_json": "node",
    "cargo": "cargo",
    "go_mod": "go-modules",
    "pre_commit": "pre-commit",
}


@dataclass(frozen=True, slots=True)
class ContentProbe:
    """Marks files whose path matches ``globs`` (gitignore syntax) and whose first bytes
    match every pattern of ``patterns``."""

    key: str
    globs: tuple[str, ...]
    patterns: tuple[BytesSearch, ...]

    def matcher(self) -> GlobMatcher:
        """The compiled path matcher."""
        return compile_globs(self.globs)


def _rx(pattern: str) -> re.Pattern[bytes]:
    return re.compile(pattern.encode(), re.MULTILINE)


BUILTIN_PROBES: tuple[ContentProbe, ...] = (
    ContentProbe("airflow_dag", ("*.py",), (_rx(r"^\s*(from|import)\s+airflow\b"),)),
    ContentProbe(
        "ansible_playbook",
        ("*.yml", "*.yaml"),
        (_rx(r"^-\s+(hosts|import_playbook):"),),
    ),
    ContentProbe(
        "kubernetes",
        ("*.yml", "*.yaml"),
        (_rx(r"^apiVersion:\s*\S"), _rx(r"^kind:\s*[A-Z]\w*\s*$")),
    ),
    ContentProbe("sphinx", ("conf.py",), (_rx(r"^\s*(extensions|html_theme)\s*="),)),
    ContentProbe(
        "pytest",
        ("/pyproject.toml", "/setup.cfg", "/tox.ini"),
        (_rx(r"^\[(tool\.pytest\.ini_options|tool:pytest|pytest)\]"),),
    ),
    ContentProbe("uet_artifact", ("*.json", "*.yml", "*.yaml"), (_rx(r"uet\.invalid/schemas/"),)),
)

MARKER_KINDS: frozenset[str] = frozenset(
    {
        *_BY_NAME.values(),
        *_BY_EXTENSION.values(),
        *(kind for _, kind in _PATH_RULES),
        *(probe.key for probe in BUILTIN_PROBES),
        "dockerfile",
        "git",
        "test_dirs",
        "python_test_dirs",
        "sql_dirs",
        "src_dirs",
        "doc_dirs",
        "config_dirs",
        "script_dirs",
    }
)


def markers_for_path(path: str) -> Iterable[str]:
    """The marker kinds ``path`` carries by name alone."""
    name = path.rpartition("/")[2]
    kind = _BY_NAME.get(name)
    if kind is not None:
        yield kind
    elif name.startswith("Dockerfile.") or name.endswith((".Dockerfile", ".dockerfile")):
        yield "dockerfile"
    dot = name.rfind(".")
    if dot > 0:
        extension_kind = _BY_EXTENSION.get(name[dot:].lower())
        if extension_kind is not None:
            yield extension_kind
    for pattern, rule_kind in _PATH_RULES:
        if pattern.search(path):
            yield rule_kind


_TEST_DIRS = frozenset({"tests", "test", "testing"})
_SRC_DIRS = frozenset({"src", "lib", "app", "pkg", "cmd", "internal"})
_DOC_DIRS = frozenset({"docs", "doc", "documentation"})
_CONFIG_DIRS = frozenset({"config", "configs", "conf", "etc"})
_SCRIPT_DIRS = frozenset({"scripts", "bin", "tools"})
_MAX_TEST_DIR_DEPTH = 3
_MAX_PYTEST_DIRS = 5  # beyond this, hand pytest the top-level folders instead
_PYTHON_TEST = re.compile(r"^(test_.*|.*_test)\.py$")


def directory_roles(paths: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Folders by role (``test_dirs``, ``src_dirs``, ...), each sorted.

    Top-level folders are classified by name; a top-level folder holding ``__init__.py``
    is a source folder (a Python package); test folders may sit up to three levels deep
    (``src/pkg/tests``), and only the outermost one of a nest is kept.
    ``python_test_dirs`` are the folders to hand to pytest (the test folder holding Python
    tests, or the folder of a test module outside any; ``.`` for the root; their top-level
    folders when there are more than five, as in a package with one ``tests`` per module);
    ``sql_dirs`` the top-level folders holding ``.sql`` files.
    """
    top: set[str] = set()
    packages: set[str] = set()
    tests: set[str] = set()
    python_tests: list[list[str]] = []
    sql: set[str] = set()
    for path in paths:
        parts = path.split("/")
        name = parts[-1]
        if name.endswith(".sql"):
            sql.add(parts[0] if len(parts) > 1 else ".")
        if _PYTHON_TEST.search(name):
            python_tests.append(parts)
        if len(parts) < 2:
            continue
        top.add(parts[0])
        if len(parts) == 2 and name == "__init__.py" and parts[0] not in _TEST_DIRS:
            packages.add(parts[0])
        for depth, part in enumerate(parts[:-1][:_MAX_TEST_DIR_DEPTH]):
            if part in _TEST_DIRS:
                tests.add("/".join(parts[: depth + 1]))
                break
    test_dirs = _outermost(tests)
    python_dirs: set[str] = set()
    for parts in python_tests:
        folder = "/".join(parts[:-1]) or "."
        owner = next((test for test in test_dirs if folder.startswith(test + "/")), None)
        python_dirs.add(owner if owner is not None else folder)
    pytest_dirs = _outermost(python_dirs)
    if len(pytest_dirs) > _MAX_PYTEST_DIRS:
        pytest_dirs = _outermost({folder.split("/")[0] for folder in pytest_dirs})
    return {
        "test_dirs": tuple(sorted(test_dirs)),
        "python_test_dirs": tuple(sorted(pytest_dirs)),
        "src_dirs": tuple(sorted((top & _SRC_DIRS) | packages)),
        "doc_dirs": tuple(sorted(top & _DOC_DIRS)),
        "config_dirs": tuple(sorted(top & _CONFIG_DIRS)),
        "script_dirs": tuple(sorted(top & _SCRIPT_DIRS)),
        "sql_dirs": tuple(sorted(sql)),
    }


def _outermost(folders: set[str]) -> set[str]:
    if "." in folders:
        return {"."}
    return {
        folder
        for folder in folders
        if not any(folder.startswith(other + "/") for other in folders if other != folder)
    }
