"""kneedata.plots: check what was drawn (bar heights, points, lines, labels), not pixels.

Every input is a small hand-built frame in the contract layout (TEAM.md / issues 5-6),
so each expected value can be checked by eye against the frame above it.
"""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.container import BarContainer, ErrorbarContainer

from kneedata import plots
from kneedata.errors import SchemaError


@pytest.fixture
def daily() -> pd.DataFrame:
    # 10 local days, runs on 4 of them (contract: DatetimeIndex 'date', rest days 0)
    idx = pd.date_range("2025-03-01", periods=10, freq="D", name="date")
    km = [5.0, 0, 8.0, 0, 0, 12.5, 0, 6.0, 0, 0]
    return pd.DataFrame({"distance_km": km, "n_runs": [int(k > 0) for k in km]}, index=idx)


@pytest.fixture
def diary() -> pd.DataFrame:
    # three entries, two on the same day (read_pain_diary layout)
    return pd.DataFrame({
        "date": pd.to_datetime(["2025-03-06", "2025-03-07", "2025-03-07"]),
        "side": ["left", "left", "left"],
        "pain_0_10": [2.0, 4.0, 5.0],
    })


@pytest.fixture
def episodes() -> pd.DataFrame:
    # one closed episode (3 days) and one still open (end unknown)
    return pd.DataFrame({
        "episode_id": [1, 2],
        "onset_date": pd.to_datetime(["2025-03-07", "2025-03-10"]),
        "end_date": pd.to_datetime(["2025-03-09", pd.NaT]),
        "end_known": [True, False],
    })


def _bars(ax) -> BarContainer:
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert len(bars) == 1
    return bars[0]


# --- axis_label ---------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), [
    ("cadence_spm", "cadence (steps/min)"),   # schema.RECORDS unit
    ("speed_m_s", "speed (m/s)"),             # schema.RECORDS unit
    ("distance_km", "distance (km)"),         # glossary or suffix fallback
])
def test_axis_label_has_unit(name, expected):
    assert plots.axis_label(name) == expected


# --- timeline -----------------------------------------------------------------------


def test_timeline_bars_points_and_shading(daily, diary, episodes):
    ax = plots.timeline(daily, episodes=episodes, diary=diary)
    bars = _bars(ax)
    # one bar per day, heights = the daily km of the fixture
    assert [p.get_height() for p in bars] == daily["distance_km"].tolist()
    # bar centres sit on the local dates
    centres = [p.get_x() + p.get_width() / 2 for p in bars]
    np.testing.assert_allclose(centres, mdates.date2num(daily.index.to_pydatetime()))
    assert ax.get_ylabel() == "distance (km)"

    # pain axis: the twin, fixed 0-10 scale, three points with the diary values
    twins = [a for a in ax.figure.axes if a is not ax]
    assert len(twins) == 1
    pain_ax = twins[0]
    lo, hi = pain_ax.get_ylim()
    assert lo <= 0 and 10 <= hi <= 10.5
    assert "pain" in pain_ax.get_ylabel() and "0-10" in pain_ax.get_ylabel()
    points = [c for c in pain_ax.collections if isinstance(c, PathCollection)]
    assert len(points) == 1
    np.testing.assert_array_equal(points[0].get_offsets()[:, 1], [2.0, 4.0, 5.0])

    # two episodes shaded; the open one runs to the last day of the frame
    spans = [p for p in ax.patches if p not in list(bars)]
    assert len(spans) == 2
    x0, x1 = spans[1].get_x(), spans[1].get_x() + spans[1].get_width()
    assert x0 == pytest.approx(mdates.date2num(pd.Timestamp("2025-03-09 12:00")))  # onset - 12 h
    assert x1 == pytest.approx(mdates.date2num(pd.Timestamp("2025-03-10 12:00")))  # last day + 12 h
    legend_texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend_texts == ["distance (km)", "pain episode", "pain entry (grey: no pain)"]


def test_timeline_without_diary_draws_one_axes(daily):
    ax = plots.timeline(daily)
    assert len(ax.figure.axes) == 1
    assert len(_bars(ax)) == 10


def test_timeline_accepts_date_column_and_given_ax(daily):
    _, given = plt.subplots()
    ax = plots.timeline(daily.reset_index(), ax=given)
    assert ax is given
    assert [p.get_height() for p in _bars(ax)] == daily["distance_km"].tolist()


def test_timeline_does_not_modify_inputs(daily, diary, episodes):
    before = (daily.copy(), diary.copy(), episodes.copy())
    plots.timeline(daily, episodes=episodes, diary=diary)
    for original, frame in zip(before, (daily, diary, episodes), strict=True):
        pd.testing.assert_frame_equal(original, frame)


def test_timeline_missing_column_names_it(daily):
    with pytest.raises(SchemaError, match="distance_km"):
        plots.timeline(daily.drop(columns="distance_km"))


# --- acute_chronic ------------------------------------------------------------------


@pytest.fixture
def load() -> pd.DataFrame:
    # load_metrics layout (schema.LOAD_METRICS); values chosen by hand
    idx = pd.date_range("2025-01-01", periods=6, freq="D", name="date")
    frame = pd.DataFrame({
        "distance_km": [5, 0, 10, 0, 7, 0],
        "acute_7d": [20.0, 22, 25, 30, 28, 27],
        "chronic_28d": [20.0, 20.5, 21, 22, 23, 23.5],
        "chronic_prev_21d": [20.0, 20.0, 20, 20, 21.5, 22.5],
        "acwr_uncoupled": [1.0, 1.1, 1.25, 1.5, 1.3, 1.2],
        "acwr_coupled": [1.0, 1.07, 1.19, 1.36, 1.23, 1.15],
        "ewma_acute_7d": [3.0, 3.1, 3.5, 4.0, 4.2, 3.9],
        "ewma_chronic_28d": [3.0, 3.0, 3.1, 3.1, 3.2, 3.2],
        "acwr_ewma": [1.0, 1.05, 1.2, 1.4, 1.3, 1.2],
    }, index=idx)
    frame.attrs["load_column"] = "distance_km"
    return frame


@pytest.mark.parametrize(("ratio", "acute", "chronic", "ylabel"), [
    ("acwr_uncoupled", "acute_7d", "chronic_prev_21d", "load (km/week)"),
    ("acwr_coupled", "acute_7d", "chronic_28d", "load (km/week)"),
    ("acwr_ewma", "ewma_acute_7d", "ewma_chronic_28d", "load (km/day)"),
])
def test_acute_chronic_draws_the_ratios_own_parts(load, ratio, acute, chronic, ylabel):
    ax = plots.acute_chronic(load, ratio=ratio)
    lines = ax.get_lines()
    assert len(lines) == 2
    np.testing.assert_array_equal(lines[0].get_ydata(), load[acute].to_numpy())
    np.testing.assert_array_equal(lines[1].get_ydata(), load[chronic].to_numpy())
    assert ax.get_ylabel() == ylabel
    ratio_ax = [a for a in ax.figure.axes if a is not ax][0]
    # ratio line + reference line at 1
    ratio_lines = ratio_ax.get_lines()
    assert len(ratio_lines) == 2
    np.testing.assert_array_equal(ratio_lines[0].get_ydata(), load[ratio].to_numpy())
    assert list(ratio_lines[1].get_ydata()) == [1.0, 1.0]
    title = ax.get_title(loc="left").replace("\n", " ")
    assert "mathematically coupled" in title
    assert "numerator and denominator" in title


def test_acute_chronic_bad_ratio_option(load):
    with pytest.raises(ValueError, match="`ratio` must be one of"):
        plots.acute_chronic(load, ratio="acwr")


def test_acute_chronic_missing_denominator(load):
    with pytest.raises(SchemaError, match="chronic_prev_21d"):
        plots.acute_chronic(load.drop(columns="chronic_prev_21d"))


# --- cadence_speed ------------------------------------------------------------------


@pytest.fixture
def runs() -> pd.DataFrame:
    # 6 runs, one per week; an episode starts 2025-02-10 -> with a 21-day window
    # (days -21..-1 = 01-20..02-09) 3 runs are inside: 01-20, 01-27, 02-03
    return pd.DataFrame({
        "activity_id": [f"r{i}" for i in range(6)],
        "local_date": pd.to_datetime(["2025-01-06", "2025-01-13", "2025-01-20",
                                      "2025-01-27", "2025-02-03", "2025-02-10"]),
        "speed_moving_m_s": [2.8, 3.0, 3.2, 2.9, 3.1, 3.3],
        "cadence_moving_spm": [168.0, 170, 172, 160, 162, 174],
    })


def test_cadence_speed_points_curve_and_highlight(runs):
    ep = pd.DataFrame({"onset_date": pd.to_datetime(["2025-02-10"]),
                       "end_date": pd.to_datetime(["2025-02-20"])})
    curve = pd.DataFrame({"speed_m_s": [3.3, 2.8], "cadence_spm": [175.0, 166.0]})
    ax = plots.cadence_speed(runs, curve=curve, highlight=ep, highlight_days=21, pace=None)
    sets = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(sets) == 2
    normal, high = (s.get_offsets() for s in sets)
    assert len(normal) == 3 and len(high) == 3
    np.testing.assert_array_equal(high[:, 1], [172.0, 160.0, 162.0])
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [2.8, 3.3])  # sorted by speed
    assert ax.get_xlabel() == "speed (metres per second)"
    assert ax.get_ylabel() == "cadence (steps per minute)"
    assert "21 days before an episode" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_cadence_speed_records_mask_and_callable_curve():
    rec = pd.DataFrame({"speed_m_s": [2.5, 3.0, 3.5, 4.0],
                        "cadence_spm": [160.0, 166, 172, 178]})
    ax = plots.cadence_speed(rec, curve=lambda v: 130 + 12 * v,
                             highlight=np.array([False, True, False, False]), pace=None)
    sets = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [len(s.get_offsets()) for s in sets] == [3, 1]
    (line,) = ax.get_lines()
    # evaluated across the speeds present: 2.5 -> 160, 4.0 -> 178
    assert line.get_xdata()[0] == 2.5 and line.get_xdata()[-1] == 4.0
    assert line.get_ydata()[0] == pytest.approx(160.0) and line.get_ydata()[-1] == pytest.approx(178.0)


@pytest.mark.parametrize(("unit", "metres", "word"), [("min/km", 1000.0, "km"),
                                                       ("min/mi", 1609.344, "mile")])
def test_cadence_against_pace_in_the_runners_unit(runs, unit, metres, word):
    # 3.0 m/s = 1000 / 3 / 60 = 5.556 min/km (5:33); the line is drawn only over the
    # speeds of the curve given (2.8-3.3 m/s), faster paces to the right
    curve = pd.DataFrame({"speed_m_s": [2.8, 3.3], "cadence_spm": [166.0, 175.0]})
    ax = plots.cadence_speed(runs, curve=curve, pace=unit)
    (points,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    np.testing.assert_allclose(points.get_offsets()[:, 0],
                               metres / runs["speed_moving_m_s"].to_numpy() / 60)
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_xdata(), [metres / 2.8 / 60, metres / 3.3 / 60])
    assert ax.get_xlabel() == f"pace (minutes per {word}; faster to the right)"
    assert ax.get_ylabel() == "cadence (steps per minute)"
    assert ax.xaxis_inverted()
    assert ax.xaxis.get_major_formatter()(5.5, 0) == "5:30"
    assert ax.xaxis.get_major_formatter()(4.999, 0) == "5:00"
    with pytest.raises(ValueError, match="min/km"):
        plots.cadence_speed(runs, pace="min/m")


def test_cadence_speed_wrong_mask_length(runs):
    with pytest.raises(ValueError, match="6 rows"):
        plots.cadence_speed(runs, highlight=[True, False])


def test_cadence_speed_needs_cadence():
    with pytest.raises(SchemaError, match="cadence"):
        plots.cadence_speed(pd.DataFrame({"speed_m_s": [3.0]}))


def test_before_episodes_window():
    # onset 2025-02-10, 7-day window -> 02-03 .. 02-09 inside; onset day itself not
    dates = pd.to_datetime(["2025-02-02", "2025-02-03", "2025-02-09", "2025-02-10"])
    ep = pd.DataFrame({"onset_date": pd.to_datetime(["2025-02-10"])})
    assert plots.before_episodes(dates, ep, days=7).tolist() == [False, True, True, False]
    assert plots.before_episodes(dates, None).tolist() == [False] * 4


# --- shoe_km ------------------------------------------------------------------------


@pytest.fixture
def shoes() -> pd.DataFrame:
    return pd.DataFrame({
        "shoe_id": ["A", "B", "C"],
        "name": ["Daily trainer", "Trail", "Racer"],
        "distance_km": [812.0, 240.5, 95.0],
        "n_episodes": [4, 1, 0],
        "episodes_per_100km": [4 / 8.12, 1 / 2.405, 0.0],
        "episodes_per_100km_low": [0.13, 0.01, 0.0],
        "episodes_per_100km_high": [1.26, 2.32, 3.88],
    })


def test_shoe_km_bars_and_rate_intervals(shoes):
    ax = plots.shoe_km(shoes)
    bars = _bars(ax)
    assert [p.get_width() for p in bars] == [812.0, 240.5, 95.0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Daily trainer", "Trail", "Racer"]
    assert ax.get_xlabel() == "distance (km)"
    rate_ax = [a for a in ax.figure.axes if a is not ax][0]
    (err,) = [c for c in rate_ax.containers if isinstance(c, ErrorbarContainer)]
    data_line, _, (segments,) = err.lines
    np.testing.assert_allclose(data_line.get_xdata(), shoes["episodes_per_100km"])
    # each interval segment spans ci_low..ci_high
    spans = np.array([[seg[0][0], seg[1][0]] for seg in segments.get_segments()])
    np.testing.assert_allclose(spans, shoes[["episodes_per_100km_low", "episodes_per_100km_high"]].to_numpy())
    assert "per 100 km" in rate_ax.get_xlabel()


def test_shoe_km_without_rate(shoes):
    ax = plots.shoe_km(shoes[["shoe_id", "distance_km"]])
    assert len(ax.figure.axes) == 1
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "C"]


# --- forest -------------------------------------------------------------------------


@pytest.fixture
def model_table() -> pd.DataFrame:
    # ModelResult.table layout (issue 6)
    return pd.DataFrame({
        "term": ["spike_large_7d", "cadence_low_28d", "strength_7d", "new_shoe_7d"],
        "ratio": [6.0, 1.2, 0.7, np.nan],
        "ci_low": [1.5, 0.6, 0.3, np.nan],
        "ci_high": [24.0, 2.4, 1.6, np.nan],
        "p_value": [0.01, 0.6, 0.4, np.nan],
        "p_adjusted": [0.03, 0.6, 0.6, np.nan],
        "n_episodes": [19, 19, 19, 19],
    })


def test_forest_points_intervals_reference(model_table):
    ax = plots.forest(model_table)
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["spike_large_7d", "cadence_low_28d", "strength_7d",
                      "new_shoe_7d (not estimable)"]
    (points,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    np.testing.assert_allclose(points.get_offsets()[:, 0], [6.0, 1.2, 0.7])
    np.testing.assert_allclose(points.get_offsets()[:, 1], [0, 1, 2])
    (ci,) = [c for c in ax.collections if not isinstance(c, PathCollection)]
    segs = np.array([[s[0][0], s[1][0]] for s in ci.get_segments()])
    np.testing.assert_allclose(segs, [[1.5, 24.0], [0.6, 2.4], [0.3, 1.6]])
    refs = [ln for ln in ax.get_lines() if list(ln.get_xdata()) == [1.0, 1.0]]
    assert len(refs) == 1
    assert "n = 19 episodes" in ax.get_title()
    lo, hi = ax.get_xlim()
    assert lo < 0.3 and hi > 24.0


def test_forest_clips_infinite_interval_with_arrow():
    table = pd.DataFrame({"term": ["x"], "ratio": [8.0], "ci_low": [0.9],
                          "ci_high": [np.inf], "n_episodes": [5]})
    ax = plots.forest(table)
    (ci,) = [c for c in ax.collections if not isinstance(c, PathCollection)]
    (seg,) = ci.get_segments()
    assert seg[1][0] == pytest.approx(ax.get_xlim()[1])  # drawn to the edge
    assert len(ax.texts) == 1  # the arrow annotation


def test_forest_needs_contract_columns(model_table):
    with pytest.raises(SchemaError, match="ci_high"):
        plots.forest(model_table.drop(columns="ci_high"))


# --- long histories (issue 13) --------------------------------------------------------


@pytest.fixture
def fourteen_years() -> tuple[pd.DataFrame, pd.DataFrame]:
    # 14 years of daily km: a 10 km run every third day, one 49.9 km run in 2015,
    # and a pain diary kept only in the last year (hand-built, nothing random)
    idx = pd.date_range("2011-01-01", "2024-12-31", freq="D", name="date")
    km = np.where(np.arange(len(idx)) % 3 == 0, 10.0, 0.0)
    km[idx.get_loc(pd.Timestamp("2015-06-07"))] = 49.9
    daily = pd.DataFrame({"distance_km": km}, index=idx)
    diary = pd.DataFrame({
        "date": pd.date_range("2024-01-10", "2024-12-20", freq="10D"),
        "side": "left", "pain_0_10": 2.0,
    })
    return daily, diary


def _bar_width_px(ax) -> float:
    ax.figure.canvas.draw()
    tallest = max((p for c in ax.containers if isinstance(c, BarContainer) for p in c),
                  key=lambda p: p.get_height())
    x0, _ = ax.transData.transform((tallest.get_x(), 0))
    x1, _ = ax.transData.transform((tallest.get_x() + tallest.get_width(), 0))
    return x1 - x0


def test_timeline_keeps_bars_visible_and_focuses_on_the_diary(fourteen_years):
    # issue 13: 1-day bars over 14 years were 0.2 px wide; the 49.9 km run vanished
    daily, diary = fourteen_years
    ax = plots.timeline(daily, diary=diary)
    lo, hi = (mdates.num2date(x).replace(tzinfo=None) for x in ax.get_xlim())
    # the main panel shows the diary period (from 8 weeks before the first entry)
    assert pd.Timestamp("2023-11-01") <= lo <= pd.Timestamp("2023-11-16")
    assert hi >= pd.Timestamp("2024-12-20")
    assert _bar_width_px(ax) >= 2
    # the whole history stays as context above, with the long run in a visible bar
    context = ax.figure.axes[0]
    assert context is not ax and _bars(context)
    c_lo, c_hi = (mdates.num2date(x).replace(tzinfo=None) for x in context.get_xlim())
    assert c_lo <= pd.Timestamp("2011-01-02") and c_hi >= pd.Timestamp("2024-12-30")
    assert _bar_width_px(context) >= 2
    heights = [p.get_height() for p in _bars(context)]
    assert max(heights) >= 49.9  # the month holding the long run
    assert sum(heights) == pytest.approx(daily["distance_km"].sum())  # nothing dropped


def test_timeline_without_a_diary_bins_a_long_history(fourteen_years):
    daily, _ = fourteen_years
    ax = plots.timeline(daily)
    assert len(ax.figure.axes) == 1
    assert _bar_width_px(ax) >= 2
    assert "per month" in ax.get_ylabel()
    assert sum(p.get_height() for p in _bars(ax)) == pytest.approx(daily["distance_km"].sum())


def test_acute_chronic_focuses_on_the_diary_over_many_years(fourteen_years):
    daily, diary = fourteen_years
    from kneedata.metrics.load import load_metrics

    load = load_metrics(daily.assign(n_runs=(daily["distance_km"] > 0).astype(int)))
    ax = plots.acute_chronic(load, diary=diary)
    lo, _ = (mdates.num2date(x).replace(tzinfo=None) for x in ax.get_xlim())
    assert lo >= pd.Timestamp("2023-11-01")
    first_x = mdates.num2date(ax.get_lines()[0].get_xdata()[0]).replace(tzinfo=None) \
        if not isinstance(ax.get_lines()[0].get_xdata()[0], (np.datetime64, pd.Timestamp)) \
        else pd.Timestamp(ax.get_lines()[0].get_xdata()[0])
    assert first_x >= pd.Timestamp("2023-11-01")
    context = ax.figure.axes[0]
    assert context is not ax and len(context.get_lines()) == 2


def test_recovery_draws_each_measure_against_its_band_and_load_with_pain(daily, diary):
    # 20 days: RHR 50 for 19 days (band 49-51: SD floor 1 bpm), then 60; no HRV
    from kneedata.metrics.recovery import recovery_bands

    dates = pd.date_range("2025-02-20", periods=20, freq="D")
    wellness = pd.DataFrame({"date": dates, "sleep_duration_h": [7.5, 6.5] * 10,
                             "resting_hr_bpm": [50.0] * 19 + [60.0],
                             "hrv_rmssd_ms": np.nan, "hrv_sdnn_ms": np.nan})
    ax = plots.recovery(recovery_bands(wellness), daily=daily, diary=diary)
    panels = [a for a in ax.figure.axes if a.get_ylabel()]
    labels = [a.get_ylabel() for a in panels]
    assert labels[:2] == ["sleep the night before (h)", "resting HR (beats/min)"]
    assert "km per week" in labels and "pain (0-10)" in labels
    rhr = panels[1]
    flagged = [c for c in rhr.collections if isinstance(c, PathCollection)]
    assert len(flagged[0].get_offsets()) == 1  # only the 60 is above the band
    bars = [c for c in ax.figure.axes[2].containers if isinstance(c, BarContainer)]
    assert sum(b.get_height() for b in bars[0]) == pytest.approx(31.5)  # 5 + 8 + 12.5 + 6 km
    with pytest.raises(ValueError, match="recovery_bands"):
        plots.recovery({})
