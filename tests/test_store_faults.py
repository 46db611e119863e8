"""Store and command-line faults found by fault injection (issue 14), one test each.

Hand-built runs as in tests/test_store.py: 1 sample/s at 3 m/s due north from
52 N 4 E, written as FIT by kneedata.testing.fitwrite.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kneedata.store import Store
from kneedata.store.dataset import stored_ids
from kneedata.testing.fitwrite import write_activity_fit

T0 = pd.Timestamp("2024-05-01 06:00:00", tz="UTC")


def _fit(start: pd.Timestamp = T0, *, sport: str = "running", n: int = 121) -> bytes:
    index = pd.date_range(start, periods=n, freq="1s", name="timestamp")
    dist = np.arange(n) * 3.0
    records = pd.DataFrame({"distance_m": dist, "speed_m_s": np.full(n, 3.0),
                            "latitude_deg": 52.0 + dist / 111_195.0, "longitude_deg": np.full(n, 4.0),
                            "heart_rate_bpm": np.full(n, 150.0)}, index=index)
    return write_activity_fit(None, records, sport=sport)


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile: "Duplicate name"
        for name, data in members:
            zf.writestr(name, data)
    return buffer.getvalue()


# --------------------------------------------------------------------------------
# 5. duplicate zip member names


def test_duplicate_member_names_are_all_imported(tmp_path):
    run, ride = _fit(T0), _fit(T0 + pd.Timedelta(hours=3), sport="cycling")
    other = _fit(T0 + pd.Timedelta(days=1))
    path = tmp_path / "dups.zip"
    path.write_bytes(_zip([("a.fit", run), ("a.fit", ride), ("b.fit", other)]))
    store = Store(tmp_path / "s")
    report = store.import_paths([path], workers=1, progress=False)
    rows = report.to_frame()
    members = rows[rows["path"].str.contains("::")]
    assert len(members) == 3  # a.fit, a.fit again, b.fit
    assert members["path"].is_unique
    acts = store.activities()
    assert sorted(acts["sport"]) == ["cycling", "running", "running"]  # the ride is not lost
    again = store.import_paths([path], workers=1, progress=False)
    assert set(again.to_frame()["status"]) == {"unchanged"}


def test_member_named_like_a_nested_member_does_not_collide(tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("x.fit", _fit(T0))
    path = tmp_path / "outer.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("in.zip::x.fit", _fit(T0 + pd.Timedelta(days=2)))
        zf.writestr("in.zip", inner.getvalue())
    store = Store(tmp_path / "s")
    report = store.import_paths([path], workers=1, progress=False)
    rows = report.to_frame()
    assert rows["path"].is_unique
    assert (rows["status"] == "imported").sum() == 2
    assert len(store.activities()) == 2


# --------------------------------------------------------------------------------
# 8. read-only and full disks at the command line


@pytest.mark.parametrize("errno_, where", [(30, "lock"), (28, "commit")])
def test_cli_disk_errors_are_one_line_and_leave_the_store(tmp_path, monkeypatch, capsys, errno_, where):
    import kneedata.store.checkpoint as checkpoint_module
    import kneedata.store.core as store_module
    from kneedata.cli import main

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.fit").write_bytes(_fit(T0))
    store_dir = tmp_path / "s"
    assert main(["import", str(folder), "--store", str(store_dir), "--workers", "1", "--no-progress"]) == 0
    before = Store(store_dir).activities()
    (folder / "b.fit").write_bytes(_fit(T0 + pd.Timedelta(days=1)))
    text = os.strerror(errno_)
    if where == "lock":
        def refuse(self):
            raise OSError(errno_, text, str(store_dir / ".lock"))
        monkeypatch.setattr(store_module.Store, "_lock", refuse)
    else:
        real = checkpoint_module.atomic_parquet

        def full(frame, dest, **kw):
            if dest.name == "activities.parquet":
                raise OSError(errno_, text, str(dest))
            return real(frame, dest, **kw)
        monkeypatch.setattr(checkpoint_module, "atomic_parquet", full)
    capsys.readouterr()
    report_csv = tmp_path / "report.csv"
    code = main(["import", str(folder), "--store", str(store_dir), "--workers", "1", "--no-progress",
                 "--report-csv", str(report_csv)])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert text.lower() in err.lower() and "store" in err  # the cause, in the plain sentence
    monkeypatch.undo()
    pd.testing.assert_frame_equal(Store(store_dir).activities(), before)  # unchanged
    rows = pd.read_csv(report_csv)
    assert rows["status"].tolist() == ["failed"] and text in rows["reason"].iloc[0]


# --------------------------------------------------------------------------------
# 9. SIGKILL during an import: no process outlives it, orphans are cleaned next time

_IMPORT = textwrap.dedent("""
    import sys
    from kneedata.store import Store
    Store(sys.argv[1], checkpoint_every=4).import_paths([sys.argv[2]], workers=2, progress=False)
""")


def _session_processes(sid: int) -> list[int]:
    """Live (not zombie) processes of session ``sid`` (Linux /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:  # state, ppid, pgrp, session
            out.append(int(entry.name))
    return out


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc to list processes")
def test_sigkill_during_import_leaves_no_process_and_no_orphan(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    data = _fit(T0, n=600)
    for i in range(16):  # copies: every one is read by a worker
        (folder / f"run{i:02d}.fit").write_bytes(data)
    store_dir = tmp_path / "s"
    proc = subprocess.Popen([sys.executable, "-c", _IMPORT, str(store_dir), str(folder)],
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sid = proc.pid  # a new session: every process the import starts is in it
    deadline = time.monotonic() + 120
    while not any((store_dir / "records").glob("part-*.parquet")) and proc.poll() is None:
        assert time.monotonic() < deadline, "the import wrote no record file in 120 s"
        time.sleep(0.05)
    assert proc.poll() is None, "the import ended before it could be killed"
    workers = [p for p in _session_processes(sid) if p != proc.pid]
    assert workers  # the forkserver and the pool workers
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 15  # workers check every 0.5 s
    while _session_processes(sid) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = _session_processes(sid)
    for pid in left:  # do not leave them running on the machine
        os.kill(pid, signal.SIGKILL)
    assert not left, f"{len(left)} process(es) of the killed import still running after 15 s"

    stray = store_dir / "records" / "0123456789abcdef-0.parquet"
    stray.write_bytes(b"left by a killed worker")
    stray_part = store_dir / "records" / "part-0123.parquet"  # written, never indexed
    stray_part.write_bytes(b"left by a killed import")
    store = Store(store_dir)
    report = store.import_paths([folder], workers=1, progress=False)
    assert len(report.rows) == 16 and not report.failures().shape[0]
    ids = set(store.activities()["activity_id"]) | set(store.duplicates()["activity_id"])
    assert stored_ids(store_dir) == ids  # no orphan record, none missing
    assert not stray.exists() and not stray_part.exists()


# --------------------------------------------------------------------------------
# 10. formula injection in the CSVs the command line writes


def test_activities_csv_defuses_spreadsheet_formulas(tmp_path, capsys):
    from kneedata.cli import main

    export = tmp_path / "export"
    (export / "activities").mkdir(parents=True)
    (export / "activities" / "1.fit").write_bytes(_fit(T0))
    name = "=cmd|' /C calc'!A0"
    (export / "activities.csv").write_text(
        "Activity ID,Activity Date,Activity Name,Activity Type,Filename\n"
        f'1,"May 1, 2024, 6:00:00 AM","{name}",Run,activities/1.fit\n')
    store_dir = tmp_path / "s"
    assert main(["import", str(export), "--store", str(store_dir), "--workers", "1", "--no-progress"]) == 0
    assert Store(store_dir).activities()["name"].tolist() == [name]  # stored as given
    out = tmp_path / "acts.csv"
    assert main(["activities", "--store", str(store_dir), "--csv", str(out)]) == 0
    written = pd.read_csv(out)
    assert written["name"].tolist() == ["'" + name]
    assert written["distance_m"].iloc[0] == pytest.approx(360.0)  # numbers untouched: 120 s at 3 m/s
