"""kneedata.notebook: resolving a notebook's folders, opening and deriving its inputs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
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


def _one_run_folder(folder: Path) -> Path:
    from kneedata.testing.fitwrite import write_activity_fit

    folder.mkdir(parents=True)
    index = pd.date_range("2024-05-01 06:00", periods=61, freq="1s", tz="UTC", name="timestamp")
    write_activity_fit(folder / "run.fit", pd.DataFrame(
        {"distance_m": [3.0 * i for i in range(61)], "speed_m_s": 3.0}, index=index))
    return folder


def test_notebooks_use_the_default_store_when_it_holds_the_data(tmp_path, monkeypatch):
    # issue 13: `kneedata import DATA` went to the default store, the notebooks to a
    # second, hidden scratch store
    from kneedata.cli import main
    from kneedata.store import default_store_path

    monkeypatch.setenv("KNEEDATA_STORE", str(tmp_path / "home-store"))
    data = _one_run_folder(tmp_path / "exports")
    other = _one_run_folder(tmp_path / "other")
    assert notebook_paths(data)[1] != default_store_path()  # nothing imported yet
    assert main(["import", str(data), "--workers", "1", "--no-progress"]) == 0
    assert notebook_paths(data)[1] == default_store_path()
    assert notebook_paths(other)[1] != default_store_path()  # not this folder's data
    assert notebook_paths(data, tmp_path / "s")[1] == (tmp_path / "s").resolve()


def test_notebook_data_without_a_diary_says_what_to_do(tmp_path):
    # issue 13: notebooks 02-04 raised a raw FileNotFoundError
    from kneedata.notebook import NotebookDataError, open_notebook_data

    data = _one_run_folder(tmp_path / "exports")
    with pytest.raises(NotebookDataError) as err:
        open_notebook_data(data, tmp_path / "s")
    text = str(err.value)
    assert "\n" not in text and f"no pain_diary.csv in {data}" in text
    assert f"kneedata init {data}" in text
    assert not (tmp_path / "s").exists()  # nothing imported for a notebook that cannot run
