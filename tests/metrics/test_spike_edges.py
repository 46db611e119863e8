"""session_spikes category edges from both sides, unknown distances, short runs, missing days."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kneedata.metrics.load import session_spikes

D = dt.date


def _two_runs(previous_km: float, km: float, **extra) -> pd.DataFrame:
    return pd.DataFrame({"activity_id": ["a", "b"], "sport": "running",
                         "local_date": [D(2024, 3, 1), D(2024, 3, 3)],
                         "distance_m": [previous_km * 1000.0, km * 1000.0], **extra})


@pytest.mark.parametrize(("km", "category"), [
    (10.999, "none"), (11.0, "none"), (11.001, "small"),        # the 10 % edge
    (12.999, "small"), (13.0, "small"), (13.001, "moderate"),   # the 30 % edge
    (19.999, "moderate"), (20.0, "moderate"), (20.001, "large"),  # the 100 % edge
    (10.0, "none"), (3.0, "none"),                               # equal, and a short run
])
def test_category_edges_from_both_sides(km, category):
    out = session_spikes(_two_runs(10.0, km))
    assert out["spike_category"].iloc[1] == category
    assert out["spike_pct"].iloc[1] == pytest.approx((km / 10.0 - 1.0) * 100.0)


def test_unknown_distance_is_no_category_and_no_history():
    acts = pd.DataFrame({"activity_id": ["a", "b", "c", "d"], "sport": "running",
                         "local_date": [D(2024, 3, 1), D(2024, 3, 2), D(2024, 3, 3),
                                        D(2024, 3, 4)],
                         "distance_m": [10_000.0, np.nan, 30_000.0, 0.0]})
    out = session_spikes(acts).set_index("activity_id")
    # b: its own distance is unknown -> NaN category (never 'small' or 'none')
    assert pd.isna(out.loc["b", "spike_category"])
    assert np.isnan(out.loc["b", "spike_pct"])
    assert out.loc["b", "longest_prev_30d_km"] == 10.0
    # c: b is not history; 30 / 10 -> +200 %
    assert out.loc["c", "longest_prev_30d_km"] == 10.0
    assert out.loc["c", "spike_category"] == "large"
    # d: zero distance is not history either, and is not a spike
    assert out.loc["d", "spike_category"] == "none"


def test_unknown_distance_without_history_is_not_a_first_run():
    acts = pd.DataFrame({"activity_id": ["a", "b"], "sport": "running",
                         "local_date": [D(2024, 3, 1), D(2024, 3, 5)],
                         "distance_m": [np.nan, 8_000.0]})
    out = session_spikes(acts)
    assert pd.isna(out["spike_category"].iloc[0])
    assert out["spike_category"].iloc[1] == "first_run"  # a was no history
    assert np.isnan(out["longest_prev_30d_km"].iloc[1])


def test_only_zero_distance_history_is_a_first_run():
    out = session_spikes(_two_runs(0.0, 5.0))
    assert out["spike_category"].tolist() == ["first_run", "first_run"]


def test_missing_days_window_edges():
    # one run on Mar 31; a missing day counts when it is in Mar 1 .. Mar 31 (d-30 .. d)
    acts = pd.DataFrame({"activity_id": ["a"], "sport": "running",
                         "local_date": [D(2024, 3, 31)], "distance_m": [5_000.0]})
    for day, counted in ((D(2024, 2, 29), 0), (D(2024, 3, 1), 1), (D(2024, 3, 31), 1),
                         (D(2024, 4, 1), 0)):
        got = session_spikes(acts, known_missing=[day])["n_missing_days_30d"].iloc[0]
        assert got == counted, day
    many = pd.date_range("2024-02-20", "2024-04-10", freq="D")
    assert session_spikes(acts, known_missing=many)["n_missing_days_30d"].iloc[0] == 31


def test_window_days_parameter_moves_the_history_edge():
    acts = pd.DataFrame({"activity_id": ["a", "b"], "sport": "running",
                         "local_date": [D(2024, 3, 1), D(2024, 3, 11)],
                         "distance_m": [10_000.0, 15_000.0]})
    assert session_spikes(acts, window_days=10)["spike_category"].iloc[1] == "moderate"
    assert session_spikes(acts, window_days=9)["spike_category"].iloc[1] == "first_run"
    with pytest.raises(ValueError, match="window_days"):
        session_spikes(acts, window_days=0)
