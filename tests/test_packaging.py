"""Packaging: what a fresh clone installs, `pip install .`, and how JupyterLab opens the notebooks."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def _requirement(reqs: list[str], name: str) -> str | None:
    return next((r for r in reqs if re.match(rf"{name}\b", r)), None)


def test_license_is_an_spdx_string_for_a_setuptools_that_reads_it():
    # a TOML table printed setuptools' "project.license as a TOML table is deprecated"
    # banner three times per set-up; the SPDX string needs setuptools >= 77
    assert PYPROJECT["project"]["license"] == "MIT"
    setuptools = _requirement(PYPROJECT["build-system"]["requires"], "setuptools")
    assert setuptools is not None
    lower = re.search(r">=\s*(\d+)", setuptools)
    assert lower is not None and int(lower.group(1)) >= 77


def test_jupytext_is_a_run_time_dependency():
    # the notebooks are py:percent files: without jupytext JupyterLab shows them as text
    assert _requirement(PYPROJECT["project"]["dependencies"], "jupytext")


@pytest.mark.slow
def test_make_lab_makes_jupytext_the_default_viewer_of_the_notebooks(tmp_path):
    overrides = json.loads((REPO / "notebooks" / "jupyterlab-overrides.json").read_text())
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["python"] == "Jupytext Notebook"
    # `make lab` installs them where JupyterLab reads overrides (its app settings folder)
    # a dry run against a venv path in tmp_path: STAMP must not name a makefile (make
    # remakes makefiles even under -n, which once built a whole venv inside the repo)
    stamp = tmp_path / "installed"
    stamp.touch()
    venv = tmp_path / "venv"
    dry = subprocess.run(["make", "-n", "lab", f"VENV={venv}", f"STAMP={stamp}"],
                         cwd=REPO, capture_output=True, text=True, check=True).stdout
    target = venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert f"cp notebooks/jupyterlab-overrides.json {target}" in dry
    assert not venv.exists()


def test_the_lab_finds_the_overrides_in_its_settings_folder():
    commands = pytest.importorskip("jupyterlab.commands")
    app_dir = Path(commands.get_app_dir())
    assert app_dir == Path(sys.prefix) / "share" / "jupyter" / "lab"
    labextensions = Path(sys.prefix) / "share" / "jupyter" / "labextensions"
    assert (labextensions / "jupyterlab-jupytext").is_dir()  # the "Jupytext Notebook" viewer


def _copy_sources(dest: Path) -> Path:
    # what a `pip install .` reads, outside the repository: no stray build/ or egg-info here
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, dest / name)
    shutil.copytree(REPO / "kneedata", dest / "kneedata",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def _site_packages(python: str) -> list[str]:
    code = "import json, sysconfig; print(json.dumps(sorted({sysconfig.get_path('purelib'), "\
           "sysconfig.get_path('platlib')})))"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.slow
def test_pip_install_gives_a_working_kneedata_outside_the_repository(tmp_path):
    # offline: the wheel is built with this environment's setuptools (no build isolation),
    # installed without dependencies into a fresh venv that borrows this one's packages
    setuptools = pytest.importorskip("setuptools")
    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip("the build needs setuptools >= 77 (the test extra installs it)")
    src = _copy_sources(tmp_path / "src")
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--no-index", "-q", "-w", str(wheels), str(src)], check=True,
                   capture_output=True, text=True, cwd=tmp_path)
    (wheel,) = wheels.glob("kneedata-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert "kneedata/py.typed" in names and "kneedata/models/__init__.py" in names
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
                    "--no-index", "-q", str(wheel)], check=True, capture_output=True, text=True)
    own = Path(_site_packages(python)[0])
    # the dependencies from this environment, after the venv's own packages (a plain path
    # line: this environment's .pth files, such as the editable kneedata, are not run)
    (own / "borrowed.pth").write_text("\n".join(_site_packages(sys.executable)) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    where = subprocess.run([python, "-c", "import kneedata; print(kneedata.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path, env=env)
    assert Path(where.stdout.strip()).is_relative_to(own)
    cli = str(venv / "bin" / "kneedata")
    helped = subprocess.run([cli, "--help"], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert helped.returncode == 0, helped.stderr
    assert "import" in helped.stdout and "report" in helped.stdout
    version = subprocess.run([cli, "--version"], capture_output=True, text=True, cwd=tmp_path,
                             env=env, check=True)
    assert PYPROJECT["project"]["version"] in version.stdout + version.stderr
    subprocess.run([cli, "init", "my-diary"], check=True, capture_output=True, cwd=tmp_path, env=env)
    assert (tmp_path / "my-diary" / "pain_diary.csv").is_file()
