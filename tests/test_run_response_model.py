"""run_response_model on runners the code did not shape.

The generator below is written here with numpy only (it never imports kneedata's
simulator): a persistent-pain runner (latent AR(1) pain around 3/10, a waking score
on ~90 % of mornings, integers), who runs more often on good mornings, with
next-morning flares planted after large spikes. Two traps are built in and must
not fool the model: runs are chosen on good days (trail runs only on the best
mornings, a null property), and regression to the mean (in the null runner the
spikes, too, are run on the best mornings).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import kneedata as kd
from kneedata import schema
from kneedata.models.run_response import (
    RUN_RESPONSE_COLUMNS,
    RUN_RESPONSE_STATUSES,
    RunResponseResult,
)

SEEDS = (0, 1, 2, 3)


def persistent_runner(seed: int, *, days: int = 730, flare: float = 1.0,
                      spike_on_good_days: bool = False, trail_on_good_days: bool = False
                      ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(activities, diary, truth per run) of one simulated runner."""
    rng = np.random.default_rng(seed)
    mu, phi, sd, noise = 3.0, 0.7, 0.7, 0.5
    start = pd.Timestamp("2023-01-02")
    state, bump = 0.0, 0.0
    acts, mornings, truth, history = [], [], [], []
    for t in range(days):
        state = phi * state + rng.normal(0, sd) + bump
        bump = 0.0
        score = float(np.clip(np.round(mu + state + rng.normal(0, noise)), 0, 10))
        day = start + pd.Timedelta(days=t)
        if rng.random() < 0.9:
            mornings.append((day, score))
        good = score <= mu - 1
        if rng.random() >= (0.6 if score <= mu + 1 else 0.2):   # rests when it hurts
            continue
        recent = [km for d, km in history if t - 30 <= d < t]
        km = float(np.clip(rng.normal(8, 1.5), 3, None))
        wants = (rng.random() < 0.25 and good) if spike_on_good_days else rng.random() < 0.08
        spike = bool(recent) and max(recent) < 12 and wants
        if spike:
            km = 2.3 * max(recent)        # more than twice the longest of 30 days
            bump = flare                  # the next morning is worse by `flare`
        trail = (rng.random() < 0.5 and good) if trail_on_good_days else rng.random() < 0.2
        history.append((t, km))
        acts.append({"activity_id": f"r{t}", "sport": "running",
                     "sub_sport": "trail" if trail else "generic",
                     "local_date": day.date(),
                     "start_time_utc": (day + pd.Timedelta(hours=17)).tz_localize("UTC"),
                     "utc_offset_min": 0.0, "distance_m": km * 1000.0,
                     "timer_time_s": km * 330.0, "avg_heart_rate_bpm": 150.0,
                     "descent_m": float(rng.gamma(2.0, 40.0))})
        truth.append((f"r{t}", day, spike, trail))
    diary = pd.DataFrame({"date": pd.to_datetime([d for d, _ in mornings]),
                          "time": "07:00", "side": "left",
                          "pain_0_10": [p for _, p in mornings], "timing": "next_morning"})
    truth_frame = pd.DataFrame(truth, columns=["activity_id", "date", "spike", "trail"])
    return pd.DataFrame(acts), diary, truth_frame


def _fit(seed: int, **kwargs):
    acts, diary, truth = persistent_runner(seed, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        derived = kd.derive(acts, diary)
    responses = kd.run_responses(derived)
    model = kd.run_response_model(derived, responses=responses)
    return model, responses.merge(truth.drop(columns="date"), on="activity_id"), diary


@pytest.fixture(scope="module")
def flared():
    """Flare 1.5 points after large spikes; trail runs (no effect) on good days only."""
    return [_fit(s, flare=1.5, trail_on_good_days=True) for s in SEEDS]


@pytest.fixture(scope="module")
def null():
    """No effect of anything; spikes and trail runs both on the best mornings."""
    return [_fit(s, flare=0.0, spike_on_good_days=True, trail_on_good_days=True)
            for s in SEEDS]


def _term(model, name):
    return model.table.set_index("term").loc[name]


def test_the_result_is_a_difference_model_with_the_contract_columns(flared):
    model = flared[0][0]
    assert isinstance(model, kd.ModelResult) and isinstance(model, RunResponseResult)
    assert model.ratio_kind == "difference" and model.model == "run_response"
    assert tuple(model.table.columns) == RUN_RESPONSE_COLUMNS == tuple(schema.RUN_RESPONSE_MODEL)
    assert set(model.table["status"]) <= set(RUN_RESPONSE_STATUSES)
    fitted = model.table[model.table["estimable"]]
    assert (fitted["n_runs"] == model.n_runs).all() and model.n_runs > 250
    text = model.summary_text()
    assert "spike_large" in text and "not estimable: no_variation" in text  # no treadmill


def test_a_planted_flare_after_spikes_is_covered_and_found(flared):
    rows = [_term(m, "spike_large") for m, _, _ in flared]
    covered = sum(r["ci_low"] <= 1.5 <= r["ci_high"] for r in rows)
    found = sum(r["ci_low"] > 0 and r["p_adjusted"] < 0.05 for r in rows)
    assert covered >= 3 and found >= 3, [r[["estimate", "ci_low", "ci_high"]].tolist()
                                          for r in rows]
    assert abs(np.mean([r["estimate"] for r in rows]) - 1.5) < 0.4


def test_runs_chosen_on_good_days_do_not_look_protective(flared):
    gaps = []
    for model, responses, diary in flared:
        # the trap is real: next mornings after run days beat those after rest days,
        # and trail runs (chosen on the best mornings) look protective when compared raw
        woke = diary.set_index("date")["pain_0_10"]
        run_days = set(responses["date"])
        nxt = woke.reindex(woke.index + pd.Timedelta(days=1)).to_numpy()
        was_run = np.array([d in run_days for d in woke.index])
        gaps.append(np.nanmean(nxt[was_run]) - np.nanmean(nxt[~was_run]))
        scored = responses.dropna(subset=["pain_next_morning"])
        raw = (scored.loc[scored["trail"], "pain_next_morning"].mean()
               - scored.loc[~scored["trail"], "pain_next_morning"].mean())
        assert raw < -0.3
        # the model compares run days only, with each other, adjusted for pre-run pain
        assert set(model.design["date"]) <= run_days
    assert max(gaps) < 0, gaps      # running looks protective, despite the flares
    trail = [_term(m, "trail") for m, _, _ in flared]
    assert sum(r["ci_low"] <= 0 <= r["ci_high"] for r in trail) >= 3
    assert abs(np.mean([r["estimate"] for r in trail])) < 0.2


def test_regression_to_the_mean_is_adjusted_away(null):
    change_score, estimates, covered = [], [], 0
    for model, responses, _ in null:
        scored = responses.dropna(subset=["change_24h"])
        change_score.append(scored.loc[scored["spike"], "change_24h"].mean()
                            - scored.loc[~scored["spike"], "change_24h"].mean())
        row = _term(model, "spike_large")
        estimates.append(row["estimate"])
        covered += row["ci_low"] <= 0 <= row["ci_high"]
    assert np.mean(change_score) > 0.2        # a plain change score is biased upwards
    assert abs(np.mean(estimates)) < 0.4 and covered >= 3


def test_a_null_runner_gives_no_false_finding(null):
    findings = [(i, r.term) for i, (m, _, _) in enumerate(null)
                for r in m.table.itertuples() if r.estimable and r.p_adjusted < 0.05]
    assert len(findings) <= 1, findings


def test_terms_the_data_cannot_estimate_say_why_and_carry_no_number(flared):
    model = flared[0][0]
    for term in ("cadence_deviation_pct", "new_shoe", "high_km_shoe", "treadmill"):
        row = _term(model, term)
        assert not row["estimable"] and np.isnan(row["estimate"]) and row["why"]
        assert np.isnan(row["ci_low"]) and np.isnan(row["p_adjusted"])
    assert _term(model, "cadence_deviation_pct")["status"] == "too_few_runs"
    assert _term(model, "treadmill")["status"] == "no_variation"


def test_too_few_scored_runs_estimate_nothing():
    acts, diary, _ = persistent_runner(5, days=25, flare=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        derived = kd.derive(acts, diary)
    model = kd.run_response_model(derived, ["spike_large", "descent_m", "trail"])
    assert not model.table["estimable"].any()
    assert set(model.table["status"]) <= {"too_few_runs", "no_variation"}
    assert model.table["estimate"].isna().all()
    assert any("Not enough scored runs" in w for w in model.warnings)
    with pytest.raises(ValueError, match="unknown exposure"):
        kd.run_response_model(derived, ["spikes"])


def test_detectable_flare_matches_a_simulation_of_the_fitted_model(null):
    from kneedata.experiment import _fast_fit
    from kneedata.models.run_response import _matrix

    model = null[1][0]
    acts, diary, _ = persistent_runner(SEEDS[1], flare=0.0, spike_on_good_days=True,
                                       trail_on_good_days=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        derived = kd.derive(acts, diary)
    result = kd.detectable_flare(derived, target=0.5)
    assert result["basis"] == "fit" and result["n_runs"] == model.n_runs
    assert 0.3 < result["detectable_points"] < 3
    assert result["weeks_more"] > 0 and "more weeks of diary" in result["text"]
    # simulate the fitted model with the spike coefficient set to the detectable flare
    terms = model.settings["terms_fitted"]
    day, _, X, first = _matrix(model.design, terms)
    beta = np.asarray(model.results.params, dtype=float).copy()
    j = first + terms.index("spike_large")
    beta[j] = result["detectable_points"]
    phi, sigma = model.settings["ar1_phi"], model.settings["sigma"]
    rng = np.random.default_rng(7)
    calendar = np.arange(day.min(), day.max() + 1)
    found, reps = 0, 300
    for _ in range(reps):
        e = rng.normal(0, sigma, len(calendar))
        u = np.empty(len(calendar))
        u[0] = e[0] / np.sqrt(1 - phi**2)
        for t in range(1, len(calendar)):
            u[t] = phi * u[t - 1] + e[t]
        y = X @ beta + u[day - day.min()]
        b, se, df, _, _ = _fast_fit(day, y, X)
        found += abs(b[j] / se[j]) > stats_t(df)
    assert abs(found / reps - 0.8) < 0.08, found / reps
    # more diary is needed for 0.5 points: the weeks follow 1/sqrt(n)
    n_needed = result["n_runs"] * (result["detectable_points"] / 0.5) ** 2
    weeks = (n_needed - result["n_runs"]) / result["runs_per_week"]
    assert result["weeks_more"] == pytest.approx(np.ceil(weeks))


def stats_t(df: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.975, df))


def test_detectable_flare_of_a_flag_the_runner_never_had(flared):
    acts, diary, _ = persistent_runner(SEEDS[0], flare=1.5, trail_on_good_days=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        derived = kd.derive(acts, diary)
    never = kd.detectable_flare(derived, "treadmill")
    assert list(never.index) == list(schema.DETECTABLE_FLARE)  # every field in the glossary
    assert never["basis"] == "hypothetical" and never["n_exposed"] == 0
    assert 0.3 < never["detectable_points"] < 3 and "if you had such runs" in never["text"]
    with pytest.raises(ValueError, match="not a flag"):
        kd.detectable_flare(derived, "descent_m")


def test_pre_pain_levels_compare_runs_that_started_from_the_same_score(flared):
    model, _, _ = flared[0]
    acts, diary, _ = persistent_runner(SEEDS[0], flare=1.5, trail_on_good_days=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        derived = kd.derive(acts, diary)
    levels = kd.run_response_model(derived, pre_pain="levels")
    assert levels.settings["n_pre_levels"] >= 3 and model.settings["n_pre_levels"] == 0
    row = _term(levels, "spike_large")
    assert row["ci_low"] <= 1.5 <= row["ci_high"] and row["ci_low"] > 0
    with pytest.raises(ValueError, match="pre_pain"):
        kd.run_response_model(derived, pre_pain="spline")


def _complete_case_runs() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(responses, features) of 80 run days built here: 6 large spikes, 2 of them
    (and 10 other runs) without a descent, so the complete cases keep 4 spikes;
    a pre-run level of 7/10 on 6 runs, 2 of them without a descent."""
    rng = np.random.default_rng(7)
    n = 80
    pre = rng.choice([2.0, 3.0, 4.0], size=n)
    pre[[10, 20, 30, 40, 50, 60]] = 7.0
    spike = np.zeros(n)
    spike[[5, 15, 25, 35, 45, 55]] = 1.0
    trail = (np.arange(n) % 4 == 0).astype(float)
    descent = rng.gamma(2.0, 40.0, size=n)
    after = 1.0 + 0.5 * pre + 1.0 * spike + 0.25 * descent / 100 + rng.normal(0, 0.5, n)
    descent[[5, 15, 10, 20, 1, 2, 3, 6, 7, 8, 9, 11]] = np.nan   # 2 spikes, 2 level-7 runs
    ids = [f"r{i}" for i in range(n)]
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(2 * np.arange(n), unit="D")
    responses = pd.DataFrame({"activity_id": ids, "date": dates, "pain_before": pre,
                              "pain_next_morning": np.round(after)})
    features = pd.DataFrame({"activity_id": ids, "spike_large": spike.astype(bool),
                             "descent_m": descent, "trail": trail.astype(bool)})
    return responses, features


def test_a_flag_is_counted_on_the_runs_the_fit_keeps():
    responses, features = _complete_case_runs()
    fit = kd.run_response_model(None, ["spike_large", "descent_m", "trail"],
                                responses=responses, features=features)
    spike = _term(fit, "spike_large")
    # 6 spikes among the scored runs, only 4 where the descent is known too
    assert not spike["estimable"] and spike["status"] == "too_few_runs"
    assert spike["n_exposed"] == 4 and np.isnan(spike["estimate"])
    assert "4 scored runs with it" in spike["why"] and "6 with it among all 80" in spike["why"]
    # the other terms are refitted without it, on the 68 runs with a descent
    alone = kd.run_response_model(None, ["descent_m", "trail"], responses=responses,
                                  features=features)
    for term in ("descent_m", "trail"):
        assert _term(fit, term)["estimable"] and _term(fit, term)["n_runs"] == 68
        assert _term(fit, term)["estimate"] == pytest.approx(_term(alone, term)["estimate"])
    assert fit.settings["terms_fitted"] == ["descent_m", "trail"]
    # without the descent term all 6 spikes are fitted
    both = kd.run_response_model(None, ["spike_large", "trail"], responses=responses,
                                 features=features)
    assert _term(both, "spike_large")["estimable"] and _term(both, "spike_large")["n_exposed"] == 6


def test_a_pre_run_level_is_counted_on_the_runs_the_fit_keeps():
    responses, features = _complete_case_runs()
    kwargs = {"responses": responses, "features": features, "pre_pain": "levels"}
    # 7/10 before 6 runs: its own mean when all are fitted, none when 2 lack the descent
    assert kd.run_response_model(None, ["trail"], **kwargs).settings["n_pre_levels"] == 3
    assert kd.run_response_model(None, ["descent_m"], **kwargs).settings["n_pre_levels"] == 2
