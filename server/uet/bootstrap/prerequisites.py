"""What a workspace still needs before its generated work can run, and how to get it.

Two kinds of knowledge, both read from small files near the root (no tool is run):

- *How to install a missing tool*: the project's own declaration first (the manifest that
  declares the tool's package says how it is installed: ``pip install -e '.[dev]'``,
  ``pip install -r requirements-dev.txt``, ``npm install``...), else the tool's package
  (``pip install ruff``) or its installation page.
- *Known prerequisites of a tool the project uses*: dbt needs a ``profiles.yml`` holding the
  profile ``dbt_project.yml`` names; ``terraform init`` downloads the providers a
  configuration requires, so it needs network access (or a provider mirror) until they are
  installed.

``uet doctor`` turns these into UET511 and UET512 findings (``checks``).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from uet.bootstrap.manifests import Declaration, normalize_name

__all__ = [
    "InstallHint",
    "Prerequisite",
    "dbt_profile_problem",
    "install_hint",
    "terraform_provider_note",
]

_MAX_READ = 256 * 1024
_MAX_TF_FILES = 50

# Executable -> (ecosystem, packages that provide it; the first is the one to install).
_PACKAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "pytest": ("pypi", ("pytest",)),
    "ruff": ("pypi", ("ruff",)),
    "flake8": ("pypi", ("flake8",)),
    "black": ("pypi", ("black",)),
    "mypy": ("pypi", ("mypy",)),
    "pyright": ("pypi", ("pyright",)),
    "pyproject-build": ("pypi", ("build",)),
    "mkdocs": ("pypi", ("mkdocs", "mkdocs-material")),
    "sphinx-build": ("pypi", ("sphinx",)),
    "codespell": ("pypi", ("codespell",)),
    "sqlfluff": ("pypi", ("sqlfluff",)),
    "dbt": (
        "pypi",
        ("dbt-core", "dbt-duckdb", "dbt-postgres", "dbt-snowflake", "dbt-bigquery", "dbt-redshift"),
    ),
    "ansible-playbook": ("pypi", ("ansible-core", "ansible")),
    "ansible-lint": ("pypi", ("ansible-lint",)),
    "markdownlint-cli2": ("npm", ("markdownlint-cli2",)),
}
_PAGES: dict[str, str] = {
    "terraform": "https://developer.hashicorp.com/terraform/install",
    "tflint": "https://github.com/terraform-linters/tflint#installation",
    "lychee": "https://lychee.cli.rs/installation/",
    "kubeconform": "https://github.com/yannh/kubeconform#installation",
    "kubectl": "https://kubernetes.io/docs/tasks/tools/",
    "helm": "https://helm.sh/docs/intro/install/",
    "hadolint": "https://github.com/hadolint/hadolint#install",
    "git": "https://git-scm.com/downloads",
    "python3": "https://www.python.org/downloads/",
}
_TF_PROVIDER = re.compile(r'^\s*(?:provider|resource|data)\s+"([a-z0-9]+)', re.MULTILINE)
_TF_REQUIRED = re.compile(r"required_providers\s*\{(?P<body>[^}]*(?:\{[^}]*\}[^}]*)*)\}")
_TF_REQUIRED_NAME = re.compile(r"^\s*([a-z0-9_-]+)\s*=", re.MULTILINE)
_DBT_PROFILE = re.compile(r"^profile:\s*['\"]?([^'\"#\s]+)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class InstallHint:
    """How to get one tool: ``command`` (or a page to read), and ``declared_in``, the
    manifest of the project that declares it (``None``: the project does not)."""

    command: str
    declared_in: str | None = None

    def format(self, *, several: bool = False) -> str:
        """``install it with: pip install -e '.[dev]' (declared in pyproject.toml)``."""
        where = f" (declared in {self.declared_in})" if self.declared_in else ""
        if self.command.startswith("https://"):
            return f"see {self.command}"
        return f"install {'them' if several else 'it'} with: {self.command}{where}"


@dataclass(frozen=True, slots=True)
class Prerequisite:
    """Something a tool needs that the workspace lacks: where it shows and what to do."""

    path: str
    message: str
    blocking: bool


def install_hint(executables: Iterable[str], declared: Mapping[str, Declaration]) -> InstallHint:
    """How to install the tool whose executables are ``executables`` (the first that has a
    known package or page decides)."""
    names = tuple(executables)
    for name in names:
        ecosystem, packages = _PACKAGES.get(name, ("", ()))
        for package in packages:
            found = declared.get(normalize_name(package))
            if found is not None:
                return InstallHint(found.install, found.path)
        if packages:
            if ecosystem == "npm":
                return InstallHint(f"npm install --save-dev {shlex.quote(packages[0])}")
            return InstallHint(f"pip install {shlex.quote(packages[0])}")
        if name in _PAGES:
            return InstallHint(_PAGES[name])
    shown = " ".join(names) or "the tool"
    return InstallHint(f"your system's package manager ({shown})")


def dbt_profile_problem(
    root: Path, project_files: Iterable[str], env: Mapping[str, str]
) -> Prerequisite | None:
    """dbt's ``profiles.yml`` lacking the profile ``dbt_project.yml`` names: every dbt
    command (``dbt parse`` too) fails without it. dbt looks in ``DBT_PROFILES_DIR``, the
    project folder and ``~/.dbt/`` (``env`` supplies the first and ``HOME``)."""
    for project_file in project_files:
        text = _read(root / project_file)
        match = _DBT_PROFILE.search(text or "")
        if match is None:
            continue
        profile = match.group(1)
        folder = (root / project_file).parent
        places = [folder]
        if env.get("DBT_PROFILES_DIR"):
            places.insert(0, Path(env["DBT_PROFILES_DIR"]))
        if env.get("HOME"):
            places.append(Path(env["HOME"]) / ".dbt")
        defines = re.compile(rf"^['\"]?{re.escape(profile)}['\"]?\s*:", re.MULTILINE)
        if any(defines.search(_read(place / "profiles.yml") or "") for place in places):
            continue
        return Prerequisite(
            project_file,
            f"dbt needs the profile {profile!r} in a profiles.yml (looked in "
            f"DBT_PROFILES_DIR, the project folder and ~/.dbt/); every dbt task fails "
            f"without it: create it with 'dbt init' or write profiles.yml "
            f"(https://docs.getdbt.com/docs/core/connect-data-platform/profiles.yml)",
            blocking=True,
        )
    return None


def terraform_provider_note(root: Path, tf_files: Iterable[str]) -> Prerequisite | None:
    """The providers ``terraform init`` must download (network access or a mirror) because
    the configuration needs them and no ``.terraform/providers`` folder holds them yet;
    ``None`` when there are none to fetch."""
    folders: dict[str, set[str]] = {}
    for path in list(tf_files)[:_MAX_TF_FILES]:
        if not path.endswith(".tf"):
            continue
        text = _read(root / path) or ""
        found = set(_TF_PROVIDER.findall(text))
        for block in _TF_REQUIRED.finditer(text):
            found.update(_TF_REQUIRED_NAME.findall(block.group("body")))
        if found:
            folders.setdefault(path.rpartition("/")[0], set()).update(found)
    for folder, providers in sorted(folders.items()):
        base = root / folder if folder else root
        if (base / ".terraform" / "providers").is_dir():
            continue
        shown = folder or "."
        return Prerequisite(
            f"{shown}/" if folder else ".",
            f"terraform init downloads the providers {', '.join(sorted(providers))} for "
            f"{shown}: the terraform-init task needs network access to the registry (or a "
            f"provider mirror or plugin cache in the Terraform CLI configuration); "
            f"terraform validate runs only after it",
            blocking=False,
        )
    return None


def _read(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            return handle.read(_MAX_READ).decode("utf-8", errors="replace")
    except OSError:
        return None
