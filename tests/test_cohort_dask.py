"""A small simulated cohort as real files, imported and derived on a Dask LocalCluster.

The cohort comes from kneedata.simulate_cohort (the hazard model) written as FIT runs
and diary CSVs by kneedata.simulate_files; the onsets the derived frame finds must be
the simulated ones (the diary holds every pain day), and the Dask result must equal
the in-process result.
"""

from __future__ import annotations

import pandas as pd
import pyarrow.dataset as ds
import pytest

import kneedata as kd
from kneedata.cohort import derive_cohort, import_cohort, read_cohort_frame
from kneedata.simulate_files import write_cohort_files

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    root = tmp_path_factory.mktemp("cohort")
    sim = kd.simulate_cohort(3, 75, seed=11, runner_ids=["ana", "ben", "cai"])
    written = write_cohort_files(sim, root / "files", seed=1)
    return root, sim, written


@pytest.mark.slow
def test_import_and_derive_on_a_local_cluster(cohort):
    root, sim, written = cohort
    manifest = root / "files" / "runners.csv"
    # threads in this process (inproc comms) for the 2-worker run; the test below and
    # the benchmark run worker processes on the loopback interface
    with distributed.LocalCluster(n_workers=2, processes=False, threads_per_worker=1,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        executor = client.get_executor()
        imported = import_cohort(root / "store", manifest, executor=executor, progress=False)
        derived = derive_cohort(root / "store", manifest, out=root / "frame", executor=executor,
                                progress=False, complete=True)
    assert imported.runners.set_index("runner_id")["imported"].to_dict() == \
        written.set_index("runner_id")["n_runs"].to_dict()
    assert (derived.runners["status"] == "ok").all()
    frame = derived.frame()
    assert sorted(frame["runner_id"].unique()) == ["ana", "ben", "cai"]

    # the outcome: every simulated onset found on its day, and no other
    got = frame.set_index(["runner_id", "date"])["onset"]
    want = sim.set_index(["runner_id", "date"])["onset"].reindex(got.index)
    assert (got.astype(bool) == want.astype(bool)).all()
    # exposures from the files: the runs are where the simulation put them
    runs = frame.set_index(["runner_id", "date"])["n_runs"].fillna(0)
    sim_runs = sim.set_index(["runner_id", "date"])["n_runs"].reindex(runs.index)
    assert (runs == sim_runs).all()

    # the same frame in this process, and through pyarrow's dataset reader
    serial = derive_cohort(root / "store", manifest, out=root / "serial", progress=False,
                           complete=True)
    pd.testing.assert_frame_equal(serial.frame(), frame)
    table = ds.dataset(root / "frame", format="parquet", partitioning="hive").to_table()
    assert table.num_rows == len(frame) == len(sim)


@pytest.mark.slow
def test_cohort_frame_built_by_worker_processes_on_loopback(cohort, tmp_path):
    """The cohort frame built by a LocalCluster of worker *processes* talking TCP on
    127.0.0.1 (as on a real cluster): same frame as in this process, built elsewhere."""
    import os

    root, sim, _ = cohort
    manifest = root / "files" / "runners.csv"
    import_cohort(tmp_path / "store", manifest, progress=False)
    with distributed.LocalCluster(n_workers=1, processes=True, threads_per_worker=1,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        derived = derive_cohort(tmp_path / "store", manifest, out=tmp_path / "frame",
                                executor=client.get_executor(), progress=False, complete=True)
    assert (derived.runners["status"] == "ok").all()
    assert os.getpid() not in set(derived.runners["pid"])  # derived in the worker process
    serial = derive_cohort(tmp_path / "store", manifest, out=tmp_path / "serial", progress=False,
                           complete=True)
    pd.testing.assert_frame_equal(serial.frame(), derived.frame())
    assert len(derived.frame()) == len(sim)


def test_a_bad_runner_does_not_stop_the_cohort(cohort, tmp_path):
    root, _, _ = cohort
    store = kd.Store(tmp_path / "store")
    (tmp_path / "m.csv").write_text(
        f"runner_id,path,diary\n"
        f"ana,{root / 'files' / 'ana' / 'watch'},{root / 'files' / 'ana' / 'pain_diary.csv'}\n"
        f"ben,{root / 'files' / 'ben' / 'watch'},\n"                    # no diary
        f"cai,{root / 'files' / 'cai' / 'watch'},{tmp_path / 'gone.csv'}\n")  # missing diary
    import_cohort(store, tmp_path / "m.csv", progress=False)
    result = derive_cohort(store, tmp_path / "m.csv", out=tmp_path / "frame", progress=False)
    status = result.runners.set_index("runner_id")
    assert status.loc["ana", "status"] == "ok"
    assert status.loc["ben", "status"] == "failed" and "no pain diary" in status.loc["ben", "reason"]
    assert status.loc["cai", "status"] == "failed" and "gone.csv" in status.loc["cai", "reason"]
    assert list(read_cohort_frame(tmp_path / "frame")["runner_id"].unique()) == ["ana"]


def test_cohort_report_from_the_command_line(cohort, tmp_path):
    from kneedata.cli import main

    root, sim, _ = cohort
    manifest = root / "files" / "runners.csv"
    import_cohort(tmp_path / "store", manifest, progress=False)
    code = main(["report", "--manifest", str(manifest), "--store", str(tmp_path / "store"),
                 "--out", str(tmp_path / "out"), "--complete-diary", "--no-progress"])
    assert code == 0
    page = (tmp_path / "out" / "report.html").read_text()
    assert "3 of 3 runners derived" in page
    if sim["onset"].any():  # seed 11 gives onsets: the designs are compared
        assert "case series / conditional Poisson (runner x 91-day strata)" in page
        assert "pooled GEE" in page
    assert "not medical advice" in page
