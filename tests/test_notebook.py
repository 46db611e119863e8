"""kneedata.notebook: resolving a notebook's folders, opening and deriving its inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from kneedata.notebook import notebook_paths

REPO = Path(__file__).resolve().parents[1]


def test_notebook_paths(tmp_path, monkeypatch):
    # the notebooks' default "../sample_data" is relative to notebooks/ (make lab)
    monkeypatch.chdir(REPO / "notebooks")
    data, store = notebook_paths("../sample_data")
    assert data == (REPO / "sample_data").resolve()
    assert not store.is_relative_to(REPO)  # scratch store outside the repository
    # relative paths are the working directory's only: no guessing in the package
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="KNEEDATA_DATA"):
        notebook_paths("../sample_data")
    # different data folders never share a scratch store
    (tmp_path / "mine").mkdir()
    mine, mine_store = notebook_paths("mine")
    assert mine == (tmp_path / "mine").resolve() and mine_store != store
    assert notebook_paths("mine", tmp_path / "s")[1] == (tmp_path / "s").resolve()
