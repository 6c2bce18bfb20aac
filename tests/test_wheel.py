"""The built wheel ships the default templates and the Azure table catalogue, and renders without the source tree.

Builds from a copy of the sources in a temporary folder (so the checkout gets no
build/ or egg-info litter), installs the wheel with pip into a target folder, then
imports `provision` from there with the working directory elsewhere and renders the quickstart.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = ("table.json.j2", "dcr.json.j2", "dce.json.j2", "role-assignment.json.j2", "arm-deployment.json.j2")


def _build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("provision", "templates"):
        shutil.copytree(REPO / name, source / name, ignore=ignore)
    dist = tmp_path / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--skip-dependency-check", "--outdir", str(dist), str(source)],
        capture_output=True, text=True, cwd=source,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    wheels = list(dist.glob("*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def test_wheel_ships_templates_and_renders_from_an_installed_copy(tmp_path):
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for template in TEMPLATES:
            assert f"provision/_templates/{template}" in names
        assert "provision/data/azure-tables.json" in names
        assert not any(n.startswith("templates/") for n in names)
    installed = tmp_path / "installed"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--no-compile", "--target", str(installed), str(wheel)],
        capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr
    assert (installed / "provision" / "_templates" / "dcr.json.j2").is_file()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(REPO / "scenarios" / "quickstart.yaml", elsewhere / "quickstart.yaml")
    code = (
        "import json, provision, provision.render as r\n"
        "from provision.scenario import require_valid\n"
        "s = require_valid('quickstart.yaml')\n"
        "print(json.dumps({'module': provision.__file__, 'templates': str(r._default_templates_dir()),\n"
        "  'kinds': [x.kind for x in r.render_resources(s)], 'arm': len(r.render_arm(s)['resources'])}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(installed)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=elsewhere, env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["module"].startswith(str(installed))
    assert result["templates"].startswith(str(installed))
    assert result["kinds"] == ["table", "rule", "role_assignment"] and result["arm"] == 3
