"""Packaging: what a fresh clone installs and how JupyterLab opens the notebooks (issue 13)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
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
