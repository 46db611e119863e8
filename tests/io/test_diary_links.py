"""Diary entries linked to runs: by activity_id, else by date and time, never guessed."""

from __future__ import annotations

import pandas as pd
import pytest

from kneedata import schema
from kneedata.io.diary import LINKS, link_entries, read_pain_diary


def _runs(*rows: tuple[str, str, str | None]) -> pd.DataFrame:
    """(activity_id, local day, local start 'HH:MM' or None); offset +60 min."""
    out = []
    for aid, day, clock in rows:
        local = pd.Timestamp(f"{day} {clock or '00:00'}")
        out.append({"activity_id": aid, "local_date": pd.Timestamp(day).date(),
                    "start_time_utc": (local - pd.Timedelta(minutes=60)).tz_localize("UTC")
                    if clock else pd.NaT, "utc_offset_min": 60.0})
    return pd.DataFrame(out)


def _diary(tmp_path, lines: str) -> pd.DataFrame:
    path = tmp_path / "pain_diary.csv"
    path.write_text("date,time,side,pain_0_10,timing,activity_id\n" + lines)
    return read_pain_diary(path)


def test_morning_and_before_are_read_and_kept_with_their_times(tmp_path):
    diary = _diary(tmp_path, "2024-05-02,07:10,left,3,morning,\n"
                             "2024-05-02,17:55,left,3,pre-run,\n"
                             "2024-05-03,06:50,left,4,on waking,\n")
    assert diary["timing"].tolist() == ["next_morning", "before", "next_morning"]
    assert diary["time"].tolist() == ["07:10", "17:55", "06:50"]


def test_links_by_id_only_run_and_time(tmp_path):
    runs = _runs(("a", "2024-05-02", "18:00"), ("b", "2024-05-04", "07:00"),
                 ("c", "2024-05-04", "18:30"))
    diary = _diary(tmp_path, (
        "2024-05-02,07:10,left,3,next_morning,\n"     # a day score: no run
        "2024-05-02,17:50,left,3,before,\n"           # only run that day
        "2024-05-02,,left,4,after,\n"                 # only run, no time
        "2024-05-04,12:00,left,5,after,\n"            # between b and c -> b
        "2024-05-04,20:15,left,6,after,\n"            # after c -> c
        "2024-05-04,18:00,left,2,before,\n"           # before c -> c
        "2024-05-04,,left,4,during,\n"                # two runs, no time: ambiguous
        "2024-05-05,,left,4,after,c\n"                # the id wins over the date
        "2024-05-06,,left,4,after,\n"                 # no run that day
        "2024-05-02,06:00,left,4,after,\n"            # after entry before the run
        "2024-05-07,,left,4,after,zzz-0\n"            # an id that is not a run
    ))
    linked = link_entries(diary, runs)
    got = {(row.date.strftime("%d"), row.time if isinstance(row.time, str) else "",
            row.timing): (row.linked_activity_id if isinstance(row.linked_activity_id, str)
                          else None, row.link)
           for row in linked.itertuples()}
    assert got == {
        ("02", "07:10", "next_morning"): (None, "none"),
        ("02", "17:50", "before"): ("a", "only_run"),
        ("02", "", "after"): ("a", "only_run"),
        ("04", "12:00", "after"): ("b", "by_time"),
        ("04", "20:15", "after"): ("c", "by_time"),
        ("04", "18:00", "before"): ("c", "by_time"),
        ("04", "", "during"): (None, "ambiguous"),
        ("05", "", "after"): ("c", "given"),
        ("06", "", "after"): (None, "no_run"),
        ("02", "06:00", "after"): (None, "time_mismatch"),
        ("07", "", "after"): (None, "unknown_id"),
    }
    assert set(linked["link"]) <= set(LINKS)
    notes = linked.set_index("link")["link_note"]
    assert "b (07:00), c (18:30)" in notes["ambiguous"]
    assert "zzz-0" in notes["unknown_id"]
    assert notes[["given", "only_run", "by_time", "none"]].isna().all()
    # nothing is dropped or reordered, and the diary's own columns are untouched
    assert len(linked) == len(diary)
    pd.testing.assert_frame_equal(linked[diary.columns], diary)
    assert set(schema.DIARY_LINKS) == set(linked.columns) - set(diary.columns)


def test_several_runs_without_start_times_are_never_guessed(tmp_path):
    runs = _runs(("a", "2024-05-02", None), ("b", "2024-05-02", None))
    diary = _diary(tmp_path, "2024-05-02,19:00,left,4,after,\n")
    linked = link_entries(diary, runs)
    assert linked["link"].tolist() == ["ambiguous"]
    assert linked["linked_activity_id"].isna().all()


def test_runs_without_the_needed_columns_are_refused(tmp_path):
    diary = _diary(tmp_path, "2024-05-02,19:00,left,4,after,\n")
    with pytest.raises(ValueError, match="activity_id and local_date"):
        link_entries(diary, pd.DataFrame({"x": [1]}))


def test_a_time_a_little_off_still_links_but_never_jumps_to_a_later_run(tmp_path):
    runs = _runs(("a", "2024-05-02", "18:00"), ("b", "2024-05-03", "07:00"),
                 ("c", "2024-05-03", "18:00"))
    diary = _diary(tmp_path, ("2024-05-02,17:45,left,3,after,\n"     # typed early: a
                              "2024-05-02,18:20,left,2,before,\n"    # typed late: a
                              "2024-05-03,17:50,left,4,after,\n"     # before c: still b
                              "2024-05-03,06:00,left,4,after,\n"))   # before both runs
    linked = link_entries(diary, runs).sort_values("source_line")
    assert linked["linked_activity_id"].tolist()[:3] == ["a", "a", "b"]
    assert linked["link"].tolist() == ["only_run", "only_run", "by_time", "time_mismatch"]
