"""Faults found by fuzzing and fault injection (issue 14), one test each.

Every file here is hand-built text: a steady run along the equator, 11 points one
second apart at 3 m/s, plus one hostile change (a date past 2262, ``inf``, a bogus
encoding name, a long prolog ...). The expectation is the same throughout: the
damage is dropped with a note or the file is refused with a FileFormatError;
never a wrong value stored.
"""

from __future__ import annotations

import gzip
import math
import tracemalloc
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

from kneedata.errors import DataQualityWarning, FileFormatError
from kneedata.io.exports import ZipLimits, iter_zip
from kneedata.io.read import read_activities, read_activities_bytes

T0 = pd.Timestamp("2024-06-01 06:00:00", tz="UTC")
GPX_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="{creator}" '
            'xmlns="http://www.topografix.com/GPX/1/1">')
TCX_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<TrainingCenterDatabase '
            'xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">')
DEG_PER_M = 1 / 111_194.93  # one degree of longitude on the equator is 111 194.93 m


def _iso(t_s: float) -> str:
    return (T0 + pd.Timedelta(seconds=t_s)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _gpx(times: list[str] | None = None, *, ele: str = "100", creator: str = "hand",
         sport: str = "running", prolog: str = "") -> bytes:
    times = times or [_iso(i) for i in range(11)]
    pts = "".join(
        f'<trkpt lat="0" lon="{10 + 3.0 * i * DEG_PER_M:.10f}"><ele>{ele}</ele><time>{t}</time></trkpt>'
        for i, t in enumerate(times)
    )
    head = GPX_HEAD.format(creator=creator)
    if prolog:
        head = head.replace("\n", "\n" + prolog + "\n", 1)
    return f"{head}<trk><type>{sport}</type><trkseg>{pts}</trkseg></trk></gpx>".encode()


def _tcx(times: list[str] | None = None, *, distance: str | None = None, lap_distance: str = "30") -> bytes:
    times = times or [_iso(i) for i in range(11)]
    tps = "".join(
        f"<Trackpoint><Time>{t}</Time><DistanceMeters>{distance or f'{3.0 * i:g}'}</DistanceMeters>"
        "</Trackpoint>"
        for i, t in enumerate(times)
    )
    lap = (f'<Lap StartTime="{times[0]}"><TotalTimeSeconds>10</TotalTimeSeconds>'
           f"<DistanceMeters>{lap_distance}</DistanceMeters><Track>{tps}</Track></Lap>")
    return f'{TCX_HEAD}<Activities><Activity Sport="Running">{lap}</Activity></Activities></TrainingCenterDatabase>'.encode()


def _read(data: bytes, name: str) -> tuple[list, list[str]]:
    """Activities and the DataQualityWarning texts; any other warning fails the test."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        acts = read_activities_bytes(data, name)
    others = [w for w in caught if not issubclass(w.category, DataQualityWarning)]
    assert not others, [str(w.message) for w in others]
    return acts, [str(w.message) for w in caught]


# --------------------------------------------------------------------------------
# 1. dates past 2262 and single glitch points


@pytest.mark.parametrize("kind", ["gpx", "tcx"])
@pytest.mark.parametrize("bad", ["9999-12-31T00:00:00Z", "2262-04-12T00:00:00Z", "1970-01-01T00:00:00Z",
                                 "1677-09-21T00:00:00Z"])
def test_a_point_dated_far_from_the_run_is_dropped_with_a_note(kind, bad):
    times = [_iso(i) for i in range(11)]
    times[5] = bad  # one glitch point in the middle of a 10 s run
    data = _gpx(times) if kind == "gpx" else _tcx(times)
    (act,), notes = _read(data, f"glitch.{kind}")
    s = act.summary
    # the run is 2024-06-01 06:00:00 .. 06:00:10; the glitch point is gone
    assert s["start_time_utc"] == T0
    assert s["elapsed_time_s"] == pytest.approx(10.0)
    assert len(act.records) == 10
    assert act.records.index.min() == T0 and act.records.index.max() == T0 + pd.Timedelta(seconds=10)
    assert any("dated" in n for n in notes), notes


@pytest.mark.parametrize("kind", ["gpx", "tcx"])
def test_a_file_dated_entirely_past_2262_is_refused(kind):
    times = [f"9999-12-31T00:00:{i:02d}Z" for i in range(11)]
    data = _gpx(times) if kind == "gpx" else _tcx(times)
    with pytest.raises(FileFormatError, match="9999|time"):
        _read(data, f"future.{kind}")


# --------------------------------------------------------------------------------
# 2. infinite numbers


@pytest.mark.parametrize("text", ["1e309", "inf", "-Infinity", "nan"])
def test_tcx_infinite_distance_becomes_nan_with_a_note(text):
    (act,), notes = _read(_tcx(distance=text, lap_distance=text), "inf.tcx")
    s = act.summary
    for name in ("distance_m", "avg_speed_m_s", "elapsed_time_s", "timer_time_s"):
        assert not math.isinf(s[name]), (name, s[name])
    assert np.isfinite(act.records["distance_m"].dropna()).all()
    assert any("not finite" in n or "not numbers" in n for n in notes), notes


def test_gpx_infinite_elevation_becomes_nan_with_a_note():
    (act,), notes = _read(_gpx(ele="1e309"), "inf.gpx")
    assert act.records["altitude_m"].isna().all()
    assert math.isnan(act.summary["ascent_m"])
    assert any("not finite" in n or "not numbers" in n for n in notes), notes


def test_totals_that_overflow_become_nan_with_a_note():
    # two laps of 1e308 m sum to inf: the lap totals cannot stand
    data = _tcx(lap_distance="1e308")
    data = data.replace(b"</Lap>", b'</Lap><Lap StartTime="2024-06-01T06:00:10Z"><TotalTimeSeconds>1'
                        b"</TotalTimeSeconds><DistanceMeters>1e308</DistanceMeters></Lap>")
    (act,), notes = _read(data, "overflow.tcx")
    for name in ("distance_m", "avg_speed_m_s"):
        assert not math.isinf(act.summary[name]), (name, act.summary[name])
    # refused as impossible (kneedata.io.plausible) before the infinity check is reached
    assert any("infinite" in n or "impossible totals" in n and "distance_m inf" in n for n in notes), notes


# --------------------------------------------------------------------------------
# 3. encoding names


@pytest.mark.parametrize("encoding", ["bogus-8", "UTF-32", "idna", "base64", "rot13", "zlib",
                                      "x-mac-roman", "utf-8-sig-nope"])
def test_bogus_or_non_text_encoding_is_a_file_format_error_naming_it(encoding):
    data = _gpx().replace(b'encoding="UTF-8"', f'encoding="{encoding}"'.encode())
    try:
        acts, _ = _read(data, "enc.gpx")
    except FileFormatError as err:
        assert encoding in str(err) and "enc.gpx" in str(err)
    else:  # a real text encoding that reads ASCII the same way is fine
        assert len(acts[0].records) == 11


@pytest.mark.parametrize("encoding", ["latin-1", "windows-1252", "UTF-16"])
def test_real_text_encodings_read(encoding):
    text = _gpx(creator="Garmin Forerunner \u00e9").decode().replace("UTF-8", encoding)
    data = text.encode(encoding)
    (act,), _ = _read(data, "enc.gpx")
    assert len(act.records) == 11
    assert act.summary["device"] == "Garmin Forerunner \u00e9"


# --------------------------------------------------------------------------------
# 10. small ones: a long prolog, huge strings


def test_gpx_with_a_long_prolog_comment_is_read(tmp_path):
    comment = "<!-- " + "x" * 20_000 + " -->"
    path = tmp_path / "long.gpx"
    path.write_bytes(_gpx(prolog=comment))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        (act,) = read_activities(path)
    assert len(act.records) == 11


def test_huge_creator_and_sport_strings_are_capped():
    big = "A" * 1_000_000
    (act,), notes = _read(_gpx(creator=big, sport=big), "big.gpx")
    assert len(act.summary["device"]) <= 200
    assert all(len(n) <= 3_000 for n in notes), [len(n) for n in notes]
    assert any("not recognised" in n for n in notes)


# --------------------------------------------------------------------------------
# 4. gzip without a limit


def test_read_activities_refuses_a_gzip_bomb_without_holding_it(tmp_path):
    # 64 MiB of zeros compress to ~64 kB; the limit here is 8 MiB
    comp = gzip.compress(b"\0" * (64 * 2**20), compresslevel=1)
    path = tmp_path / "bomb.gpx.gz"
    path.write_bytes(comp)
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError, match="bomb.gpx.gz.*more than 8388608 bytes.*limit"):
            read_activities(path, limits=ZipLimits(max_member_bytes=8 * 2**20))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2**20, peak  # streamed: never more than the limit and the input


def test_read_activities_default_gzip_limit_is_the_import_limit(tmp_path):
    data = _gpx()
    path = tmp_path / "run.gpx.gz"
    path.write_bytes(gzip.compress(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        (act,) = read_activities(path)
        with pytest.raises(FileFormatError, match="limit"):
            read_activities(path, limits=ZipLimits(max_member_bytes=len(data) - 1))
    assert len(act.records) == 11


def test_zip_members_together_are_capped_by_the_archive_ratio(tmp_path):
    # 64 members of 256 KiB of zeros: each is under ratio_min_bytes (never refused
    # alone), together 16 MiB from a zip of ~20 kB
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(64):
            zf.writestr(f"m{i:02d}.gpx", b"\0" * 2**18)
    limits = ZipLimits(max_ratio=100.0, ratio_min_bytes=2**20)
    members = [m for m in iter_zip(path, str(path), limits=limits) if not m.is_archive]
    assert len(members) == 64  # every member accounted for
    read = sum(len(m.data) for m in members if m.data is not None)
    refused = [m for m in members if m.error]
    with zipfile.ZipFile(path) as zf:
        budget = max(2**20, 100.0 * sum(i.compress_size for i in zf.infolist()))  # ~1.7 MB
    assert read <= budget
    assert len(refused) >= 48  # 16 MiB asked for, at most ~7 members of 256 KiB allowed
    assert all("together" in m.error and "zip bomb" in m.error for m in refused)


# --------------------------------------------------------------------------------
# diaries: 3 (UTF-16), 6 (unclosed quote), 7 (many unknown columns), 10 (exact duplicates)


def _diary(tmp_path, text: str, encoding: str = "utf-8", name: str = "pain_diary.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


DIARY = ("date,side,pain_0_10,notes\n"
         "2024-03-01,left,3,sore after hills\n"
         "2024-03-02,left,2,fine\n"
         "2024-03-03,right,1,ok\n")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_diary_is_read(tmp_path, encoding):
    from kneedata.io.diary import read_pain_diary

    text = DIARY.replace("sore after hills", "douleur apr\u00e8s les c\u00f4tes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        frame = read_pain_diary(_diary(tmp_path, text, encoding))
    assert frame["pain_0_10"].tolist() == [3.0, 2.0, 1.0]
    assert frame["notes"].iloc[0] == "douleur apr\u00e8s les c\u00f4tes"


def test_unclosed_quote_is_a_schema_error_naming_the_line(tmp_path):
    from kneedata.errors import SchemaError
    from kneedata.io.diary import read_pain_diary

    text = DIARY.replace("sore after hills", '"sore after hills')
    with pytest.raises(SchemaError, match=r"pain_diary.csv line 2.*quote"):
        read_pain_diary(_diary(tmp_path, text))


def test_unclosed_quote_closed_by_a_later_stray_quote_is_caught(tmp_path):
    from kneedata.errors import SchemaError
    from kneedata.io.diary import read_pain_diary

    text = DIARY.replace("sore after hills", '"sore after hills').replace(",ok", ',ok"')
    with pytest.raises(SchemaError, match=r"line 2.*quote"):
        read_pain_diary(_diary(tmp_path, text))


def test_a_quoted_note_over_two_lines_is_still_one_note(tmp_path):
    from kneedata.io.diary import read_pain_diary

    text = DIARY.replace("sore after hills", '"sore after hills\nand stairs"')
    frame = read_pain_diary(_diary(tmp_path, text))
    assert frame["notes"].iloc[0] == "sore after hills\nand stairs"
    assert len(frame) == 3


def test_many_unknown_columns_are_added_in_one_step(tmp_path, monkeypatch):
    from kneedata.io.diary import read_pain_diary

    n = 300
    head = "date,side,pain_0_10," + ",".join(f"extra{i}" for i in range(n)) + ",extra0"
    row = "2024-03-01,left,3," + ",".join(str(i) for i in range(n)) + ",again"
    inserts = []
    original = pd.DataFrame.__setitem__

    def counting(self, key, value):
        inserts.append(key)
        return original(self, key, value)

    monkeypatch.setattr(pd.DataFrame, "__setitem__", counting)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = read_pain_diary(_diary(tmp_path, head + "\n" + row + "\n"))
    # one column per unknown header cell, nothing lost (the repeated name too)
    extra = [c for c in frame.columns if str(c).startswith("extra")]
    assert len(extra) == n + 1
    assert frame[extra].iloc[0].tolist() == [str(i) for i in range(n)] + ["again"]
    assert len(inserts) < 10  # added in one step, not one insert per column (quadratic)
    notes = [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)]
    assert len(notes) == 1 and len(notes[0]) < 2_000


def test_exact_duplicate_diary_rows_are_kept_with_a_note(tmp_path):
    from kneedata.io.diary import read_pain_diary

    text = DIARY + "2024-03-02,left,2,fine\n"
    with pytest.warns(DataQualityWarning, match=r"line 5.*repeats line 3"):
        frame = read_pain_diary(_diary(tmp_path, text))
    assert len(frame) == 4


def test_a_table_with_very_many_unknown_columns_leaves_them_out_with_one_note(tmp_path):
    from kneedata.io.diary import MAX_UNKNOWN_COLUMNS, read_pain_diary

    n = MAX_UNKNOWN_COLUMNS + 1
    head = "date,side,pain_0_10," + ",".join(f"x{i}" for i in range(n))
    row = "2024-03-01,left,3," + ",".join("1" for _ in range(n))
    with pytest.warns(DataQualityWarning, match=f"{n} columns .* left out") as caught:
        frame = read_pain_diary(_diary(tmp_path, head + "\n" + row + "\n"))
    assert len([w for w in caught if issubclass(w.category, DataQualityWarning)]) == 1
    assert frame["pain_0_10"].tolist() == [3.0] and not any(str(c).startswith("x") for c in frame.columns)


# --------------------------------------------------------------------------------
# found by the fuzz test itself: a spliced chunk that forms a session dated 2125


@pytest.mark.real_data
def test_fit_session_dated_far_from_the_records_is_ignored(real_data):
    import sys
    from pathlib import Path

    import numpy as np

    sys.path.insert(0, str(Path(__file__).parent))
    import fuzz_harness

    data = (real_data / "fit" / "garmin-edge-820-bike.fit").read_bytes()
    rng = np.random.default_rng(7000159)  # the seed the fuzz run reported
    op = fuzz_harness.OPS[int(rng.integers(0, len(fuzz_harness.OPS)))]
    mutant = fuzz_harness.mutate(data, op, rng)
    acts, notes = _read(mutant, "spliced.fit")
    assert [fuzz_harness.check_activity(a) for a in acts] == [None] * len(acts)
    # the watch's own file: one 64.5 s ride starting 2017-06-12 16:10:15 UTC
    assert [a.summary["start_time_utc"] for a in acts] == [pd.Timestamp("2017-06-12 16:10:15", tz="UTC")]
    assert any("session message" in n for n in notes), notes
