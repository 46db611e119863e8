"""Several runners in one store: imported apart, duplicates matched within a runner only.

Hand-built runs (as in test_store.py): 1 sample/s at 3 m/s due north, so a run of n
samples is 3 m x (n - 1) long and starts at the time given. Runner A and runner B both
run at 06:00 on 1 May 2024; A's run is 900 m, B's 1200 m, so each runner's table can be
checked by its distances.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pytest

from kneedata.runners import DEFAULT_RUNNER_ID, check_runner_id
from kneedata.store import Store, UnknownActivityError
from kneedata.store.dataset import part_file
from kneedata.store.errors import AmbiguousActivityError
from kneedata.testing.fitwrite import write_activity_fit

T0 = pd.Timestamp("2024-05-01 06:00:00", tz="UTC")


def write_run(path, *, start=T0, n=301, lon0=4.0):
    """One FIT run of n samples at 3 m/s from 52 N, lon0 E."""
    index = pd.date_range(start, periods=n, freq="1s", name="timestamp")
    dist = np.arange(n) * 3.0
    rec = pd.DataFrame({"distance_m": dist, "speed_m_s": 3.0, "heart_rate_bpm": 150.0,
                        "cadence_spm": 170.0, "latitude_deg": 52.0 + dist / 111_195.0,
                        "longitude_deg": lon0}, index=index)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_activity_fit(path, rec)
    return path


@pytest.fixture
def two_runners(tmp_path):
    a = [write_run(tmp_path / "a" / "run1.fit", n=301),
         write_run(tmp_path / "a" / "run2.fit", start=T0 + pd.Timedelta(days=1), n=301)]
    b = [write_run(tmp_path / "b" / "run1.fit", n=401, lon0=5.0)]
    store = Store(tmp_path / "store")
    store.import_paths(tmp_path / "a", runner_id="A", progress=False, workers=1)
    store.import_paths(tmp_path / "b", runner_id="B", progress=False, workers=1)
    return store, a, b


def test_two_runners_come_back_apart(two_runners):
    store, _, _ = two_runners
    assert store.runners() == ["A", "B"]
    acts = store.activities()
    assert acts.columns[-1] == "runner_id"
    # 300 and 400 intervals of 3 m (module docstring)
    got = acts.groupby("runner_id")["distance_m"].apply(lambda s: sorted(s.round(0)))
    assert got.to_dict() == {"A": [900.0, 900.0], "B": [1200.0]}
    a_only = store.activities(runner_id="A")
    assert set(a_only["runner_id"]) == {"A"} and len(a_only) == 2
    aid = store.activities("B")["activity_id"].iloc[0]
    assert len(store.runner("B").records(aid)) == 401


def test_same_run_in_two_runners_is_not_a_duplicate(tmp_path):
    # the same start time and distance in two runners: two activities, no duplicate
    write_run(tmp_path / "a" / "x.fit")
    write_run(tmp_path / "b" / "x.fit", lon0=4.001)
    store = Store(tmp_path / "store")
    store.import_paths(tmp_path / "a", runner_id="A", progress=False, workers=1)
    report = store.import_paths(tmp_path / "b", runner_id="B", progress=False, workers=1)
    assert report.counts()["imported"] == 1
    assert len(store.activities()) == 2
    assert store.runner("B").duplicates().empty


def test_duplicates_still_matched_within_a_runner(tmp_path):
    write_run(tmp_path / "a" / "watch.fit")
    write_run(tmp_path / "a" / "copy" / "phone.fit", start=T0 + pd.Timedelta(seconds=30))
    store = Store(tmp_path / "store")
    report = store.import_paths(tmp_path / "a", runner_id="A", progress=False, workers=1)
    assert report.counts()["duplicate"] == 1
    assert len(store.activities("A")) == 1


def test_partitioned_dataset_reads_as_one_table(two_runners):
    store, _, _ = two_runners
    want = store.activities()[["runner_id", "activity_id", "distance_m"]]
    want = want.sort_values(["runner_id", "activity_id"]).reset_index(drop=True)

    def check(got):
        got = got[["runner_id", "activity_id", "distance_m"]].astype({"runner_id": "str"})
        got = got.sort_values(["runner_id", "activity_id"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, check_dtype=False)

    folder = store.path / "activities"
    check(pd.read_parquet(folder))
    check(ds.dataset(folder, format="parquet", partitioning="hive").to_table().to_pandas())
    dd = pytest.importorskip("dask.dataframe")
    check(dd.read_parquet(folder).compute())


def test_single_runner_store_unchanged(tmp_path):
    write_run(tmp_path / "in" / "run.fit")
    store = Store(tmp_path / "store")
    report = store.import_paths(tmp_path / "in", progress=False, workers=1)
    assert report.counts()["imported"] == 1
    # the layout of a single-runner store: tables at the root, as before cohorts
    assert (tmp_path / "store" / "activities.parquet").exists()
    assert not (tmp_path / "store" / "runners").exists()
    assert store.runners() == [DEFAULT_RUNNER_ID]
    acts = store.activities()
    assert list(acts["runner_id"]) == [DEFAULT_RUNNER_ID]
    assert store.runner(DEFAULT_RUNNER_ID) is store
    # an explicit default id and a re-import: unchanged, nothing moved
    again = store.import_paths(tmp_path / "in", runner_id=DEFAULT_RUNNER_ID, progress=False)
    assert again.counts()["unchanged"] == 1


def test_store_written_before_cohorts_still_opens(tmp_path):
    write_run(tmp_path / "in" / "run.fit")
    Store(tmp_path / "store").import_paths(tmp_path / "in", progress=False, workers=1)
    # a store from before runner ids: no partitioned dataset
    import shutil

    shutil.rmtree(tmp_path / "store" / "activities")
    store = Store(tmp_path / "store")
    assert store.runners() == [DEFAULT_RUNNER_ID]
    assert len(store.activities()) == 1
    write_run(tmp_path / "b" / "run.fit", start=T0 + pd.Timedelta(days=3))
    store.import_paths(tmp_path / "b", runner_id="B", progress=False, workers=1)
    assert store.runners() == ["B", DEFAULT_RUNNER_ID]
    assert store.activities()["runner_id"].value_counts().to_dict() == {DEFAULT_RUNNER_ID: 1, "B": 1}


@pytest.mark.parametrize("bad", ["", "a/b", "../x", "-x", "x" * 65, "ä"])
def test_bad_runner_id_is_a_clear_error(tmp_path, bad):
    with pytest.raises(ValueError, match="not a valid runner id"):
        Store(tmp_path / "s").import_paths(tmp_path, runner_id=bad, progress=False)
    with pytest.raises(ValueError, match="letters, digits"):
        check_runner_id(bad)


def test_runner_view_refuses_another_runner(two_runners):
    store, _, _ = two_runners
    with pytest.raises(ValueError, match="holds runner 'A' only"):
        store.runner("A").activities(runner_id="B")


def test_partitions_with_and_without_notes_read_together(tmp_path):
    # runner A's partition has a reader note (list<string>), B's none (empty lists)
    from kneedata.runners import publish_activities

    a = pd.DataFrame({"activity_id": ["a1"], "name": ["Long run"], "warnings": [["clock reset"]]})
    b = pd.DataFrame({"activity_id": ["b1"], "name": [None], "warnings": [[]]})
    publish_activities(tmp_path, "B", b)
    publish_activities(tmp_path, "A", a)
    got = pd.read_parquet(tmp_path / "activities").sort_values("activity_id")
    assert list(got["name"].fillna("-")) == ["Long run", "-"]
    assert [list(w) for w in got["warnings"]] == [["clock reset"], []]


def test_root_finds_records_and_laps_of_any_runner(two_runners):
    # issue 17: the root of a cohort store looks an id up in every runner's folder
    store, _, _ = two_runners
    for rid, n in (("A", 301), ("B", 401)):
        for aid in store.activities(rid)["activity_id"]:
            assert len(store.records(aid)) == n
            pd.testing.assert_frame_equal(store.laps(aid), store.runner(rid).laps(aid))
    # the lazy mapping of the root reads every runner's records
    assert sorted(len(r) for r in store.records_map().values()) == [301, 301, 401]
    with pytest.raises(UnknownActivityError, match="not in the store"):
        store.records("0123456789abcdef-0")


def test_root_lookup_of_an_id_in_two_runners_names_both(tmp_path):
    # the same file imported for two runners: one content hash, two owners
    write_run(tmp_path / "in" / "run.fit")
    store = Store(tmp_path / "store")
    store.import_paths(tmp_path / "in", runner_id="A", progress=False, workers=1)
    store.import_paths(tmp_path / "in", runner_id="B", progress=False, workers=1)
    aid = store.activities("A")["activity_id"].iloc[0]
    assert aid == store.activities("B")["activity_id"].iloc[0]
    with pytest.raises(AmbiguousActivityError, match=r"runners 'A', 'B'.*store.runner\('A'\).records"):
        store.records(aid)
    with pytest.raises(ValueError, match="laps"):
        store.laps(aid)
    with pytest.raises(AmbiguousActivityError):  # the lazy mapping does not pick one either
        store.records_map()[aid]
    assert len(store.runner("B").records(aid)) == 301


def test_root_says_a_runner_lost_a_record_file(two_runners):
    store, _, _ = two_runners
    aid = store.activities("B")["activity_id"].iloc[0]
    part = part_file(store.path / "runners" / "B", aid)
    assert part is not None
    part.unlink()
    with pytest.raises(UnknownActivityError, match="listed but its records"):
        store.records(aid)
