"""Pain days, episodes and the daily diary status, on diaries small enough to count by eye."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kneedata import schema
from kneedata.episodes import diary_status, pain_days, pain_episodes
from kneedata.errors import SchemaError
from kneedata.io.diary import read_pain_diary

D0 = pd.Timestamp("2024-03-01")


def diary(*entries: tuple[int, float, str | None]) -> pd.DataFrame:
    """Entries as (day offset from 2024-03-01, pain, side)."""
    return pd.DataFrame({
        "date": pd.Series([D0 + pd.Timedelta(days=d) for d, _, _ in entries],
                          dtype="datetime64[ns]"),
        "side": pd.Series([s for _, _, s in entries], dtype="str"),
        "pain_0_10": pd.Series([p for _, p, _ in entries], dtype="float64"),
    })


def day(offset: int) -> pd.Timestamp:
    return D0 + pd.Timedelta(days=offset)


def episodes_frame(rows: list[tuple]) -> pd.DataFrame:
    """(onset offset, end offset, side, peak, n_pain_days, end_known, onset_known)."""
    return pd.DataFrame({
        "episode_id": np.arange(1, len(rows) + 1, dtype="int64"),
        "onset_date": pd.Series([day(r[0]) for r in rows], dtype="datetime64[ns]"),
        "end_date": pd.Series([day(r[1]) for r in rows], dtype="datetime64[ns]"),
        "side": pd.Series([r[2] for r in rows], dtype="str"),
        "peak_pain_0_10": pd.Series([r[3] for r in rows], dtype="float64"),
        "n_pain_days": pd.Series([r[4] for r in rows], dtype="int64"),
        "end_known": pd.Series([r[5] for r in rows], dtype="bool"),
        "onset_known": pd.Series([r[6] for r in rows], dtype="bool"),
    })


# --- washout boundary -----------------------------------------------------------------
def test_fourteen_pain_free_days_close_an_episode_thirteen_do_not():
    # day 0 pain, days 1..13 (13 days) unknown/pain-free, day 14 pain -> same episode
    same = pain_episodes(diary((0, 4, "left"), (14, 5, "left")), complete=True)
    pd.testing.assert_frame_equal(
        same, episodes_frame([(0, 14, "left", 5.0, 2, False, False)]))
    # day 0 pain, days 1..14 (14 pain-free days), day 15 pain -> a new episode
    split = pain_episodes(diary((0, 4, "left"), (15, 5, "left")), complete=True)
    pd.testing.assert_frame_equal(split, episodes_frame([
        # complete diary runs to day 15 >= 0 + 14, so episode 1's end is known
        (0, 0, "left", 4.0, 1, True, False),
        (15, 15, "left", 5.0, 1, False, True),
    ]))


def test_washout_is_a_parameter():
    entries = diary((0, 4, "left"), (8, 4, "left"))
    assert len(pain_episodes(entries, washout_days=7)) == 2   # gap 8 > 7
    assert len(pain_episodes(entries, washout_days=8)) == 1   # gap 8 = 8


# --- several entries per day, sides, threshold ----------------------------------------
def test_several_entries_a_day_and_sides():
    entries = diary(
        (0, 2, "right"),    # below threshold: does not count, not even its side
        (0, 4, "left"),
        (1, 3, "right"),    # day 1 pain on the right -> episode is 'both'
        (1, 1, "left"),
        (30, 3, "left"), (30, 6, "both"),
        (60, 5, None),      # pain without a side (hand-built frame): side unknown
    )
    got = pain_episodes(entries, complete=True)
    pd.testing.assert_frame_equal(got, episodes_frame([
        (0, 1, "both", 4.0, 2, True, False),
        (30, 30, "both", 6.0, 1, True, True),
        (60, 60, None, 5.0, 1, False, True),
    ]))
    daily = pain_days(entries)
    assert daily.index.tolist() == [day(0), day(1), day(30), day(60)]
    assert daily["pain_0_10"].tolist() == [4.0, 3.0, 6.0, 5.0]       # daily maxima
    assert daily["n_entries"].tolist() == [2, 2, 2, 1]
    assert daily["side"].tolist()[:3] == ["left", "right", "both"]
    assert pd.isna(daily["side"].iloc[3])


def test_threshold():
    entries = diary((0, 3, "left"), (5, 4, "left"), (40, 5, "right"))
    assert len(pain_episodes(entries, threshold=3)) == 2     # {0, 5}, {40}
    got = pain_episodes(entries, threshold=4.5)               # only day 40 counts
    assert got["onset_date"].tolist() == [day(40)]
    assert got["onset_known"].tolist() == [True]              # days 0, 5 are pain-free


# --- unknown days: complete=False vs True ---------------------------------------------
def test_gaps_are_unknown_unless_the_diary_is_complete():
    # day 0 pain; day 9 'no pain'; nothing else until pain on day 31
    entries = diary((0, 4, "left"), (9, 0, None), (31, 5, "right"))
    # complete=False: a pain-free entry >= day 14 is needed to close episode 1
    pd.testing.assert_frame_equal(pain_episodes(entries), episodes_frame([
        (0, 0, "left", 4.0, 1, False, False),   # diary starts in pain
        (31, 31, "right", 5.0, 1, False, False),
    ]))
    # complete=True: days 1..30 were pain-free by declaration
    pd.testing.assert_frame_equal(pain_episodes(entries, complete=True), episodes_frame([
        (0, 0, "left", 4.0, 1, True, False),
        (31, 31, "right", 5.0, 1, False, True),
    ]))
    # a 'no pain' entry on day 14 (= end + washout) closes it; day 13 would not
    for offset, known in ((13, False), (14, True), (30, True)):
        got = pain_episodes(diary((0, 4, "left"), (offset, 0, None), (31, 5, "left")))
        assert got["end_known"].tolist() == [known, False], offset
        assert got["onset_known"].tolist() == [False, known], offset


def test_first_onset_is_known_after_a_pain_free_entry():
    got = pain_episodes(diary((0, 1, "left"), (3, 6, "left")))
    assert got["onset_known"].tolist() == [True]


def test_empty_and_painless_diaries():
    empty = diary()
    pd.testing.assert_frame_equal(pain_episodes(empty), schema.empty_frame(schema.EPISODES))
    painless = diary((0, 0, None), (1, 2, "left"))
    pd.testing.assert_frame_equal(pain_episodes(painless),
                                  schema.empty_frame(schema.EPISODES))
    assert pain_days(painless).empty


def test_date_objects_strings_and_input_untouched():
    frame = pd.DataFrame({"date": [dt.date(2024, 3, 1), dt.date(2024, 3, 20)],
                          "side": ["left", "right"], "pain_0_10": [5, 5]})
    before = frame.copy()
    got = pain_episodes(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert got["onset_date"].tolist() == [pd.Timestamp("2024-03-01"),
                                          pd.Timestamp("2024-03-20")]
    assert got["onset_date"].dtype == "datetime64[ns]"


# --- errors ---------------------------------------------------------------------------
def test_bad_diaries_and_options():
    with pytest.raises(SchemaError, match="lacks the column.s. pain_0_10; found: date"):
        pain_episodes(pd.DataFrame({"date": [D0]}))
    bad = pd.DataFrame({"date": [D0, pd.NaT], "side": ["up", "left"],
                        "pain_0_10": [11.0, 2.0], "source_line": [2, 3]})
    with pytest.raises(SchemaError) as err:
        pain_episodes(bad)
    assert err.value.problems == ["diary line 2: pain_0_10 '11.0' is not a score 0–10",
                                  "diary line 2: side 'up' is not left, right or both",
                                  "diary line 3: date is missing"]
    tz = pd.DataFrame({"date": pd.to_datetime(["2024-03-01"]).tz_localize("UTC"),
                       "pain_0_10": [4.0]})
    with pytest.raises(SchemaError, match="timezone-aware"):
        pain_episodes(tz)
    with pytest.raises(ValueError, match="threshold=0 is outside the plausible range 0.5-10"):
        pain_episodes(diary((0, 4, "left")), threshold=0)
    with pytest.raises(ValueError, match="washout_days=0.5 is not a whole number in 1-365 d"):
        pain_episodes(diary((0, 4, "left")), washout_days=0.5)  # type: ignore[arg-type]


# --- daily status ---------------------------------------------------------------------
def test_diary_status_day_by_day():
    # washout 3 to keep it short. Days: 0 no pain, 1 pain L, 2 nothing, 3 pain R 5,
    # 4 no pain, 5 nothing, 6 'no pain' (= 3 + 3: closes the episode), 7 pain L (onset)
    entries = diary((0, 0, None), (1, 4, "left"), (3, 5, "right"), (3, 1, "left"),
                    (4, 2, "left"), (6, 0, None), (7, 3, "left"))
    got = diary_status(entries, washout_days=3, end="2024-03-09")
    index = pd.date_range(day(0), day(8), freq="D", name="date", unit="ns")
    nan = np.nan
    expected = pd.DataFrame({
        "pain_0_10": [0, 4, nan, 5, 2, nan, 0, 3, nan],
        "n_entries": np.array([1, 1, 0, 2, 1, 0, 1, 1, 0], dtype="int64"),
        "has_entry": [True, True, False, True, True, False, True, True, False],
        "side": pd.Series([nan, "left", nan, "right", nan, nan, nan, "left", nan],
                          dtype="str", index=index),
        "pain_day": [False, True, False, True, False, False, False, True, False],
        "episode_id": pd.array([None, 1, 1, 1, None, None, None, 2, None], dtype="Int64"),
        "in_episode": [False, True, True, True, False, False, False, True, False],
        "onset": [False, True, False, False, False, False, False, True, False],
        "coverage_known": [True, True, False, True, True, False, True, True, False],
        # day 0: covered, nothing before; day 1: onset of an episode whose onset is
        # known (day 0 was pain-free); days 2-6: pain within the 3 days before;
        # day 7: onset, episode 1 closed by the entry on day 6; day 8: no entry
        "at_risk": [True, True, False, False, False, False, False, True, False],
    }, index=index)
    pd.testing.assert_frame_equal(got, expected)
    assert got.index.freq == "D"
    complete = diary_status(entries, washout_days=3, complete=True, end="2024-03-09")
    # complete: days 2 and 5 are known; day 8 lies after the last entry
    assert complete["coverage_known"].tolist() == [True] * 8 + [False]
    assert complete["at_risk"].tolist() == [True, True] + [False] * 5 + [True, False]


def test_diary_status_window_and_ids_match_episodes():
    entries = diary((0, 4, "left"), (20, 0, None), (40, 6, "right"), (41, 0, None))
    status = diary_status(entries, start="2024-04-05", end="2024-04-15")
    assert status.index[0] == pd.Timestamp("2024-04-05")
    assert len(status) == 11
    # day 40 = 2024-04-10 is the onset of episode 2 (ids from the whole diary)
    assert status.loc["2024-04-10", "episode_id"] == 2
    assert bool(status.loc["2024-04-10", "at_risk"])   # day 20 vouches for it
    assert not bool(status.loc["2024-04-11", "at_risk"])   # within washout
    with pytest.raises(ValueError, match="is before start"):
        diary_status(entries, start="2024-04-05", end="2024-04-01")
    empty = diary_status(diary())
    assert empty.empty and list(empty.columns)[-1] == "at_risk"


# --- properties -----------------------------------------------------------------------
entry = st.tuples(st.integers(0, 150), st.integers(0, 20).map(lambda x: x / 2),
                  st.sampled_from(["left", "right", "both", None]))


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(entries=st.lists(entry, max_size=40), threshold=st.sampled_from([1, 3, 4.5, 10]),
       washout=st.integers(1, 20), complete=st.booleans())
def test_episodes_never_overlap_and_hold_every_pain_day_once(entries, threshold,
                                                             washout, complete):
    frame = diary(*entries)
    eps = pain_episodes(frame, threshold=threshold, washout_days=washout,
                        complete=complete)
    pain = pain_days(frame, threshold=threshold)
    # every pain day falls inside exactly one episode
    inside = [((eps["onset_date"] <= d) & (d <= eps["end_date"])).sum() for d in pain.index]
    assert all(n == 1 for n in inside)
    assert eps["n_pain_days"].sum() == len(pain)
    # never overlapping, separated by more than the washout, onsets and ends are pain days
    gaps = (eps["onset_date"].iloc[1:].to_numpy() - eps["end_date"].iloc[:-1].to_numpy())
    assert (gaps > np.timedelta64(washout, "D")).all()
    assert set(eps["onset_date"]) <= set(pain.index)
    assert set(eps["end_date"]) <= set(pain.index)
    assert (eps["peak_pain_0_10"] >= threshold).all()
    # declaring the diary complete can only add knowledge
    if not complete:
        full = pain_episodes(frame, threshold=threshold, washout_days=washout,
                             complete=True)
        assert (full["end_known"] | ~eps["end_known"]).all()
        assert (full["onset_known"] | ~eps["onset_known"]).all()
    status = diary_status(frame, threshold=threshold, washout_days=washout,
                          complete=complete)
    assert status["onset"].sum() == len(eps)
    assert status["in_episode"].sum() == ((eps["end_date"] - eps["onset_date"]).dt.days
                                          + 1).sum()
    # at risk only outside episodes or on a known onset
    risky = status[status["at_risk"]]
    assert (~risky["in_episode"] | risky["onset"]).all()
    assert risky["coverage_known"].all()
    known_onsets = set(eps.loc[eps["onset_known"], "onset_date"])
    assert set(risky.index[risky["onset"]]) == known_onsets


# --- the sample runner ------------------------------------------------------------------
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


@pytest.mark.skipif(not (SAMPLE / "truth.json").is_file()
                    or not (SAMPLE / "pain_diary.csv").is_file(),
                    reason="sample_data/ not generated (python sample_data/make_sample_runner.py)")
def test_sample_diary_episodes_match_the_generator_truth():
    # source: the generator's own list of the episodes it simulated (truth.json),
    # with the same threshold and washout it used
    truth = json.loads((SAMPLE / "truth.json").read_text())
    model = truth["hazard_model"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # the sample diary is clean: no warning
        entries = read_pain_diary(SAMPLE / "pain_diary.csv")
    got = pain_episodes(entries, threshold=model["pain_threshold"],
                        washout_days=model["washout_days"])
    expected = pd.DataFrame(truth["episodes"])
    assert got["onset_date"].tolist() == pd.to_datetime(expected["onset_date"]).tolist()
    assert got["end_date"].tolist() == pd.to_datetime(expected["last_pain_date"]).tolist()
    assert got["side"].tolist() == expected["side"].tolist()
    assert got["peak_pain_0_10"].tolist() == expected["peak_pain_0_10"].astype(float).tolist()
