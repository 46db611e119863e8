"""kneedata.store.duplicates: the same run from several sources, on hand-made rows."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kneedata.store.duplicates import (
    DUPLICATE_START_S,
    deduplicate,
    file_status,
    fold_duplicates,
    is_close,
    rel_gap,
    richness,
    same_run,
    sports_compatible,
    to_number,
)

T0 = pd.Timestamp("2024-05-01 06:00:00", tz="UTC")


def row(src, *, dt_s=0.0, dist=10_000.0, fmt="fit", sport="running", **extra):
    out = {"source_file": src, "start_time_utc": T0 + pd.Timedelta(seconds=dt_s), "distance_m": dist,
           "elapsed_time_s": 3000.0, "source_format": fmt, "sport": sport, "sub_sport": None,
           "complete": True, "n_record_columns": 5, "n_records": 3000}
    out.update(extra)
    return out


def test_numbers_and_gaps():
    assert to_number("2.5") == 2.5 and math.isnan(to_number("x")) and math.isnan(to_number(None))
    assert rel_gap(100, 103) == pytest.approx(3 / 103)
    assert rel_gap(0, 5) is None and rel_gap(None, 5) is None and rel_gap("x", 5) is None
    assert is_close(100, 103) and not is_close(100, 104) and not is_close(None, None)


@pytest.mark.parametrize(("a", "b", "same"), [
    (("running", None), ("running", "trail"), True),     # two kinds of run
    (("running", None), ("cycling", None), False),
    (("generic", None), ("cycling", None), True),        # a sport that says nothing
    (("cycling", None), ("e_biking", None), True),       # two rides
    (("swimming", None), ("running", None), False),
    (("swimming", None), ("swimming", None), True),
    (("generic", "treadmill"), ("running", None), True),  # a generic treadmill session is a run
])
def test_sports_compatible(a, b, same):
    assert sports_compatible({"sport": a[0], "sub_sport": a[1]}, {"sport": b[0], "sub_sport": b[1]}) is same


def test_same_run_needs_close_start_and_distance():
    assert same_run(row("a"), row("b", dt_s=60, dist=10_100)) == "start 60 s apart, distance 1.0 % apart"
    assert same_run(row("a"), row("b", dt_s=DUPLICATE_START_S + 1)) is None
    assert same_run(row("a"), row("b", dist=10_400)) is None  # 3.8 % apart
    assert same_run(row("a"), row("a", dt_s=5)) is None  # legs of one file
    assert same_run(row("a"), row("b", sport="cycling")) is None


def test_same_run_without_distance_compares_elapsed_time():
    a, b = row("a", dist=None), row("b", dt_s=30, dist=0.0, elapsed_time_s=3050.0)
    assert same_run(a, b) == "start 30 s apart, no distance on both, elapsed time 1.6 % apart"
    assert same_run(a, row("b", dist=None, elapsed_time_s=3300.0)) is None


def test_richness_prefers_fit_then_complete_then_columns():
    assert richness(row("a", fmt="fit")) > richness(row("b", fmt="tcx")) > richness(row("c", fmt="gpx"))
    assert richness(row("a", complete=True)) > richness(row("b", complete=False))
    assert richness(row("a", n_record_columns=6)) > richness(row("b"))


def test_deduplicate_keeps_the_richest_and_links_chains():
    acts = {
        "gpx1": row("w.gpx", fmt="gpx"),
        "fit1": row("w.fit", dt_s=60),
        "tcx1": row("w.tcx", dt_s=170, fmt="tcx"),  # 170 s from the GPX, 110 s from the FIT
        "other": row("x.fit", dt_s=3600),
        "nostart": row("y.fit", start_time_utc=pd.NaT),
    }
    dup_of = deduplicate(acts)
    assert set(dup_of) == {"gpx1", "tcx1"}
    assert {k for k, _ in dup_of.values()} == {"fit1"}
    assert "same run as fit1 from w.fit (start 60 s apart" in dup_of["gpx1"][1]
    assert "kept the fit source" in dup_of["gpx1"][1]
    assert deduplicate({"a": acts["gpx1"], "c": acts["tcx1"]}) == {}  # 170 s: no link without the FIT


def test_deduplicate_says_when_linked_through_another_copy():
    acts = {"a": row("a.gpx", fmt="gpx"), "b": row("b.fit", dt_s=100), "c": row("c.tcx", dt_s=200, fmt="tcx")}
    dup_of = deduplicate({"a": acts["a"], "c": acts["c"], "b": acts["b"]})
    assert dup_of["a"][0] == dup_of["c"][0] == "b"
    assert "start 100 s apart" in dup_of["a"][1] and "start 100 s apart" in dup_of["c"][1]
    # a ranks above c only by format: with a FIT a kept, c is linked through b
    acts["a"]["source_format"] = "fit"
    acts["a"]["n_record_columns"] = 9
    dup_of = deduplicate(acts)
    assert dup_of["c"] == ("a", dup_of["c"][1]) and "linked through another copy" in dup_of["c"][1]


def test_fold_duplicates_lists_sources_kept_first():
    acts = {"k": row("k.fit"), "d": row("d.gpx", fmt="gpx"), "solo": row("s.fit", dt_s=9999)}
    kept, dups = fold_duplicates(acts, {"d": ("k", "why")}, {"k": ["copy/k.fit"]})
    assert [r["source_file"] for r in kept] == ["k.fit", "s.fit"]
    assert kept[0]["source_files"] == ["k.fit", "copy/k.fit", "d.gpx"] and kept[0]["n_sources"] == 3
    assert kept[1]["source_files"] == ["s.fit"] and kept[1]["n_sources"] == 1
    assert len(dups) == 1 and dups[0]["duplicate_of"] == "k" and dups[0]["duplicate_reason"] == "why"
    assert "source_files" not in acts["k"]  # the input rows are left alone


def test_file_status():
    acts = {"k": row("k.fit", warnings=["clock reset"]), "d": row("d.gpx", fmt="gpx")}
    dup_of = {"d": ("k", "same run as k")}
    assert file_status("k.fit", ["k"], acts, dup_of) == ("imported", "1 data-quality note(s): clock reset")
    assert file_status("d.gpx", ["d"], acts, dup_of) == ("duplicate", "d: same run as k")
    status, reason = file_status("copy.fit", ["k"], acts, dup_of)
    assert status == "duplicate" and reason == "k: identical content to k.fit"
    assert file_status("gone.fit", ["zz"], acts, dup_of) == ("duplicate", "duplicate of an activity in the store")
