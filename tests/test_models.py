"""Models: window/referent definitions by hand, validation by simulation, cross-checks."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import kneedata as kd
from kneedata.errors import DataQualityWarning, ModelWarning, SchemaError
from kneedata.models import STATUSES, TABLE_COLUMNS, ModelFitError

LOG3 = np.log(3.0)
Z95 = 1.959964


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# ------------------------------------------------- referent windows, by hand
def _hand_frame() -> pd.DataFrame:
    """One runner, 2024-01-01 .. 2024-06-30, two episodes.

    Episode A: onset 2024-02-20, pain Feb 20-22, not at risk Feb 21 .. Mar 7.
    Episode B: onset 2024-05-07, pain May 7-9, not at risk May 8 .. May 23.
    Exposure x = day number (0 = Jan 1); unknown on Apr 20.
    """
    dates = pd.date_range("2024-01-01", "2024-06-30", freq="D").as_unit("ns")
    frame = pd.DataFrame({"runner_id": "r1", "date": dates,
                          "x": np.arange(len(dates), dtype=float)})
    frame.loc[frame["date"] == "2024-04-20", "x"] = np.nan
    frame["onset"] = frame["date"].isin(pd.to_datetime(["2024-02-20", "2024-05-07"]))
    frame["in_episode"] = frame["date"].between("2024-02-20", "2024-02-22") | frame[
        "date"].between("2024-05-07", "2024-05-09")
    blocked = frame["date"].between("2024-02-21", "2024-03-07") | frame["date"].between(
        "2024-05-08", "2024-05-23")
    frame["at_risk"] = ~blocked
    frame["runner_id"] = frame["runner_id"].astype("str")
    return frame


def test_time_stratified_referents_by_hand():
    # 28-day strata counted from 1970-01-01: 2024-02-15..03-13 (day 19768 = 706 x 28)
    # and 2024-04-11..05-08 (19824 = 708 x 28). Referent days: same stratum, a whole
    # number of 7 days from the onset.
    # A (Feb 20): Feb 27 and Mar 5 are not at risk, Mar 12 is -> 1 referent.
    # B (May 7): Apr 16, Apr 23, Apr 30; Apr 23's window (Apr 16-22) holds the unknown
    # Apr 20 -> dropped (sum needs every day).
    frame = _hand_frame()
    result = _quiet(kd.case_crossover, frame, ["x"], agg={"x": "sum"})
    d = result.design
    got = {(str(o.date()), str(i.date()), int(c))
           for o, i, c in zip(d["onset_date"], d["index_date"], d["case"], strict=True)}
    assert got == {
        ("2024-02-20", "2024-02-20", 1), ("2024-02-20", "2024-03-12", 0),
        ("2024-05-07", "2024-05-07", 1), ("2024-05-07", "2024-04-16", 0),
        ("2024-05-07", "2024-04-30", 0),
    }
    # window = index-7 .. index-1; x sums the day numbers: Feb 13..19 = days 43..49
    case_a = d[(d["case"] == 1) & (d["onset_date"] == "2024-02-20")].iloc[0]
    assert case_a["window_start"] == pd.Timestamp("2024-02-13")
    assert case_a["window_end"] == pd.Timestamp("2024-02-19")
    assert case_a["x"] == sum(range(43, 50))
    assert any("1 referent window(s) left out for unknown exposure" in w for w in result.warnings)
    assert result.table.loc[0, "window"] == "days -7..-1 (sum)"


def test_gap_and_unidirectional_referents_by_hand():
    frame = _hand_frame()
    gap = _quiet(kd.case_crossover, frame, ["x"], agg={"x": "sum"}, gap_days=2)
    case_b = gap.design[(gap.design["case"] == 1) & (gap.design["onset_date"] == "2024-05-07")]
    assert case_b["window_start"].iloc[0] == pd.Timestamp("2024-04-28")  # May 7 - 9
    assert case_b["window_end"].iloc[0] == pd.Timestamp("2024-05-04")  # May 7 - 3
    assert gap.table.loc[0, "window"] == "days -9..-3 (sum)"
    # unidirectional: the 3 windows right before the hazard window; for B: Apr 30,
    # Apr 23 (unknown x, dropped), Apr 16. For A: Feb 13, Feb 6, Jan 30.
    uni = _quiet(kd.case_crossover, frame, ["x"], agg={"x": "sum"}, referents="unidirectional")
    refs = uni.design[uni.design["case"] == 0]
    got = sorted(str(x.date()) for x in refs["index_date"])
    assert got == ["2024-01-30", "2024-02-06", "2024-02-13", "2024-04-16", "2024-04-30"]


def test_case_window_overlapping_an_episode_is_left_out():
    frame = _hand_frame()
    # move episode A's pain into the week before B's onset: B's hazard window now
    # overlaps an episode and B must be dropped (same rule as for referents)
    frame.loc[frame["date"].between("2024-05-03", "2024-05-03"), "in_episode"] = True
    result, emitted = _emitted(kd.case_crossover, frame, ["x"], agg={"x": "sum"},
                               category=DataQualityWarning)
    assert result.n_episodes == 1
    assert any("hazard window overlaps" in w for w in emitted)
    assert any("hazard window overlaps" in w for w in result.warnings)


# --------------------------------------------- cross-check: CL vs stratified Cox
def test_conditional_logit_equals_stratified_cox_breslow():
    """One case per stratum: the conditional likelihood equals Breslow's partial likelihood."""
    from statsmodels.duration.hazard_regression import PHReg

    frame = kd.simulate_cohort(20, 365, seed=101)
    result = _quiet(kd.case_crossover, frame, ["spike_large", "null_exposure"])
    d = result.design
    assert d.groupby("stratum")["case"].sum().eq(1).all()  # one case per stratum
    # all windows of a stratum share one event time; the case fails, the others are censored
    cox = PHReg(np.ones(len(d)), d[["spike_large", "null_exposure"]].to_numpy(float),
                status=d["case"].to_numpy(), strata=d["stratum"].to_numpy(),
                ties="breslow").fit()
    np.testing.assert_allclose(result.table["log_ratio"], cox.params, atol=1e-4)
    # CL's SEs come from a numerical Hessian (statsmodels approx_fprime): 0.1 %
    np.testing.assert_allclose(result.table["std_error"], cox.bse, rtol=1e-3)


# ---------------------------------------------------- recovery over many seeds
N_SEEDS = 100
N_RUNNERS, N_DAYS = 20, 365  # ~75-85 episodes per simulated cohort


@pytest.fixture(scope="module")
def cohorts():
    return [kd.simulate_cohort(N_RUNNERS, N_DAYS, seed=seed) for seed in range(N_SEEDS)]


def _recovery(tables):
    """Mean log ratio, Monte-Carlo SE and 95 % CI coverage per term (truth log 3, 0)."""
    b = np.array([t["log_ratio"].to_numpy() for t in tables])
    se = np.array([t["std_error"].to_numpy() for t in tables])
    truth = np.array([LOG3, 0.0])
    cover = (np.abs(b - truth) <= Z95 * se).mean(axis=0)
    return b.mean(axis=0), b.std(axis=0, ddof=1) / np.sqrt(len(b)), cover


def _assert_recovered(mean, mcse, cover, low, high):
    # centred on the truth within 3 Monte-Carlo SEs plus 0.05 on the log scale: the
    # models estimate a rate ratio, the simulator states an odds ratio (at 1 % daily
    # risk OR 3 is a risk ratio of 2.94: log difference 0.02), plus small-sample bias
    assert abs(mean[0] - LOG3) < 3 * mcse[0] + 0.05, (np.exp(mean), mcse)
    assert abs(mean[1]) < 3 * mcse[1] + 0.05, (np.exp(mean), mcse)
    assert low <= cover[0] <= high and low <= cover[1] <= high, cover


@pytest.mark.slow
def test_case_crossover_recovers_the_simulated_odds_ratio(cohorts):
    tables = [_quiet(kd.case_crossover, f, ["spike_large", "null_exposure"]).table
              for f in cohorts]
    mean, mcse, cover = _recovery(tables)
    # 100 seeds: coverage of a true 95 % interval is in [0.85, 0.99] with p > 0.999
    _assert_recovered(mean, mcse, cover, 0.85, 0.99)


@pytest.mark.slow
def test_daily_model_recovers_the_simulated_odds_ratio(cohorts):
    tables = [_quiet(kd.daily_model, f, ["spike_large", "null_exposure"], lags=(7,)).table
              for f in cohorts]
    mean, mcse, cover = _recovery(tables)
    _assert_recovered(mean, mcse, cover, 0.85, 0.99)


@pytest.mark.slow
def test_recurrent_cox_recovers_the_simulated_ratio(cohorts):
    tables = [_quiet(kd.recurrent_cox, f, ["spike_large", "null_exposure"], lags=(7,)).table
              for f in cohorts[:50]]
    mean, mcse, cover = _recovery(tables)
    # 50 seeds: binomial SD of the coverage 0.031 -> [0.82, 1.0] is > 4 SD wide below
    _assert_recovered(mean, mcse, cover, 0.82, 1.0)


@pytest.mark.slow
def test_reverse_causation_bias_and_its_removal_with_a_gap():
    """Prodromal pain 3 days before the recorded onset cuts running (x 0.2)."""
    logs = {"cc0": [], "cc3": [], "dm0": [], "dm3": []}
    for seed in range(25):
        frame = kd.simulate_cohort(N_RUNNERS, N_DAYS, seed=1000 + seed, prodrome_days=3,
                                   prodrome_run_factor=0.2)
        for gap in (0, 3):
            cc = _quiet(kd.case_crossover, frame, ["spike_large"], gap_days=gap)
            dm = _quiet(kd.daily_model, frame, ["spike_large"], lags=(7,), gap_days=gap)
            logs[f"cc{gap}"].append(cc.table["log_ratio"].iloc[0])
            logs[f"dm{gap}"].append(dm.table["log_ratio"].iloc[0])
    for model in ("cc", "dm"):
        no_gap = np.array(logs[f"{model}0"])
        with_gap = np.array(logs[f"{model}3"])
        # without a gap the hazard window holds the prodrome: strongly biased towards 1
        assert no_gap.mean() < LOG3 - 0.5, np.exp(no_gap.mean())
        # a 3-day gap restores the true OR 3 (3 Monte-Carlo SEs + 0.05, as above)
        mcse = with_gap.std(ddof=1) / np.sqrt(len(with_gap))
        assert abs(with_gap.mean() - LOG3) < 3 * mcse + 0.05, np.exp(with_gap.mean())


# ------------------------------------------ single runner and a 50-runner cohort
@pytest.fixture(scope="module")
def single():
    return kd.simulate_runner_days(3000, seed=4)


@pytest.fixture(scope="module")
def cohort50():
    return kd.simulate_cohort(50, 365, seed=50, frailty_sd=0.5)


@pytest.mark.parametrize("which", ["single", "cohort50"])
def test_all_three_models_run(which, request):
    frame = request.getfixturevalue(which)
    exposures = ["spike_large", "null_exposure", "n_strength"]
    results = [
        _quiet(kd.case_crossover, frame, exposures),
        _quiet(kd.daily_model, frame, exposures, lags=(1, 7)),
        _quiet(kd.recurrent_cox, frame, exposures),
        _quiet(kd.case_series, frame, exposures),
    ]
    for result in results:
        assert isinstance(result, kd.ModelResult)
        assert tuple(result.table.columns) == TABLE_COLUMNS
        assert result.n_episodes > 10
        spike = result.table[result.table["exposure"] == "spike_large"]
        assert np.isfinite(spike["ratio"]).all() and (spike["ci_low"] > 0).all()
        # the 7-day window is estimable (a 1-day window may hold too few onsets)
        assert spike["estimable"].iloc[-1] and spike["status"].iloc[-1] == "ok"
        assert (spike["status"].eq("ok") | spike["status"].eq("too_few_episodes")).all()
        assert set(result.table["status"]) <= set(STATUSES)
        est = result.table[result.table["estimable"]]
        assert (est["p_adjusted"] >= est["p_value"] - 1e-12).all()
        assert "not medical advice" in result.summary_text()
        assert not result.dropped and not result.penalised
    cc, dm, cox, sccs = results
    assert cox.ratio_kind == "hazard" and cox.table["ratio_kind"].eq("hazard").all()
    assert cc.ratio_kind == "odds" and dm.table["ratio_kind"].eq("odds").all()
    assert sccs.ratio_kind == "rate"
    assert dm.table["term"].tolist() == [f"{e}_{lag}d" for lag in (1, 7) for e in exposures]
    if which == "single":
        assert dm.settings["method"] == "GLM" and dm.settings["cov_type"] == "HAC"
        assert dm.settings["maxlags"] == 7
        assert cox.settings["stratify"] is False  # one runner: episode strata are empty
        assert cc.design["stratum"].nunique() == cc.n_episodes
    else:
        assert dm.settings["method"] == "GEE" and dm.settings["n_groups"] == 50
        assert cox.settings["stratify"] is True
        assert cox.results.covariance_type == "robust"
        assert cc.design["runner_id"].nunique() > 40


def test_models_do_not_modify_the_frame(single):
    before = single.copy()
    _quiet(kd.case_crossover, single, ["spike_large"])
    _quiet(kd.daily_model, single, ["spike_large"])
    _quiet(kd.recurrent_cox, single, ["spike_large"])
    pd.testing.assert_frame_equal(single, before)


def test_benjamini_hochberg_by_hand(single):
    table = _quiet(kd.case_crossover, single, ["spike_large", "null_exposure"]).table
    p = table["p_value"].to_numpy()
    lo, hi = np.argmin(p), np.argmax(p)
    # BH with m = 2: the largest p stays, the smallest is min(2 p, largest p)
    assert table["p_adjusted"].iloc[hi] == pytest.approx(p[hi])
    assert table["p_adjusted"].iloc[lo] == pytest.approx(min(2 * p[lo], p[hi]))


# ------------------------------------------------------------ warnings, errors
def _emitted(fn, *args, category=ModelWarning, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(*args, **kwargs)
    return result, [str(w.message) for w in caught if w.category is category]


def test_constant_and_collinear_exposures_are_dropped_with_a_flag(single):
    frame = single.assign(never=False, spike_copy=single["spike_large"])
    result, emitted = _emitted(kd.case_crossover, frame, ["spike_large", "never"])
    assert any("no within-episode variation" in m and "never" in m for m in emitted)
    # every exposure asked for keeps its row; the dropped one says why, with no number
    assert result.table["term"].tolist() == ["spike_large", "never"]
    assert result.table["status"].tolist() == ["ok", "no_variation"]
    assert result.table["estimable"].tolist() == [True, False]
    assert np.isnan(result.table["ratio"].iloc[1])
    assert result.dropped == {"never": "no_variation"}
    result, emitted = _emitted(kd.case_crossover, frame, ["spike_large", "spike_copy"])
    assert any("linear combinations" in m for m in emitted)
    assert result.dropped == {"spike_copy": "collinear"}
    result, emitted = _emitted(kd.daily_model, frame, ["spike_large", "never"])
    assert any("constant" in m for m in emitted)
    assert result.dropped == {"never_7d": "no_variation"}


def test_few_episodes_warning():
    frame = kd.simulate_runner_days(500, seed=2)
    result = _quiet(kd.case_crossover, frame, ["spike_large", "null_exposure"])
    assert result.n_episodes < 20
    assert any("fewer than 10 per term" in w for w in result.warnings)


MODELS = {"case_crossover": kd.case_crossover, "daily_model": kd.daily_model,
          "recurrent_cox": kd.recurrent_cox, "case_series": kd.case_series}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_separation_gives_infinity_with_a_profile_bound_or_a_penalised_estimate(single, name):
    # 'sep' is set on the day before every onset and never otherwise
    frame = single.assign(sep=single["onset"].shift(-1, fill_value=False))
    fit = MODELS[name]
    mle = _quiet(fit, frame, ["sep", "null_exposure"])
    row = mle.table.iloc[0]
    assert mle.separated == [row["term"]]
    assert row["status"] == "separated" and not row["estimable"]
    # never the optimiser's stopping point: infinity, with a finite lower bound
    # from the profile likelihood (the data say "at least this large")
    assert row["ratio"] == np.inf and row["ci_high"] == np.inf
    assert 1 < row["ci_low"] < 1e6
    assert mle.table["status"].iloc[1] == "ok"  # the other term is unaffected
    pen = _quiet(fit, frame, ["sep", "null_exposure"], penalty="logF")
    row = pen.table.iloc[0]
    assert np.isfinite([row["ratio"], row["ci_low"], row["ci_high"]]).all()
    assert row["ratio"] > 5  # still clearly associated, shrunk but not to 1
    assert pen.penalised and pen.penalty == "logF" and pen.separated == [row["term"]]
    ridge = _quiet(fit, frame, ["sep"], penalty=0.05)
    assert np.isfinite(ridge.table["ratio"].iloc[0])
    assert ridge.table["ci_low"].isna().all() and not ridge.table["estimable"].any()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_too_few_episodes_are_never_estimable(single, name):
    # keep the first 3 onsets only: a beginner's diary
    onset = single["onset"] & (single["onset"].cumsum() <= 3)
    frame = single.assign(onset=onset)
    result = _quiet(MODELS[name], frame, ["spike_large"])
    assert result.table["status"].eq("too_few_episodes").all()
    assert not result.table["estimable"].any() and not result.estimable
    assert "not estimable" in result.summary_text()


@pytest.mark.parametrize("name", ["case_series", "recurrent_cox"])  # case_crossover: same path
def test_likelihood_fits_that_stop_early_show_no_stopping_point(single, monkeypatch, name):
    from statsmodels.base.model import LikelihoodModel

    real_fit = LikelihoodModel.fit

    def stopped_early(self, *args, **kwargs):
        kwargs["maxiter"] = 1
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(LikelihoodModel, "fit", stopped_early)
    result = _quiet(MODELS[name], single, ["spike_large"])
    assert not result.converged
    row = result.table.iloc[0]
    assert row["status"] == "not_converged" and not row["estimable"]
    assert np.isnan(row["ratio"]) and np.isnan(row["ci_low"])


def test_non_convergence_shows_no_stopping_point(single, monkeypatch):
    import statsmodels.api as sm

    real_fit = sm.GLM.fit

    def stopped_early(self, *args, **kwargs):
        kwargs["maxiter"] = 1
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(sm.GLM, "fit", stopped_early)
    result = _quiet(kd.daily_model, single, ["spike_large"])
    assert not result.converged
    row = result.table.iloc[0]
    assert row["status"] == "not_converged" and not row["estimable"]
    assert np.isnan(row["ratio"]) and np.isnan(row["ci_low"])


def test_log_f_penalty_leaves_a_large_sample_estimate_almost_unchanged(cohort50):
    mle = _quiet(kd.case_crossover, cohort50, ["spike_large"]).table["log_ratio"].iloc[0]
    pen = _quiet(kd.case_crossover, cohort50, ["spike_large"], penalty="logF")
    # 2 pseudo-episodes against ~200 real ones: shrinkage of a few percent towards 0
    assert 0 < pen.table["log_ratio"].iloc[0] < mle
    assert pen.table["log_ratio"].iloc[0] > 0.9 * mle


def test_bad_arguments(single):
    with pytest.raises(ValueError, match="referents"):
        kd.case_crossover(single, ["spike_large"], referents="symmetric")
    with pytest.raises(ValueError, match="hazard_days"):
        kd.case_crossover(single, ["spike_large"], hazard_days=0)
    with pytest.raises(ValueError, match="stratum_days"):
        kd.case_crossover(single, ["spike_large"], stratum_days=10)
    for fn in MODELS.values():
        with pytest.raises(ValueError, match="penalty"):
            fn(single, ["spike_large"], penalty="l2")
    with pytest.raises(ValueError, match="lags"):
        kd.daily_model(single, ["spike_large"], lags=(0,))
    with pytest.raises(ValueError, match="cov_struct"):
        kd.daily_model(single, ["spike_large"], cov_struct="ar1")
    with pytest.raises(ValueError, match="link"):
        kd.daily_model(single, ["spike_large"], link="probit")
    with pytest.raises(ValueError, match="period_days"):
        kd.case_series(single, ["spike_large"], period_days=3)
    with pytest.raises(ValueError, match="time_scale"):
        kd.recurrent_cox(single, ["spike_large"], time_scale="calendar")
    with pytest.raises(ValueError, match="agg"):
        kd.case_crossover(single, ["spike_large"], agg={"spike_large": "median"})
    with pytest.raises(SchemaError, match="not a column"):
        kd.case_crossover(single, ["cadence_spm"])
    with pytest.raises(ValueError, match="twice"):
        kd.daily_model(single, ["spike_large", "spike_large"])
    no_onset = single.assign(onset=False)
    for fn in MODELS.values():
        with pytest.raises(ModelFitError):
            _quiet(fn, no_onset, ["spike_large"])


def test_exchangeable_gee_and_hac_lags(cohort50, single):
    ex = _quiet(kd.daily_model, cohort50, ["spike_large"], lags=(7,), cov_struct="exchangeable")
    assert ex.settings["cov_struct"] == "exchangeable"
    assert np.isfinite(ex.table["std_error"]).all()
    hac = _quiet(kd.daily_model, single, ["spike_large"], lags=(7,), maxlags=14)
    assert hac.settings["maxlags"] == 14


def test_state_columns_use_their_value_on_the_lag_day(single):
    frame = single.assign(acute_7d=single["distance_km"].rolling(7).sum())
    result = _quiet(kd.daily_model, frame, ["acute_7d"], lags=(1, 7))
    assert result.table["window"].tolist() == ["day -1 (value)", "day -7 (value)"]
    d = result.design.set_index("date")
    lagged = frame.set_index("date")["acute_7d"].shift(7)
    np.testing.assert_allclose(d["acute_7d_7d"], lagged.reindex(d.index))


def test_prints_nothing(capsys, single):
    _quiet(kd.case_crossover, single, ["spike_large"])
    _quiet(kd.daily_model, single, ["spike_large"])
    _quiet(kd.recurrent_cox, single, ["spike_large"])
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.slow
def test_model_notes_point_at_the_callers_line_and_are_shown_once(tmp_path):
    # issue 13: notebooks repeated the same notes on every model call, each pointing
    # at a line inside kneedata; a plain script stands in for the notebook here
    script = tmp_path / "fit_twice.py"
    script.write_text(
        "import kneedata as kd\n"
        "frame = kd.simulate_runner_days(500, seed=2)\n"
        "for _ in range(3):\n"
        "    result = kd.case_crossover(frame, ['spike_large', 'null_exposure'])\n"
        "print(len(result.warnings))\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) >= 1  # the notes are still in every result
    shown = [line for line in done.stderr.splitlines()
             if "DataQualityWarning" in line or "ModelWarning" in line]
    # null_exposure never varies within an episode (simulate_runner_days): dropped, said once
    assert sum("dropped ['null_exposure']" in line for line in shown) == 1
    assert len(shown) == len(set(shown))
    assert all(line.startswith(f"{script}:4: ") for line in shown), shown
