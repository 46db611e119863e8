"""kneedata.cli: the `kneedata` command (import, activities, init, report)."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kneedata.cli import main
from kneedata.testing.fitwrite import write_activity_fit

T0 = pd.Timestamp("2024-05-01 06:00:00", tz="UTC")


def _run_fit(path: Path, start: pd.Timestamp = T0) -> None:
    """A hand-built run: 301 samples 1 s apart at 3 m/s (900 m), 170 steps/min."""
    index = pd.date_range(start, periods=301, freq="1s", name="timestamp")
    rec = pd.DataFrame({"distance_m": np.arange(301) * 3.0, "speed_m_s": 3.0,
                        "cadence_spm": 170.0, "heart_rate_bpm": 150.0}, index=index)
    write_activity_fit(path, rec)


@pytest.fixture
def inputs(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _run_fit(folder / "a.fit")
    _run_fit(folder / "b.fit", T0 + pd.Timedelta(days=1))
    (folder / "broken.fit").write_bytes(b"")
    (folder / "notes.txt").write_text("x")
    return folder


def test_import_summary_and_exit_code(inputs, tmp_path, capsys):
    code = main(["import", str(inputs), "--store", str(tmp_path / "s"), "--workers", "1",
                 "--report-csv", str(tmp_path / "report.csv")])
    out, err = capsys.readouterr()
    assert code == 0  # a failed file is reported, not fatal
    lines = out.splitlines()
    assert [line.split() for line in lines[1:6]] == [
        ["imported", "2"], ["duplicate", "0"], ["unchanged", "0"], ["failed", "1"],
        ["not_an_activity", "1"]]
    assert "failed:" in out and f"{inputs / 'broken.fit'}: " in out and "0 bytes" in out
    assert "import" not in err  # not a terminal: no progress bar, the summary is printed
    report = pd.read_csv(tmp_path / "report.csv")
    assert list(report.columns) == ["path", "status", "activity_ids", "reason"]
    assert len(report) == 4

    main(["import", str(inputs), "--store", str(tmp_path / "s"), "--no-progress"])
    out, err = capsys.readouterr()
    counts = [line.split() for line in out.splitlines()]
    assert ["unchanged", "3"] in counts and err == ""
    assert ["failed", "1"] in counts  # still broken: reported until the file changes


def test_usage_errors_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["import", str(tmp_path / "missing"), "--store", str(tmp_path / "s")])
    assert exc.value.code == 2
    assert "no such file or folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["import", str(tmp_path), "--workers", "0"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["report", "--store", str(tmp_path)])  # --out is required
    assert exc.value.code == 2


def test_activities_table_and_csv(inputs, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KNEEDATA_STORE", str(tmp_path / "env_store"))
    assert main(["activities"]) == 1  # no store there yet: said, and nothing created
    assert "no store at" in capsys.readouterr().err
    assert not (tmp_path / "env_store").exists()
    main(["import", str(inputs), "--no-progress", "--workers", "1"])  # default store from env
    capsys.readouterr()
    assert main(["activities"]) == 0
    out = capsys.readouterr().out
    assert "2 activities in" in out and str(tmp_path / "env_store") in out
    assert "0.9" in out  # 900 m shown as 0.9 km
    assert main(["activities", "--csv", str(tmp_path / "acts.csv")]) == 0
    frame = pd.read_csv(tmp_path / "acts.csv")
    assert len(frame) == 2
    assert frame["source_files"].tolist() == [str(inputs / "a.fit"), str(inputs / "b.fit")]
    assert frame["distance_m"].tolist() == pytest.approx([900.0, 900.0])


def test_init_writes_templates(tmp_path, capsys):
    assert main(["init", str(tmp_path / "diary")]) == 0
    assert (tmp_path / "diary" / "pain_diary.csv").read_text().startswith(
        "date,time,side,site,pain_0_10,timing,activity_id,notes")
    assert "wrote" in capsys.readouterr().out
    assert main(["init", str(tmp_path / "diary")]) == 1  # refuses to overwrite
    assert "error" in capsys.readouterr().err
    assert main(["init", str(tmp_path / "diary"), "--force"]) == 0


def test_report_passes_its_arguments(tmp_path, monkeypatch, capsys):
    calls = []

    def fake_write_report(store, *, diary=None, shoes=None, routines=None, out,
                          shoe_periods=None, dayfirst=False, complete=False, progress=True,
                          pace="min/km"):
        calls.append((store, diary, shoes, routines, out, dayfirst, complete, progress, pace))
        return Path(out) / "report.html"

    module = types.ModuleType("kneedata.report")
    module.write_report = fake_write_report  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kneedata.report", module)
    monkeypatch.chdir(tmp_path)
    for name in ("d.csv", "s.csv", "r.csv"):
        (tmp_path / name).write_text("")
    code = main(["report", "--store", str(tmp_path / "s"), "--diary", "d.csv", "--shoes", "s.csv",
                 "--routines", "r.csv", "--out", str(tmp_path / "out"), "--no-progress",
                 "--dayfirst", "--pace", "min/mi"])
    assert code == 0
    (store, diary, shoes, routines, out, dayfirst, complete, progress, pace), = calls
    assert pace == "min/mi"
    assert store.path == tmp_path / "s"
    assert (diary, shoes, routines, out, progress) == ("d.csv", "s.csv", "r.csv", str(tmp_path / "out"), False)
    assert (dayfirst, complete) == (True, False)  # --complete-diary not given: gaps are unknown
    assert str(tmp_path / "out" / "report.html") in capsys.readouterr().out


def test_console_entry_point(tmp_path):
    exe = Path(sys.executable).parent / "kneedata"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "kneedata.cli"]
    done = subprocess.run([*cmd, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for word in ("import", "activities", "init", "report"):
        assert word in done.stdout


@pytest.mark.parametrize("option", ["--diary", "--shoes", "--routines", "--shoe-periods"])
def test_report_log_paths_give_one_line_errors(tmp_path, capsys, option):
    # issue 13: a folder ended in an IsADirectoryError traceback, a typo in a bare [Errno 2]
    (tmp_path / "mydiary").mkdir()
    base = ["report", "--store", str(tmp_path / "s"), "--out", str(tmp_path / "out")]
    assert main([*base, option, str(tmp_path / "mydiary")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{option} {tmp_path / 'mydiary'} is a folder" in err and "(.csv or .xlsx)" in err
    assert f"kneedata init {tmp_path / 'mydiary'}" in err
    assert main([*base, option, str(tmp_path / "mydairy.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err and "mydairy.csv" in err
    assert "kneedata init" in err
    assert not (tmp_path / "out").exists()


def test_report_diary_folder_holding_the_diary_is_suggested(tmp_path, capsys):
    main(["init", str(tmp_path / "logs")])
    capsys.readouterr()
    assert main(["report", "--store", str(tmp_path / "s"), "--out", str(tmp_path / "o"),
                 "--diary", str(tmp_path / "logs")]) == 2
    assert f"did you mean {tmp_path / 'logs' / 'pain_diary.csv'}?" in capsys.readouterr().err


def test_activities_on_a_missing_store_creates_nothing(tmp_path, capsys):
    # issue 13: `kneedata activities --store missing/` created the folder and exited 0
    assert main(["activities", "--store", str(tmp_path / "missing")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"no store at {tmp_path / 'missing'}" in err and "kneedata import" in err
    assert not (tmp_path / "missing").exists()


def test_version(capsys):
    from kneedata import __version__

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"kneedata {__version__}"
