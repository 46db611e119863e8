"""Records and laps as datasets: exact round trip, old stores migrated, one scan, other readers.

The expected frames come from :func:`kneedata.read_activities` on the same files (not
from the store), so a value the store changed or lost fails the comparison.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as pads
import pytest

from kneedata.io.read import read_activities
from kneedata.metrics.gait import gait_metrics
from kneedata.store import Store
from kneedata.store.dataset import (
    INDEX_FILE,
    dataset_files,
    legacy_files,
    read_index,
    stored_ids,
)
from kneedata.testing.fitwrite import write_activity_fit
from kneedata.testing.store_layout import write_per_activity_layout

T0 = pd.Timestamp("2024-05-01 06:00:00", tz="UTC")


def _run(i: int, n: int = 400, pauses: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(i)
    index = pd.date_range(T0 + pd.Timedelta(days=i), periods=n, freq="2s", name="timestamp")
    speed = 3.0 + 0.2 * np.sin(np.arange(n) / 30) + rng.normal(0, 0.03, n)
    frame = pd.DataFrame({
        "distance_m": np.cumsum(speed * 2), "speed_m_s": speed,
        "cadence_spm": 165 + 5 * speed + rng.normal(0, 1, n),
        "heart_rate_bpm": np.round(150 + rng.normal(0, 3, n)),
        "altitude_m": 20 + 5 * np.sin(np.arange(n) / 50),
    }, index=index)
    if i % 3 == 0:  # some runs without heart rate: a column with no value at all
        frame["heart_rate_bpm"] = np.nan
    if pauses:
        frame.iloc[100:120, frame.columns.get_loc("speed_m_s")] = 0.0
    return frame


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(7):
        write_activity_fit(folder / f"run{i}.fit", _run(i, pauses=i == 2), utc_offset_min=60.0)
    return folder


def _expected(folder: Path) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in (".fit", ".gpx", ".tcx"):
            for act in read_activities(path):
                laps = act.laps.reset_index(drop=True)
                # the store keeps the glossary's unit (ns); a reader may give laps in s
                for col in laps.columns:
                    if isinstance(laps[col].dtype, pd.DatetimeTZDtype):
                        laps[col] = laps[col].dt.as_unit("ns")
                out[str(act.summary["activity_id"])] = (act.records, laps)
    return out


def _assert_same(store: Store, expected: dict[str, tuple[pd.DataFrame, pd.DataFrame]]) -> None:
    held = set(store.activities()["activity_id"]) | set(store.duplicates()["activity_id"])
    assert held == set(expected)
    for aid, (records, laps) in expected.items():
        pd.testing.assert_frame_equal(store.records(aid), records, check_freq=False)
        pd.testing.assert_frame_equal(store.laps(aid), laps)


def test_import_writes_parts_and_reads_every_frame_back_exactly(runs, tmp_path):
    store = Store(tmp_path / "s", checkpoint_every=3)  # three checkpoints: three parts
    store.import_paths([runs], workers=1, progress=False)
    _assert_same(store, _expected(runs))
    assert not legacy_files(store.path, "records") and not legacy_files(store.path, "laps")
    parts = sorted(p.name for p in (store.path / "records").glob("*.parquet"))
    assert len(parts) == 3 and all(p.startswith("part-") for p in parts)
    index = read_index(store.path)
    assert set(index["kind"]) == {"records", "laps"} and len(index) == 14
    # a column without any value is not stored, and comes back as NaN
    aid = next(a for a, (r, _) in _expected(runs).items() if r["heart_rate_bpm"].isna().all())
    part = index.loc[(index["kind"] == "records") & (index["activity_id"] == aid), "part"].iloc[0]
    table = pads.dataset(store.path / "records" / part).to_table()
    rows = table.filter(pads.field("activity_id") == aid)
    assert rows.column("heart_rate_bpm").null_count == rows.num_rows or \
        "heart_rate_bpm" not in table.column_names


def test_old_store_is_read_then_migrated_by_the_next_import(runs, tmp_path):
    new = Store(tmp_path / "new")
    new.import_paths([runs], workers=1, progress=False)
    old = Store(write_per_activity_layout(new.path, tmp_path / "old"))
    assert not (old.path / INDEX_FILE).exists() and len(legacy_files(old.path, "records")) == 7
    expected = _expected(runs)
    _assert_same(old, expected)  # the old layout is read as it is
    before = old.activities()
    report = old.import_paths([runs], workers=1, progress=False)
    assert report.counts()["unchanged"] == 7
    assert not legacy_files(old.path, "records") and not legacy_files(old.path, "laps")
    assert stored_ids(old.path) == set(expected) == stored_ids(old.path, "laps")
    _assert_same(old, expected)  # nothing lost in the move
    pd.testing.assert_frame_equal(old.activities(), before)
    # a file added later joins the dataset
    write_activity_fit(runs / "later.fit", _run(20), utc_offset_min=60.0)
    assert old.import_paths([runs], workers=1, progress=False).counts()["imported"] == 1
    _assert_same(old, _expected(runs))


def test_migration_killed_after_the_index_keeps_everything(runs, tmp_path, monkeypatch):
    import kneedata.store.dataset as dataset_module

    new = Store(tmp_path / "new")
    new.import_paths([runs], workers=1, progress=False)
    old = Store(write_per_activity_layout(new.path, tmp_path / "old"))

    def killed(self):  # the kill comes after parts and index, before the old files go
        raise KeyboardInterrupt

    monkeypatch.setattr(dataset_module.DatasetState, "remove_retired", killed)
    with pytest.raises(KeyboardInterrupt):
        old.import_paths([runs], workers=1, progress=False)
    monkeypatch.undo()
    assert legacy_files(old.path, "records")  # both copies on disk: still one answer
    _assert_same(old, _expected(runs))
    old.import_paths([runs], workers=1, progress=False)
    assert not legacy_files(old.path, "records")
    _assert_same(old, _expected(runs))


def test_changed_file_leaves_no_dead_rows_in_the_dataset(runs, tmp_path):
    store = Store(tmp_path / "s")
    store.import_paths([runs], workers=1, progress=False)
    write_activity_fit(runs / "run1.fit", _run(1, n=300), utc_offset_min=60.0)  # changed content
    store.import_paths([runs], workers=1, progress=False)
    ids = set(store.activities()["activity_id"])
    table = pads.dataset(dataset_files(store.path)).to_table(columns=["activity_id"])
    assert set(table.column("activity_id").to_pylist()) == ids
    _assert_same(store, _expected(runs))


def test_gait_by_one_scan_equals_gait_frame_by_frame(runs, tmp_path):
    store = Store(tmp_path / "s")
    store.import_paths([runs], workers=1, progress=False)
    acts = store.activities()
    frames = {aid: store.records(aid) for aid in acts["activity_id"]}
    pd.testing.assert_frame_equal(gait_metrics(store.records_map(), acts, height_m=1.8),
                                  gait_metrics(frames, acts, height_m=1.8))


def _cohort(runs: Path, tmp_path: Path) -> Store:
    store = Store(tmp_path / "cohort")
    files = sorted(runs.glob("*.fit"))
    store.import_paths(files[:4], workers=1, progress=False)
    store.import_paths(files[4:], runner_id="B", workers=1, progress=False)
    return store


def test_cohort_records_read_as_one_table_by_pyarrow_and_dask(runs, tmp_path):
    store = _cohort(runs, tmp_path)
    files = dataset_files(store.path)
    acts = store.activities()
    n_rows = sum(len(store.records(a)) for a in acts["activity_id"])
    table = pads.dataset(files).to_table()
    assert table.num_rows == n_rows
    by_runner = table.group_by("runner_id").aggregate([("activity_id", "count_distinct")]).to_pandas()
    assert dict(zip(by_runner["runner_id"], by_runner["activity_id_count_distinct"], strict=True)) == \
        acts.groupby("runner_id")["activity_id"].nunique().to_dict()
    dd = pytest.importorskip("dask.dataframe")
    frame = dd.read_parquet([str(f) for f in files]).compute()
    assert len(frame) == n_rows and set(frame["activity_id"]) == set(acts["activity_id"])
    one = acts["activity_id"].iloc[-1]
    got = frame[frame["activity_id"] == one].sort_values("timestamp")
    np.testing.assert_array_equal(got["speed_m_s"].to_numpy(), store.records(one)["speed_m_s"].to_numpy())


def test_cohort_records_read_as_one_table_by_duckdb(runs, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    store = _cohort(runs, tmp_path)
    files = [str(f) for f in dataset_files(store.path)]
    acts = store.activities()
    got = duckdb.sql(
        f"select runner_id, activity_id, count(*) as n, avg(speed_m_s) as v "
        f"from read_parquet({files!r}, union_by_name=true) group by all").df()
    for row in got.itertuples():
        rec = store.runner(row.runner_id).records(row.activity_id)
        assert row.n == len(rec)
        assert row.v == pytest.approx(rec["speed_m_s"].mean())
    assert set(got["activity_id"]) == set(acts["activity_id"])


@pytest.mark.real_data
@pytest.mark.slow
def test_real_files_round_trip_and_migrate(real_data, tmp_path):
    folder = tmp_path / "real"
    folder.mkdir()
    picked = [*sorted((real_data / "fit").glob("*.fit"))[:8], *sorted((real_data / "gpx").glob("*.gpx"))[:3],
              *sorted((real_data / "tcx").glob("*.tcx"))[:3]]
    for path in picked:
        shutil.copy(path, folder / path.name)  # a temporary copy, never in the repository
    expected = _expected(folder)
    new = Store(tmp_path / "new")
    new.import_paths([folder], workers=2, progress=False)
    _assert_same(new, expected)
    old = Store(write_per_activity_layout(new.path, tmp_path / "old"))
    old.import_paths([folder], workers=1, progress=False)
    assert not legacy_files(old.path, "records")
    _assert_same(old, expected)
    acts = new.activities()
    frames = {aid: new.records(aid) for aid in acts["activity_id"]}
    pd.testing.assert_frame_equal(gait_metrics(new.records_map(), acts, include=None),
                                  gait_metrics(frames, acts, include=None))
