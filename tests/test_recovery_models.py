"""The recovery family in the models and the report, on a runner the code did not shape.

The generator below imports nothing from kneedata: a runner whose waking pain follows
an AR(1) process, who runs about four evenings a week, and whose knee is 1.5 points
worse the morning after a run that followed a night under 7 h asleep (nothing else
matters). kneedata must recover the planted 1.5 points from the files' layout
(activities, diary, wellness by wake date).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

import kneedata as kd
from kneedata.findings import ReportFits, findings_table, fit_lead
from kneedata.recovery import (
    RUN_SECTION,
    fit_recovery_runs,
    recovery_run_rows,
    with_recovery,
)
from kneedata.report import ReportTables, _section_recovery

EFFECT_POINTS = 1.5  # planted: next-morning pain after a run that followed a short night


def _runner(seed: int, *, effect: float = EFFECT_POINTS, days: int = 300, level: float = 0.8):
    """(activities, diary, wellness) of one simulated runner (no kneedata inside).

    ``level``: the waking pain's drift (its mean is ``level / 0.4`` points); one run
    in 15 is a long one (25 km), nothing but sleep changes the pain.
    """
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    sleep = rng.normal(7.3, 0.9, days)  # the night ending on each date
    short = sleep < 7.0
    ran = rng.random(days) < 4 / 7
    ran[-1] = False
    latent = np.empty(days)
    latent[0] = 2.0
    for t in range(1, days):
        bump = effect * (ran[t - 1] and short[t - 1])
        latent[t] = 0.6 * latent[t - 1] + level + bump + rng.normal(0, 0.7)
    pain = np.clip(np.round(latent), 0, 10)
    diary = pd.DataFrame({"date": dates, "time": "07:00", "side": "right",
                          "site": "around_kneecap", "pain_0_10": pain,
                          "timing": "next_morning"})
    run_days = dates[ran]
    acts = pd.DataFrame({
        "activity_id": [f"r{i}" for i in range(len(run_days))], "sport": "running",
        "sub_sport": "generic", "local_date": run_days,
        "start_time_utc": (run_days + pd.Timedelta(hours=18)).tz_localize("UTC"),
        "utc_offset_min": 0.0, "distance_m": np.where(rng.random(len(run_days)) < 1 / 15,
                                                      25000.0, rng.uniform(5000, 10000,
                                                                           len(run_days))),
        "timer_time_s": rng.uniform(1800, 4000, len(run_days)),
        "avg_heart_rate_bpm": 150.0})
    wellness = pd.DataFrame({"date": dates, "sleep_duration_h": sleep,
                             "resting_hr_bpm": np.round(rng.normal(50, 2, days)),
                             "hrv_rmssd_ms": np.nan, "hrv_sdnn_ms": np.nan})
    return acts, diary, wellness


def _derived(seed: int, **kw):
    acts, diary, wellness = _runner(seed, **kw)
    with pytest.warns(kd.DataQualityWarning):  # HR bounds estimated from the runs
        return kd.derive(acts, diary, wellness=wellness)


@pytest.mark.slow
def test_the_run_response_model_recovers_a_planted_short_sleep_effect():
    derived = _derived(7)
    table = fit_recovery_runs(derived, exposures=["short_sleep", "resting_hr_high"])
    row = table.set_index("term").loc["short_sleep"]
    assert bool(row["estimable"]) and row["n_runs"] > 100
    assert row["ci_low"] < EFFECT_POINTS < row["ci_high"]
    assert row["ci_low"] > 0  # the planted effect is seen
    rhr = table.set_index("term").loc["resting_hr_high"]  # planted nothing
    assert rhr["ci_low"] < 0 < rhr["ci_high"]
    rows = recovery_run_rows(derived, exposures=["short_sleep"])
    assert rows["section"].eq(RUN_SECTION).all() and not rows["finding"].any()


def test_without_the_effect_short_sleep_is_not_seen():
    table = fit_recovery_runs(_derived(7, effect=0.0), exposures=["short_sleep"])
    row = table.iloc[0]
    assert row["ci_low"] < 0 < row["ci_high"]


def test_the_family_shares_the_leads_correction():
    derived = _derived(11, level=0.5, days=600)  # pain 1.25 on average: episodes
    frame = kd.analysis_frame(derived)
    primary, _, _ = fit_lead(frame)
    assert primary is not None
    fits = with_recovery(ReportFits(primary=primary), frame)
    assert fits.recovery is not None
    lead, rec = fits.primary.table, fits.recovery.table
    assert set(rec["exposure"]) >= {"short_sleep", "sleep_vs_usual_h", "resting_hr_high"}
    p = np.concatenate([lead["p_value"], rec["p_value"]])
    ok = np.isfinite(p)
    want = multipletests(p[ok], method="fdr_bh")[1]  # statsmodels, m = lead + recovery
    got = np.concatenate([lead["p_adjusted"], rec["p_adjusted"]])[ok]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    rows = findings_table(fits)
    assert rows["section"].eq("lead: recovery").sum() == len(rec)


def test_the_report_section_says_what_would_fill_it():
    acts, diary, _ = _runner(3, days=60)
    with pytest.warns(kd.DataQualityWarning):
        bare = kd.derive(acts, diary)
    text = _section_recovery(ReportTables(derived=bare), {})
    assert "Sleep and recovery" in text and "kneedata import" in text
    assert "sleep_quality_1_5" in text
    full = _section_recovery(ReportTables(derived=_derived(3)), {})
    assert "300 nights of sleep" in full and "300 days of resting HR" in full


class _Tables:
    """The parts of a Store the report reads (activities, no records, wellness)."""

    def __init__(self, acts: pd.DataFrame, wellness: pd.DataFrame) -> None:
        self._acts, self._wellness = acts, wellness

    def activities(self) -> pd.DataFrame:
        return self._acts

    def records(self, activity_id: str) -> pd.DataFrame:
        raise KeyError(activity_id)

    def records_map(self) -> None:  # no records: no gait
        return None

    def wellness(self) -> pd.DataFrame:
        return self._wellness


@pytest.mark.slow
def test_the_report_draws_and_states_the_recovery_family(tmp_path):
    acts, diary, wellness = _runner(11, level=0.5, days=200)
    out = tmp_path / "report"
    kd.write_report(_Tables(acts, wellness), diary=diary, out=out, progress=False)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<h2>Sleep and recovery</h2>" in html and "200 nights of sleep" in html
    assert (out / "figures" / "recovery.png").is_file()
    rows = pd.read_csv(out / "findings.csv")
    assert rows["section"].eq(RUN_SECTION).any()
    assert "short_sleep" in set(rows.loc[rows["section"].eq(RUN_SECTION), "term"])
