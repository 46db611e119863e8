"""A killed zip import resumes without losing a member: a container is settled only
when every member is (checkpoints record members, the archive last).

The kill is simulated at every checkpoint: the k-th table write goes through, every
later write fails (as after ``kill -9``: nothing more reaches the disk). One case is a
real ``SIGKILL`` of a subprocess right after a checkpoint.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pandas as pd
import pytest

import kneedata.store.importer as importer
from kneedata.store import Store
from kneedata.testing.fitwrite import write_activity_fit

T0 = pd.Timestamp("2024-05-01 06:00:00", tz="UTC")
N_RUNS = 6


def _fit(start: pd.Timestamp, n: int = 61) -> bytes:
    index = pd.date_range(start, periods=n, freq="1s", name="timestamp")
    dist = np.arange(n) * 3.0
    records = pd.DataFrame({"distance_m": dist, "speed_m_s": np.full(n, 3.0),
                            "latitude_deg": 52.0 + dist / 111_195.0, "longitude_deg": np.full(n, 4.0)},
                           index=index)
    return write_activity_fit(None, records, sport="running")


def _export(path) -> None:
    """A zip of N_RUNS runs on different days, a note, and a nested zip with one more run."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("deep.fit", _fit(T0 + pd.Timedelta(days=N_RUNS)))
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(N_RUNS):
            zf.writestr(f"activities/run{i}.fit", _fit(T0 + pd.Timedelta(days=i)))
        zf.writestr("notes.txt", b"not an activity")
        zf.writestr("more.zip", inner.getvalue())


class Killed(BaseException):
    """What a kill -9 does to the rest of the import: nothing more is written."""


def _kill_after(monkeypatch, k: int) -> list[int]:
    calls = [0]
    real = importer.write_tables

    def write(*args, **kwargs):
        calls[0] += 1
        if calls[0] > k:
            raise Killed
        real(*args, **kwargs)
    monkeypatch.setattr(importer, "write_tables", write)
    return calls


def _complete(store: Store) -> tuple[int, int]:
    ids = set(store.activities()["activity_id"]) | set(store.duplicates()["activity_id"])
    for aid in ids:  # each one's records readable, whatever the layout on disk
        assert len(store.records(aid)) > 0, f"activity {aid} without its records"
    return len(store.activities()), len(ids)


def _reference(tmp_path, zip_path) -> tuple[pd.DataFrame, int]:
    store = Store(tmp_path / "ref", checkpoint_every=1)
    report = store.import_paths([zip_path], workers=1, progress=False).to_frame()
    return report, len(store.activities())


def test_kill_at_every_checkpoint_of_a_zip_loses_nothing(tmp_path, monkeypatch):
    zip_path = tmp_path / "export.zip"
    _export(zip_path)
    ref_rows, n_acts = _reference(tmp_path, zip_path)
    assert n_acts == N_RUNS + 1 and len(ref_rows) == N_RUNS + 4  # zip, 6 + 1 runs, note, nested zip
    k = 1
    while True:
        store = Store(tmp_path / f"s{k}", checkpoint_every=1)
        with monkeypatch.context() as patch:
            calls = _kill_after(patch, k)
            try:
                store.import_paths([zip_path], workers=1, progress=False)
                finished = True
            except Killed:
                finished = False
        assert calls[0] >= k
        resumed = Store(tmp_path / f"s{k}", checkpoint_every=1).import_paths(
            [zip_path], workers=1, progress=False).to_frame()
        assert sorted(resumed["path"]) == sorted(ref_rows["path"]), f"kill after checkpoint {k}"
        assert not resumed["status"].eq("failed").any()
        assert _complete(Store(tmp_path / f"s{k}")) == (n_acts, n_acts), f"kill after checkpoint {k}"
        # and a third import finds everything unchanged
        again = Store(tmp_path / f"s{k}").import_paths([zip_path], workers=1, progress=False).to_frame()
        assert again["status"].eq("unchanged").all() and len(again) == len(ref_rows)
        if finished:
            break
        k += 1
    assert k >= N_RUNS  # one checkpoint per member read at least


_KILLING_IMPORT = textwrap.dedent("""
    import os, signal, sys
    import kneedata.store.importer as importer
    from kneedata.store import Store
    real, calls = importer.write_tables, [0]
    def write(*args, **kwargs):
        real(*args, **kwargs)
        calls[0] += 1
        if calls[0] == int(sys.argv[3]):
            os.kill(os.getpid(), signal.SIGKILL)
    importer.write_tables = write
    Store(sys.argv[1], checkpoint_every=1).import_paths([sys.argv[2]], workers=1, progress=False)
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_after_the_first_checkpoint_of_a_zip_loses_nothing(tmp_path):
    zip_path = tmp_path / "export.zip"
    _export(zip_path)
    _, n_acts = _reference(tmp_path, zip_path)
    store_dir = tmp_path / "s"
    proc = subprocess.run([sys.executable, "-c", _KILLING_IMPORT, str(store_dir), str(zip_path), "2"],
                          capture_output=True, timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    Store(store_dir).import_paths([zip_path], workers=1, progress=False)
    assert _complete(Store(store_dir)) == (n_acts, n_acts)
