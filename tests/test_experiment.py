"""The runner's own A/B experiment: plan, schedule file, adherence, analysis.

Pain series are drawn here by an independent AR(1) generator (plain numpy, no
kneedata code), rounded to whole points, clipped to 0-10, with days left out.
"""

from __future__ import annotations

import importlib.util
import math
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import kneedata as kd
from kneedata import experiment as ex
from kneedata.cli import main
from kneedata.errors import SchemaError


# --- an independent generator (benchmarks/experiment_sim.py never imports kneedata) -----
def _load_generator():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "experiment_sim.py"
    spec = importlib.util.spec_from_file_location("experiment_sim", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["experiment_sim"] = module
    spec.loader.exec_module(module)
    return module


_SIM = _load_generator()
ar1 = _SIM.ar1
simulated_experiment = _SIM.simulated_experiment


# --- plan ------------------------------------------------------------------------------
def test_plan_blocks_pairs_and_attrs():
    plan = kd.plan_experiment("cadence", start="2026-01-05", target="+7%", seed=4)
    assert list(plan.columns) == ["block", "start", "end", "condition"]
    assert plan["block"].tolist() == list(range(1, 9))
    assert plan["start"].iloc[0] == pd.Timestamp("2026-01-05")
    # 14-day blocks back to back: each block starts the day after the previous ends
    assert ((plan["end"] - plan["start"]).dt.days == 13).all()
    assert (plan["start"].iloc[1:].to_numpy() - plan["end"].iloc[:-1].to_numpy()
            == np.timedelta64(1, "D")).all()
    pairs = plan["condition"].to_numpy().reshape(4, 2)
    assert all(sorted(p) == ["A", "B"] for p in pairs)
    assert plan.attrs["target"] == 7.0 and plan.attrs["carryover_days"] == 3
    again = kd.plan_experiment("cadence", start="2026-01-05", target="+7%", seed=4)
    pd.testing.assert_frame_equal(plan, again)


def test_plan_randomises_both_orders():
    firsts = {kd.plan_experiment("strength", start="2026-01-05", seed=s)["condition"]
              .iloc[0] for s in range(20)}
    assert firsts == {"A", "B"}
    assert "seed" in kd.plan_experiment("other", start="2026-01-05").attrs


@pytest.mark.parametrize("change, kwargs, match", [
    ("running_less", {}, "not one of cadence"),
    ("cadence", {"target": "fast"}, "cannot be read"),
    ("cadence", {"target": "+40%"}, "outside 0-20"),
    ("shoes", {}, "needs target=<shoe_id>"),
    ("strength", {"block_days": 3}, "7 or more"),
    ("strength", {"n_pairs": 1}, "2 or more pairs"),
])
def test_plan_bad_options(change, kwargs, match):
    with pytest.raises(ValueError, match=match):
        kd.plan_experiment(change, start="2026-01-05", **kwargs)


def test_schedule_file_round_trip(tmp_path):
    plan = kd.plan_experiment("shoes", start="2026-01-05", target="S4", seed=2,
                              block_days=10, n_pairs=3)
    ex.write_schedule(plan, tmp_path / "experiment.csv")
    read = kd.read_experiment(tmp_path / "experiment.csv")
    pd.testing.assert_frame_equal(read[plan.columns.tolist()], plan)
    assert read.attrs["change"] == "shoes" and read.attrs["target"] == "S4"
    assert read.attrs["block_days"] == 10 and read.attrs["carryover_days"] == 3


# --- reading and checking a schedule --------------------------------------------------
GOOD = ("block,start,end,condition\n1,2026-01-05,2026-01-18,A\n"
        "2,2026-01-19,2026-02-01,B\n")


@pytest.mark.parametrize("text, expected", [
    # overlap: block 2 starts inside block 1
    ("start,end,condition\n2026-01-05,2026-01-18,A\n2026-01-15,2026-01-30,B\n",
     "line 3, column start: '2026-01-15' overlaps the block on line 2"),
    ("start,end,condition\n2026-01-19,2026-02-01,A\n2026-01-05,2026-01-18,B\n",
     "line 3, column start: '2026-01-05' comes before the block on line 2"),
    ("start,end,condition\n2026-01-18,2026-01-05,A\n2026-01-19,2026-02-01,B\n",
     "line 2, column end: '2026-01-05' is before start 2026-01-18"),
    ("start,end,condition\n2026-01-05,2026-01-18,A\n2026-01-19,2026-02-01,A\n",
     "no block is B"),
    ("start,end,condition\n2026-01-05,2026-01-18,A\n2026-01-19,2026-02-01,C\n",
     "line 3, column condition: 'C' is not one of A (the usual), B (the change)"),
    ("block,start,end,condition\n1,2026-01-05,2026-01-18,A\n1,2026-01-19,2026-02-01,B\n",
     "line 3, column block: this block number is used twice"),
    ("start,end,condition,change\n2026-01-05,2026-01-18,A,cadence\n"
     "2026-01-19,2026-02-01,B,strength\n", "line 3, column change: differs"),
    ("start,end,condition,change,target\n2026-01-05,2026-01-18,A,cadence,+70%\n"
     "2026-01-19,2026-02-01,B,,\n", "line 2, column target"),
    ("start,condition\n2026-01-05,A\n", "missing the required column end"),
])
def test_bad_schedules_are_named(tmp_path, text, expected):
    path = tmp_path / "experiment.csv"
    path.write_text(text)
    with pytest.raises(SchemaError) as caught:
        kd.read_experiment(path)
    assert "experiment.csv" in str(caught.value)
    assert expected in str(caught.value)


def test_schedule_accepts_what_people_type(tmp_path):
    path = tmp_path / "plan.csv"
    path.write_text("From,To,Arm\n5 Jan 2026,18 Jan 2026,usual\n"
                    "2026-01-19,2026-02-01,b\n")
    read = kd.read_experiment(path)
    assert read["condition"].tolist() == ["A", "B"]
    assert read["block"].tolist() == [1, 2]  # numbered in file order


# --- the AR(1) regression against a reference implementation ------------------------
def test_ar1_regression_matches_statsmodels_sarimax(rng):
    # reference: statsmodels SARIMAX (Kalman filter ML) on a complete series
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    n = 400
    b = np.repeat(np.arange(20) % 2, 20).astype(float)
    y = 3 - 1.0 * b + ar1(rng, n, 0.7, 1.5)
    X = np.column_stack([np.ones(n), b])
    fit = ex.ar1_regression(np.arange(n), y, X)
    ref = SARIMAX(y, exog=X, order=(1, 0, 0), trend="n").fit(disp=False)
    assert fit.params[1] == pytest.approx(ref.params[1], abs=0.02)  # REML vs ML
    assert fit.phi == pytest.approx(ref.params[2], abs=0.03)
    assert fit.std_errors[1] == pytest.approx(ref.bse[1], rel=0.1)


def test_ar1_regression_with_gaps_recovers_phi(rng):
    n = 3000
    y = ar1(rng, n, 0.7, 1.0)
    keep = rng.random(n) >= 0.3  # 30 % of days missing: gaps of 2, 3, ... days
    fit = ex.ar1_regression(np.flatnonzero(keep), y[keep], np.ones((keep.sum(), 1)))
    assert fit.phi == pytest.approx(0.7, abs=0.04)  # SE of phi ~ 0.015 at n = 2100


# --- randomisation test ---------------------------------------------------------------
def test_allowed_orders_within_pairs():
    orders, scheme = ex.allowed_orders(["A", "B", "B", "A"])
    assert orders.shape == (1 + 4, 4) and "2 pairs" in scheme
    assert orders[0].tolist() == [False, True, True, False]  # the observed order first
    assert {tuple(o) for o in orders[1:]} == {
        (False, True, False, True), (False, True, True, False),
        (True, False, False, True), (True, False, True, False)}


def test_randomisation_p_by_hand():
    # 2 pairs, one value per block: A=0, B=2, B=2, A=0 -> observed difference 2;
    # over the 4 orders the differences are 0, 2, -2, 0 -> |d| >= 2 twice: p = 2/4
    orders, _ = ex.allowed_orders(["A", "B", "B", "A"])
    values = np.array([0.0, 2.0, 2.0, 0.0])
    assert ex.randomisation_p(values, np.arange(4), orders) == pytest.approx(0.5)


# --- analysis ---------------------------------------------------------------------------
def test_planted_effect_is_recovered(rng):
    # level 5: the B days (5 - 2) stay clear of the floor at 0, which would shrink
    # the difference on the 0-10 scale
    schedule, diary = simulated_experiment(rng, effect=-2.0, phi=0.5, n_pairs=6, mean=5)
    result = kd.analyse_experiment(schedule, diary)
    row = result.table.set_index("term").loc["B - A"]
    assert row["ci_low"] <= -2.0 <= row["ci_high"]
    assert row["ci_high"] < 0
    # 64 orders (p can reach 2/64); the test is exact but has less power than the
    # model: here the observed order is among the 4 most extreme
    assert row["p_randomization"] <= 0.1
    assert re.match(r"Pain was \d\.\d points lower in the B blocks",
                    result.settings["verdict"])
    assert "B - A" in result.summary_text()


def test_null_experiment_is_not_called_an_effect(rng):
    schedule, diary = simulated_experiment(rng, effect=0.0)
    result = kd.analyse_experiment(schedule, diary)
    row = result.table.iloc[0]
    assert row["ci_low"] < 0 < row["ci_high"]
    assert result.settings["verdict"].startswith("The data cannot tell yet")


def test_missing_days_are_left_out_not_zero(rng):
    schedule, diary = simulated_experiment(rng, effect=0.0, missing=0.3)
    result = kd.analyse_experiment(schedule, diary, carryover_days=3)
    days = result.design
    expected = days["date"].isin(diary["date"]) & (days["day_in_block"] > 3)
    assert result.table.iloc[0][["n_days_a", "n_days_b"]].sum() == expected.sum()
    assert days.loc[~days["observed"], "pain_0_10"].isna().all()
    blocks = result.settings["blocks"]
    assert blocks["n_days_missing"].sum() == len(days) - len(diary)


def test_too_little_diary_cannot_tell(rng):
    schedule, diary = simulated_experiment(rng, effect=-2.0)
    few = diary[diary["date"] < schedule["end"].iloc[1]]  # only the first pair
    result = kd.analyse_experiment(schedule, few.iloc[:6])
    assert math.isnan(result.table.iloc[0]["estimate"])
    assert result.table.iloc[0]["status"] == "too_few_days" and not result.estimable
    assert result.settings["verdict"].startswith("The data cannot tell yet")


def test_strength_adherence_flags_a_poor_block(rng):
    schedule, diary = simulated_experiment(rng, effect=-1.0)
    b_blocks = schedule[schedule["condition"] == "B"]
    sessions = []
    for i, row in enumerate(b_blocks.itertuples()):
        per_block = 0 if i == 0 else 6  # first B block: no strength work at all
        sessions += list(pd.date_range(row.start, periods=per_block, freq="2D"))
    routines = pd.DataFrame({"date": sessions, "kind": "strength", "minutes": 30.0})
    schedule.attrs.update(change="strength", target=3.0)
    result = kd.analyse_experiment(schedule, diary, routines=routines)
    blocks = result.settings["blocks"].set_index("block")
    poor = int(b_blocks["block"].iloc[0])
    assert blocks.loc[poor, "adherence"] == 0
    assert not blocks.loc[poor, "adherence_ok"]
    # 6 sessions in 14 days = 3 per week (B); 0 in the A blocks
    assert blocks.loc[b_blocks["block"].iloc[1], "adherence"] == pytest.approx(3.0)
    assert blocks.loc[blocks["condition"] == "A", "adherence_ok"].all()
    assert result.table["term"].tolist() == ["B - A", "B - A (adherent blocks only)"]
    assert any("Poor adherence" in w for w in result.warnings)


class TinyStore:
    """Hand-built runs: the only thing shoe adherence reads is activities()."""

    def __init__(self, runs: pd.DataFrame) -> None:
        self.runs = runs

    def activities(self) -> pd.DataFrame:
        return self.runs


def test_shoe_km_per_block():
    plan = pd.DataFrame({"block": [1, 2], "condition": ["A", "B"],
                         "start": pd.to_datetime(["2026-01-05", "2026-01-12"]),
                         "end": pd.to_datetime(["2026-01-11", "2026-01-18"])})
    plan.attrs.update(change="shoes", target="new")
    # block 1: 10 km old; block 2: 8 km new + 2 km old -> 80 % in the target shoe
    runs = pd.DataFrame({"activity_id": ["a", "b", "c"], "sport": "running",
                         "local_date": pd.to_datetime(["2026-01-06", "2026-01-13",
                                                       "2026-01-15"]).date,
                         "distance_m": [10_000.0, 8_000.0, 2_000.0],
                         "gear": ["Old Shoe", "New Shoe", "Old Shoe"]})
    shoes = pd.DataFrame({"shoe_id": ["old", "new"], "name": ["Old Shoe", "New Shoe"]})
    table = ex.block_adherence(plan, store=TinyStore(runs), shoes=shoes)
    assert table["adherence"].tolist() == pytest.approx([0.0, 80.0])
    assert table["adherence_ok"].tolist() == [True, True]
    km = table.attrs["shoe_km"]
    assert km.loc[2, "new"] == pytest.approx(8.0) and km.loc[1, "old"] == pytest.approx(10)


def test_sample_experiment_recovers_the_planted_effect():
    # sample_data/experiment: planted B - A = -1.5 points (truth.json, README)
    import json
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "sample_data" / "experiment"
    truth = json.loads((folder / "truth.json").read_text())
    result = kd.analyse_experiment(folder / "experiment.csv", folder / "pain_diary.csv",
                                   routines=folder / "routines.csv")
    row = result.table.iloc[0]
    assert row["ci_low"] <= truth["effect_0_10"] <= row["ci_high"] < 0
    assert result.settings["blocks"]["adherence_ok"].all()


# --- validated by simulation (the full version: benchmarks/bench_experiment.py) ------
@pytest.mark.slow
@pytest.mark.parametrize("phi", [0.3, 0.8])
def test_interval_coverage_and_randomisation_level(phi):
    # 200 null experiments of 6 pairs x 14 days, whole points, 10 % missing days:
    # coverage of the 95 % interval and the randomisation test's rate of p <= 0.05.
    # Binomial SE at 200 draws is 1.5 points: the bounds are 3 SE from 95 % and 5 %.
    rng = np.random.default_rng(16)
    covered, rejected = 0, 0
    for _ in range(200):
        schedule, diary = simulated_experiment(rng, effect=0.0, phi=phi, n_pairs=6)
        days = ex.experiment_days(schedule, diary.set_index("date")["pain_0_10"])
        row, _ = ex.effect_row(days, "pain_0_10", "B - A",
                               ex.allowed_orders(schedule["condition"])[0])
        covered += row["ci_low"] <= 0 <= row["ci_high"]
        rejected += row["p_randomization"] <= 0.05
    assert 0.905 <= covered / 200 <= 0.99
    assert rejected / 200 <= 0.095


# --- detectable effects ---------------------------------------------------------------
def test_detectable_effects_shrink_with_more_pairs(rng):
    dates = pd.date_range("2025-01-01", periods=200)
    pain = np.clip(np.round(3 + ar1(rng, 200, 0.6, 1.2)), 0, 10)
    history = pd.DataFrame({"date": dates, "side": "left", "pain_0_10": pain})
    table = kd.detectable_effects(history, block_days=(14,), n_pairs=(2, 6), n_sim=60)
    effects = table.set_index("n_pairs")["detectable_effect_0_10"]
    assert effects[6] < effects[2]
    assert table.attrs["phi"] == pytest.approx(0.6, abs=0.2)
    with pytest.raises(ValueError, match="at least 30"):
        kd.detectable_effects(history.iloc[:10])


# --- plot and command line ----------------------------------------------------------------
def test_plot_shades_blocks_and_leaves_gaps(rng):
    schedule, diary = simulated_experiment(rng, effect=-1.0)
    result = kd.analyse_experiment(schedule, diary)
    ax = kd.plots.experiment(result.design, blocks=result.settings["blocks"])
    # one shaded span per block plus one hatched carry-over span per block
    assert len(ax.patches) == 2 * len(schedule)
    analysed = next(line for line in ax.lines if line.get_label() == "analysed day")
    assert len(analysed.get_xdata()) == result.table.iloc[0][["n_days_a", "n_days_b"]].sum()
    assert len(ax.figure.axes) == 1  # no adherence measured: no twin axis


def test_cli_experiment_plan_and_analyse(tmp_path, capsys):
    out = tmp_path / "experiment.csv"
    assert main(["experiment", "plan", "--change", "cadence", "--target", "+7%",
                 "--start", "2026-01-05", "--out", str(out), "--seed", "1"]) == 0
    schedule = kd.read_experiment(out)
    assert len(schedule) == 8 and schedule.attrs["target"] == 7.0
    assert "seed 1" in capsys.readouterr().out
    with pytest.raises(SystemExit) as caught:
        main(["experiment", "plan", "--change", "shoes", "--start", "2026-01-05",
              "--out", str(out)])
    assert caught.value.code == 2


def test_init_writes_a_readable_experiment_template(tmp_path):
    assert main(["init", str(tmp_path / "logs")]) == 0
    schedule = kd.read_experiment(tmp_path / "logs" / "experiment.csv")
    assert schedule["condition"].tolist() == ["A", "B"]
    assert schedule.attrs["change"] == "cadence" and schedule.attrs["target"] == 7.0
    assert "kneedata experiment plan" in (tmp_path / "logs" / "README.txt").read_text()


def test_cadence_adherence_from_per_run_deviation():
    from types import SimpleNamespace

    plan = kd.plan_experiment("cadence", start="2026-01-05", target="+6%", seed=0,
                              block_days=7, n_pairs=2)
    # two runs per block; B blocks +6 % and +2 % (second B block: poor), A blocks 0.5 %
    dates = [start + pd.Timedelta(days=d) for start in plan["start"] for d in (1, 4)]
    is_b = np.repeat(plan["condition"].to_numpy() == "B", 2)
    b_block = np.repeat(np.cumsum(plan["condition"].to_numpy() == "B"), 2)
    deviation = np.where(is_b, np.where(b_block == 1, 6.0, 2.0), 0.5)
    ids = [f"r{i}" for i in range(8)]
    runs = pd.DataFrame({"activity_id": ids, "sport": "running",
                         "local_date": pd.DatetimeIndex(dates).date,
                         "distance_m": 5000.0})
    gait = pd.DataFrame({"activity_id": ids, "date": pd.DatetimeIndex(dates),
                         "cadence_deviation_pct": deviation})
    table = ex.block_adherence(plan, store=SimpleNamespace(runs=runs, gait=gait))
    # B needs half the target (+3 %); A must stay below it
    expected = np.where(plan["condition"] == "B",
                        np.where(np.cumsum(plan["condition"] == "B") == 1, 6.0, 2.0), 0.5)
    assert table["adherence"].tolist() == pytest.approx(expected.tolist())
    assert table["adherence_ok"].tolist() == [bool(v != 2.0) for v in expected]
    assert table["adherence_unit"].iloc[0] == "cadence_deviation_pct"
