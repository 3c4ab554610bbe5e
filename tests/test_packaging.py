"""The wheel ships the schemas and profiles and finds them as files next to the package."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import json
from uet.resources import schemas_dir, profiles_dir
schemas = sorted(p.name for p in schemas_dir().iterdir() if p.name.endswith('.schema.json'))
profiles = sorted(p.name for p in profiles_dir().iterdir() if p.is_dir())
print(json.dumps({"schemas": schemas, "profiles": profiles, "where": str(schemas_dir())}))
"""


@pytest.mark.slow
def test_wheel_contains_schemas_and_profiles(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("uet_lsp-*.whl")
    environment = tmp_path / "venv"
    venv.create(environment)  # without pip of its own: ours installs into it
    python = environment / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    # Run from an empty folder so the source checkout cannot be picked up instead.
    result = subprocess.run(
        [str(python), "-c", CHECK], cwd=tmp_path, check=True, capture_output=True, text=True
    )
    import json

    found = json.loads(result.stdout)
    expected_schemas = sorted(p.name for p in (REPO_ROOT / "schemas").glob("*.schema.json"))
    expected_profiles = sorted(p.name for p in (REPO_ROOT / "profiles").iterdir() if p.is_dir())
    assert found["schemas"] == expected_schemas and expected_schemas
    assert found["profiles"] == expected_profiles
    assert "site-packages" in found["where"] and "_data" in found["where"]
