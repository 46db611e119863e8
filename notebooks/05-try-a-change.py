# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. Test, try, repeat: does a change help *my* knee?
#
# **The question:** runners with knee pain are told to raise their cadence, do hip
# and glute strength work, or change shoes, "and see what helps". Looking back at
# the diary (notebook 4) cannot settle this: these changes are slow, and months of
# strength work or an 8-week cadence block give about 30 % power even with perfect
# data. What can is a planned experiment on yourself: alternate blocks of the
# usual (**A**) and the change (**B**), in an order drawn at random within each
# pair, write your pain every day, and compare.
#
# Point `DATA` at your own folder (or set `KNEEDATA_DATA`): `pain_diary.csv` is
# your history, enough for planning (sections 1-2). Sections 3-5 analyse an
# experiment once you have run one: `EXPERIMENT` (default `DATA/experiment/`) then
# holds the schedule (`experiment.csv`, written by `kneedata experiment plan`), the
# diary kept during the experiment (`pain_diary.csv`) and `routines.csv` for a
# strength experiment. Without them those sections say what they need and skip.

# %% tags=["parameters"]
import os
from pathlib import Path

DATA = Path(os.environ.get("KNEEDATA_DATA", "../sample_data"))  # your export folder
EXPERIMENT = DATA / "experiment"  # the schedule and the logs kept during it
STORE = os.environ.get("KNEEDATA_STORE")  # None: a scratch store for DATA in the temp folder

# %%
import json

import kneedata as kd
from kneedata import plots
from kneedata.experiment import plan_text
from kneedata.notebook import notebook_paths
from kneedata.present import plain_notes

plain_notes()  # notes as plain lines, not error boxes
DATA, _ = notebook_paths(DATA)  # resolves ../sample_data wherever the kernel started
EXPERIMENT = DATA / "experiment" if not EXPERIMENT.is_absolute() else EXPERIMENT
history = kd.read_pain_diary(DATA / "pain_diary.csv")
SCHEDULE = EXPERIMENT / "experiment.csv"
HAVE_EXPERIMENT = SCHEDULE.is_file() and (EXPERIMENT / "pain_diary.csv").is_file()

# %% [markdown]
# ## 1. Plan
# Four pairs of two-week blocks; in each pair a coin decides whether A or B comes
# first. The first 3 days of every block are *carry-over*: the previous block may
# still act, so the analysis leaves them out. The seed is printed so the plan can
# be reproduced; `kneedata experiment plan --change strength --target 3/week
# --start 2025-11-03 --out experiment.csv` writes the same plan as a file.

# %%
plan = kd.plan_experiment("strength", start="2025-11-03", target="3/week", seed=16)
print(plan_text(plan))
plan

# %% [markdown]
# ## 2. How big an effect could the plan see?
# Simulated on your own pain history: its level, how much one day's pain predicts
# the next (AR(1) `phi`), how noisy it is, and how often you miss a day. Each plan
# is run 100 times with no effect (for the smallest detectable effect at 80 %
# power) and 100 times with a true 1-point drop (the share of experiments whose
# interval says "lower"). Longer blocks and more pairs see smaller effects.

# %%
detectable = kd.detectable_effects(history, block_days=(7, 14, 21), n_pairs=(3, 4, 6))
h = detectable.attrs
print(f"history: mean pain {h['mean']:.2g}, day-to-day phi {h['phi']:.2g}, "
      f"missing {h['missing_pct']:.0f} % of days")
detectable.round({"weeks": 0, "detectable_effect_0_10": 2, "power_1_point_pct": 0})

# %% [markdown]
# A history that is mostly pain-free (like the sample runner's) is a poor guide
# to an experiment run *because* the knee hurts: pain cannot drop below 0, so a
# 1-point drop from a mean of 0.3 is not possible. Re-run this table on the diary
# of the weeks when the knee is sore.
#
# ## 3. The experiment
# The sample runner ran a strength experiment after her 18 months of data (B =
# three sessions a week; A = her usual, about one every other week). The schedule
# is checked when read: dates in order, no overlaps, A and B both present. With
# your own folder this reads `EXPERIMENT/experiment.csv` and the diary kept during
# it, `EXPERIMENT/pain_diary.csv`.

# %%
schedule = diary = routines = result = None
if HAVE_EXPERIMENT:
    schedule = kd.read_experiment(SCHEDULE)
    diary = kd.read_pain_diary(EXPERIMENT / "pain_diary.csv")
    routines_path = EXPERIMENT / "routines.csv"
    routines = kd.read_routines(routines_path) if routines_path.exists() else None
    print(plan_text(schedule))
else:
    print(f"No experiment to analyse yet: sections 3-5 need {SCHEDULE} (write one with "
          "`kneedata experiment plan --change strength --target 3/week --start DAY --out "
          f"{SCHEDULE}`) and the pain diary you keep during it, {EXPERIMENT / 'pain_diary.csv'}. "
          "Planning (sections 1-2) and the look-back in section 6 work without them.")

# %% [markdown]
# ## 4. Did B change her pain?
# Daily pain (the day's highest entry) is compared between the analysed B and A
# days by a regression with AR(1) errors (pain today is like pain yesterday); days
# without an entry are left out, never counted as pain-free. The randomisation
# test asks how unusual the difference is among all block orders the coin could
# have drawn: exact whatever the autocorrelation, but with 4 pairs it cannot go
# below p = 0.125, so read the interval.

# %%
if HAVE_EXPERIMENT:
    result = kd.analyse_experiment(schedule, diary, routines=routines)
    print(result.settings["verdict"])
    for note in result.warnings:
        print("note:", note)
    display(result.table.round(3))

# %% [markdown]
# Per block: analysed and missing days, mean pain, pain days (>= 3), episode
# onsets, and adherence (strength sessions per week from the routines log). A
# block that did not follow the plan is flagged and a second table row leaves it
# out.

# %%
if result is not None:
    print(result.settings["adherence_rule"])
    display(result.settings["blocks"].round({"mean_pain_0_10": 2, "adherence": 2}))
    plots.experiment(result.design, blocks=result.settings["blocks"]);

# %% [markdown]
# ## 5. What was planted (sample data only)
# The sample experiment was written by `sample_data/make_sample_runner.py` with a
# stated effect; the interval should cover it.

# %%
truth_path = EXPERIMENT / "truth.json"
if result is not None and truth_path.exists():
    truth = json.loads(truth_path.read_text())
    row = result.table.iloc[0]
    covered = row["ci_low"] <= truth["effect_0_10"] <= row["ci_high"]
    print(f"planted B - A: {truth['effect_0_10']:+.1f} points; estimated "
          f"{row['estimate']:+.2f} ({row['ci_low']:.2f} to {row['ci_high']:.2f}); "
          f"covered: {covered}")

# %% [markdown]
# ## 6. Cadence adherence from the watch files
# For a cadence experiment, adherence comes from the runs themselves: each run's
# cadence against the runner's usual cadence at the same speed, averaged per
# block (weighted by distance). The sample runner never ran a cadence experiment,
# but for 8 weeks from 2025-01-13 her cadence was 9 steps/min below her usual
# (about -5 %). Read as if those weeks had been the B blocks of a "-5 %" plan,
# the B blocks should show about -5 % and the A blocks about 0. With your own
# folder, the blocks are the last 16 weeks you ran (set `LOOK_BACK_START`).

# %%
import pandas as pd

from kneedata.experiment import block_adherence
from kneedata.notebook import open_notebook_data

inputs = open_notebook_data(DATA, STORE)
store = inputs.store
LOOK_BACK_START = "2024-12-16" if (DATA / "truth.json").exists() else None
if LOOK_BACK_START is None:  # own folder: the 16 weeks that end with the last run
    last_run = pd.Timestamp(inputs.derived.runs["local_date"].max())
    LOOK_BACK_START = last_run - pd.Timedelta(days=8 * 14 - 1)
starts = pd.date_range(LOOK_BACK_START, periods=8, freq="14D")
looking_back = pd.DataFrame({"block": range(1, 9), "start": starts,
                             "end": starts + pd.Timedelta(days=13),
                             "condition": list("AABBBBAA")})
cadence = block_adherence(looking_back, change="cadence", target=-5, store=store)
cadence.round({"adherence": 1})

# %% [markdown]
# ## What this can and cannot show
# - A randomised comparison inside one runner: it says what the change did for
#   *this* knee in *these* weeks, which is what an observational model cannot.
# - It cannot blind: knowing you are in a B block can change how you rate pain.
#   Keep rating the same way, at the same time of day.
# - Slow changes (strength builds over months) may need longer blocks than two
#   weeks; a carry-over longer than 3 days dilutes the difference.
# - One experiment is one experiment: "test, try, repeat". Not medical advice.
