"""kneedata.present: what a person reads (units, plain headers, numbers, the runs list)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kneedata.present import (
    KM_PER_MILE,
    diary_use_text,
    display_frame,
    runs_table,
    term_label,
    units_of,
)


def _shoes() -> pd.DataFrame:
    return pd.DataFrame({"shoe_id": ["S1"], "distance_km": [160.9344],
                         "episodes_per_100km": [1.0], "episodes_per_100km_low": [0.5],
                         "episodes_per_100km_high": [2.0], "drop_mm": [8.0]})


def test_display_frame_converts_distances_and_rates_to_miles_and_never_shows_names():
    shown = display_frame(_shoes(), "mi")
    assert list(shown.columns) == ["shoe", "distance (mi)", "episodes per 100 mi",
                                   "95 % interval", "drop (mm)"]
    row = shown.iloc[0]
    assert row["distance (mi)"] == "100"  # 160.93 km
    assert row["episodes per 100 mi"] == "1.61"  # 1 per 100 km = 1.61 per 100 mi
    assert row["95 % interval"] == "0.805 to 3.22"
    assert row["drop (mm)"] == "8"  # not a distance: unchanged
    km = display_frame(_shoes(), "km").iloc[0]
    assert km["distance (km)"] == "161" and km["95 % interval"] == "0.5 to 2"


def test_percentages_get_one_decimal_and_flags_read_yes_no():
    frame = pd.DataFrame({"cadence_deviation_pct": [-0.00653, 2.345, np.nan],
                          "creeping_up": [True, False, True]})
    shown = display_frame(frame)
    assert shown.iloc[:, 0].tolist() == ["0.0", "2.3", ""]
    assert shown.iloc[:, 1].tolist() == ["yes", "no", "yes"]


def test_model_terms_in_words():
    assert "_" not in term_label("spike_large_7d")
    assert term_label("spike_large_7d").endswith("in the 7 days before")
    assert term_label("n_strength") == "strength sessions"


def test_runs_table_in_miles_with_pace_time_and_pain():
    runs = pd.DataFrame({"activity_id": ["a", "b", "c"],
                         "local_date": ["2024-01-01", "2024-02-01", "2024-02-02"],
                         "distance_m": [1609.344 * 5, 10000.0, 5000.0],
                         "moving_time_s": [2400.0, 3000.0, np.nan],
                         "timer_time_s": [2500.0, 3100.0, 1500.0],
                         "shoe_id": ["S1", None, "S2"]})
    pain = pd.DataFrame({"activity_id": ["b"], "pain_before": [0.0], "pain_after": [3.0],
                         "pain_next_morning": [1.0]})
    diary = pd.DataFrame({"date": pd.to_datetime(["2024-01-15", "2024-02-10"])})
    table, note = runs_table(runs, pain, "mi", diary=diary)
    assert list(table["date"]) == ["2024-02-01", "2024-02-02"]  # the diary's span only
    assert "All 2 runs" in note and "15 Jan 2024" in note
    b = table.iloc[0]
    assert b["distance (mi)"] == "6.21" and b["time (h:mm)"] == "0:50"
    assert b["pace (min/mi)"] == "8:03"  # 50 min over 6.214 mi
    assert b["shoe"] == "" and b["pain after"] == "3" and b["pain next morning"] == "1"
    assert table.iloc[1]["time (h:mm)"] == "0:25"  # timer time where moving time is missing
    whole, note = runs_table(runs, None, "km", most=2)
    assert len(whole) == 2 and "most recent 2 of the 3" in note
    assert whole.iloc[-1]["pace (min/km)"] == "5:00"


def test_diary_use_says_how_much_was_usable_and_what_would_help():
    frame = pd.DataFrame({"date": pd.date_range("2012-01-01", periods=4607),
                          "diary_known": np.arange(4607) >= 4582})
    text = diary_use_text(frame, n_analysed=20)
    assert "25 of the 4,607 days" in text and "compared 20" in text
    assert "a line a day" in text and "--complete-diary" in text
    full = diary_use_text(frame.assign(diary_known=True))
    assert "would help" not in full


def test_units_of_refuses_other_units_naming_the_choices():
    assert units_of("miles").km_per_unit == KM_PER_MILE
    with pytest.raises(ValueError, match="--units km or --units mi"):
        units_of("furlongs")
