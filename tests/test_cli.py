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
                          pace=None, units="km", options=None, words=None):
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


# --- issue 25: the runner's own measures and units, through the one DeriveOptions ----------


def _fake_report(monkeypatch):
    """Replace kneedata.report.write_report; returns the list of keyword dicts it got."""
    calls: list[dict] = []

    def fake_write_report(store, **kwargs):
        calls.append(kwargs)
        return Path(kwargs["out"]) / "report.html"

    module = types.ModuleType("kneedata.report")
    module.write_report = fake_write_report  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kneedata.report", module)
    return calls


def test_report_flags_build_the_one_derive_options(tmp_path, monkeypatch):
    import kneedata as kd

    calls = _fake_report(monkeypatch)
    assert main(["report", "--store", str(tmp_path / "s"), "--out", str(tmp_path / "o"),
                 "--no-progress", "--height-m", "1.81", "--leg-length-m", "0.95",
                 "--hr-rest", "48", "--hr-max", "191", "--threshold", "4",
                 "--washout-days", "10", "--complete-diary", "--units", "mi"]) == 0
    (kwargs,) = calls
    assert kwargs["options"] == kd.DeriveOptions(height_m=1.81, leg_length_m=0.95,
                                                 hr_rest_bpm=48.0, hr_max_bpm=191.0,
                                                 threshold=4.0, washout_days=10, complete=True)
    assert kwargs["units"] == "mi" and kwargs["pace"] is None  # the pace follows the units
    assert main(["report", "--store", str(tmp_path / "s"), "--out", str(tmp_path / "o"),
                 "--no-progress"]) == 0
    assert calls[1]["options"] == kd.DeriveOptions() and calls[1]["units"] is None  # km


@pytest.mark.parametrize(("flags", "needle"), [
    (["--height-m", "180"], "--height-m 180 is outside the plausible range 1-2.5 m"),
    (["--leg-length-m", "0.2"], "--leg-length-m 0.2 is outside the plausible range 0.5-1.4 m"),
    (["--hr-rest", "5"], "--hr-rest 5 is outside the plausible range 25-120 beats/min"),
    (["--hr-max", "300"], "--hr-max 300 is outside the plausible range 100-230 beats/min"),
    (["--threshold", "11"], "--threshold 11 is outside the plausible range 0.5-10 (the pain score"),
    (["--washout-days", "0"], "--washout-days 0 is not a whole number in 1-365 d"),
    (["--hr-rest", "110", "--hr-max", "105", "--height-m", "1.7"],
     "--hr-max 105 must be above --hr-rest 110"),
])
def test_out_of_range_flag_is_one_line_naming_flag_value_and_range(tmp_path, capsys, flags,
                                                                   needle):
    code = main(["report", "--store", str(tmp_path / "s"), "--out", str(tmp_path / "o"), *flags])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert needle in err and "height_m" not in err and "DeriveOptions" not in err
    assert not (tmp_path / "o").exists()


def test_one_range_table_for_flags_python_and_manifest(tmp_path):
    """The CLI, DeriveOptions, gait_metrics and the manifest share kneedata.schema.OPTIONS."""
    import kneedata as kd
    from kneedata.cohort import read_manifest
    from kneedata.errors import SchemaError

    # pipeline.py allowed 0.5-2.6 m, cohort.py 1.0-2.5 m: 0.7 m passed one and not the other
    with pytest.raises(ValueError, match=r"height_m=0\.7 is outside the plausible range 1-2\.5 m"):
        kd.DeriveOptions(height_m=0.7)
    with pytest.raises(ValueError, match=r"hr_max_bpm=105.0 must be above hr_rest_bpm=110"):
        kd.DeriveOptions(hr_rest_bpm=110.0, hr_max_bpm=105.0)
    (tmp_path / "m.csv").write_text("runner_id,path,height_m\nann,a,0.7\n")
    with pytest.raises(SchemaError, match=r"height_m '0\.7' is outside the plausible range 1-2\.5"):
        read_manifest(tmp_path / "m.csv")


@pytest.mark.slow
def test_report_options_reach_every_metric_end_to_end(inputs, tmp_path, monkeypatch):
    """--height-m fills step_length_height_ratio, --hr-rest/--hr-max are TRIMP's bounds."""
    import kneedata.report as report

    seen = []
    real = report.derive

    def spy(*args, **kwargs):
        seen.append(real(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(report, "derive", spy)
    store = str(tmp_path / "s")
    assert main(["import", str(inputs / "a.fit"), str(inputs / "b.fit"), "--store", store,
                 "--workers", "1", "--no-progress"]) == 0
    base = ["report", "--store", store, "--no-progress"]
    assert main([*base, "--out", str(tmp_path / "plain")]) == 0
    assert main([*base, "--out", str(tmp_path / "own"), "--height-m", "1.80",
                 "--hr-rest", "50", "--hr-max", "190", "--units", "mi"]) == 0
    plain, own = seen
    page = (tmp_path / "plain" / "report.html").read_text(encoding="utf-8")
    assert "Give --hr-rest and --hr-max for TRIMP" in page  # the CLI's words on its page
    assert "hr_rest_bpm=" not in page
    assert "HR rest assumed" not in (tmp_path / "own" / "report.html").read_text(encoding="utf-8")
    assert plain.gait["step_length_height_ratio"].isna().all()  # no height: NaN (issue 25)
    # 3 m/s x 60 / 170 steps/min = 1.059 m per step, / 1.80 m
    assert own.gait["step_length_height_ratio"].to_numpy() == pytest.approx(3 * 60 / 170 / 1.8,
                                                                              rel=0.01)
    assert (own.daily.attrs["hr_rest_bpm"], own.daily.attrs["hr_max_bpm"]) == (50.0, 190.0)
    assert plain.daily.attrs["hr_rest_bpm"] == 60.0  # the assumed default
    day = own.daily["trimp"].to_numpy()[0]
    assert day != pytest.approx(plain.daily["trimp"].to_numpy()[0])
    hr_reserve = (150 - 50) / (190 - 50)  # Banister TRIMP (kneedata.metrics.load.daily_load)
    assert day == pytest.approx(5 * hr_reserve * 0.64 * np.exp(1.92 * hr_reserve), rel=0.02)
    assert "HR rest given" in own.daily.attrs["hr_source"]


def test_manifest_report_refuses_one_runners_measures(tmp_path, capsys):
    (tmp_path / "m.csv").write_text("runner_id,path\nann,a\n")
    code = main(["report", "--manifest", str(tmp_path / "m.csv"), "--store", str(tmp_path),
                 "--out", str(tmp_path / "o"), "--height-m", "1.8"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "--height-m" in err and "height_m" in err and "manifest" in err


def test_activities_in_miles(inputs, tmp_path, capsys):
    store = str(tmp_path / "s")
    main(["import", str(inputs / "a.fit"), "--store", store, "--workers", "1", "--no-progress"])
    capsys.readouterr()
    assert main(["activities", "--store", store, "--units", "mi"]) == 0
    out = capsys.readouterr().out
    header, row = out.splitlines()[:2]
    assert "distance_mi" in header and "distance_km" not in header
    assert "0.56" in row.split()  # 900 m = 0.559 mi
    assert main(["activities", "--store", store]) == 0
    assert "0.9" in capsys.readouterr().out.splitlines()[1].split()


# --- issue 25: messages name the CLI's flags; folders that cannot be written ---------


def test_messages_name_flags_not_python_arguments(inputs, tmp_path, capsys):
    assert main(["init", str(tmp_path / "t")]) == 0
    assert main(["init", str(tmp_path / "t")]) == 1
    err = capsys.readouterr().err
    assert "add --force" in err and "overwrite=True" not in err
    assert main(["activities", "--store", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err
    assert "kneedata import PATH --store" in err and "Store(" not in err
    days = pd.date_range("2024-03-01", periods=41, freq="D")
    (tmp_path / "d.csv").write_text("date,side,pain_0_10\n" + "".join(
        f"{d:%d/%m/%Y},left,1\n" for d in days))
    main(["import", str(inputs / "a.fit"), "--store", str(tmp_path / "s"), "--no-progress"])
    capsys.readouterr()
    assert main(["report", "--store", str(tmp_path / "s"), "--out", str(tmp_path / "o"),
                 "--diary", str(tmp_path / "d.csv"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1  # before: 41 lines, one per row
    assert "all 41 dates look day/month/year" in err and "add --dayfirst" in err
    assert "dayfirst=True" not in err
    assert not (tmp_path / "o").exists()  # the early --out check leaves nothing behind


def test_a_warning_during_a_command_is_a_plain_note_in_cli_words(tmp_path, monkeypatch, capsys):
    import warnings

    import kneedata.io.diary as diary_module
    from kneedata.errors import DataQualityWarning

    def warn_and_write(folder, overwrite=False):
        warnings.warn("TRIMP: HR rest assumed. Pass hr_rest_bpm= and hr_max_bpm= for TRIMP",
                      DataQualityWarning, stacklevel=2)
        return []

    monkeypatch.setattr(diary_module, "write_templates", warn_and_write)
    assert main(["init", str(tmp_path / "t")]) == 0
    err = capsys.readouterr().err
    assert err == "kneedata: note: TRIMP: HR rest assumed. Give --hr-rest and --hr-max for TRIMP\n"


def test_unwritable_folder_is_a_plain_sentence(tmp_path, monkeypatch, capsys):
    import errno

    def refuse(self, *args, **kwargs):
        raise PermissionError(errno.EPERM, "Operation not permitted", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    assert main(["init", str(tmp_path / "locked" / "logs")]) == 1
    err = capsys.readouterr().err
    assert "[Errno" not in err and err.count("\n") == 1
    assert f"the folder {tmp_path / 'locked'} cannot be written" in err
    assert "the FOLDER argument" in err and "Choose a folder you can write to" in err


def test_manifest_report_passes_threshold_and_washout_to_every_runner(tmp_path, monkeypatch):
    calls = []

    def fake_cohort_report(store, manifest, **kwargs):
        calls.append(kwargs)
        return Path(kwargs["out"]) / "report.html"

    module = types.ModuleType("kneedata.cohort_report")
    module.write_cohort_report = fake_cohort_report  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kneedata.cohort_report", module)
    (tmp_path / "m.csv").write_text("runner_id,path\nann,a\n")
    base = ["report", "--manifest", str(tmp_path / "m.csv"), "--store", str(tmp_path),
            "--out", str(tmp_path / "o"), "--no-progress"]
    assert main([*base, "--threshold", "5", "--washout-days", "21"]) == 0
    assert main(base) == 0
    assert [c["options"] for c in calls] == [{"threshold": 5.0, "washout_days": 21}, {}]
