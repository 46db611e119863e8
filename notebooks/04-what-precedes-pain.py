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
# # 4. What tends to come before my knee pain?
#
# **The question:** in the days before each pain episode started, was something
# different from the rest of the time: a much longer run, less strength work, a
# lower cadence? Two designs answer it, each with its own blind spots.
#
# Point `DATA` at your own export folder (or set `KNEEDATA_DATA`); it needs
# `pain_diary.csv`, and uses `shoes.csv` and `routines.csv` when present.

# %% tags=["parameters"]
import os
from pathlib import Path

DATA = Path(os.environ.get("KNEEDATA_DATA", "../sample_data"))  # your export folder
STORE = os.environ.get("KNEEDATA_STORE")  # None: a scratch store for DATA in the temp folder

# %%
import json

import kneedata as kd
from kneedata import plots
from kneedata.notebook import (
    CASE_CROSSOVER_EXPOSURES,
    CAVEATS,
    DAILY_EXPOSURES,
    open_notebook_data,
)

# imports DATA first if the store is empty, then derives every table once
inputs = open_notebook_data(DATA, STORE)

# %% [markdown]
# ## One row per day
# The analysis frame puts each day's exposures (load, spikes, cadence, shoes,
# strength sessions) next to the outcome: did an episode start that day, and
# could one have (`at_risk`: the diary says how the knee was, and no episode was
# running)?

# %%
frame = kd.analysis_frame(inputs.derived)
print(f"{len(frame)} days, {int(frame['at_risk'].sum())} at risk, "
      f"{int(frame['onset'].sum())} episode onsets")

# %% [markdown]
# ## Design 1: each episode against the runner's own ordinary weeks (case-crossover)
# For every episode, the 7 days before the first pain day (the *hazard window*)
# are compared with 7-day windows of the same runner, in the same 4-week block,
# when no pain started. Whatever does not change within a month (anatomy, age,
# habits) cancels out. An odds ratio above 1: more common before pain.
#
# Only exposures that come and go within weeks belong here: a large single-run
# spike, and strength sessions.

# %%
exposures = [e for e in CASE_CROSSOVER_EXPOSURES if e in frame.columns]
cc = kd.case_crossover(frame, exposures, hazard_days=7)
print(cc.summary_text())

# %% [markdown]
# With few episodes, an exposure present before every informative episode gives
# an odds ratio that runs off to infinity (*separation*; the warnings above say
# so when it happens). The log-F(2,2) penalty pulls estimates gently towards 1
# and keeps them finite; when it barely moves them, the plain fit was fine:

# %%
cc_pen = kd.case_crossover(frame, exposures, hazard_days=7, penalty="logF")
plots.forest(cc_pen.table, title="Case-crossover (log-F penalised)");
cc_pen.table[["term", "ratio", "ci_low", "ci_high", "p_adjusted", "n_episodes", "n_informative", "status"]]

# %% [markdown]
# ## Design 2: every day at risk (daily logistic model)
# The chance that an episode starts on a day, against the exposures of the 7
# days before, with errors that allow for neighbouring days being alike. It uses
# every episode and can include a slow exposure such as cadence, but compares the
# runner across the whole record, so seasons and slow changes can mix in.

# %%
dm = kd.daily_model(frame, [e for e in DAILY_EXPOSURES if e in frame.columns], lags=(7,))
plots.forest(dm.table, title="Daily model, the 7 days before");
dm.warnings

# %% [markdown]
# ## Early pain changes running: leave a gap
# If the knee already niggled before the first scored pain day, the runner may
# have run less, which would make running look protective. Leaving the last 2
# days out of the hazard window is a simple check: do the estimates move much?

# %%
gap = kd.case_crossover(frame, exposures, hazard_days=7, gap_days=2, penalty="logF")
gap.table[["term", "window", "ratio", "ci_low", "ci_high", "status"]]

# %% [markdown]
# ## For the sample runner, we know the truth
# The sample data were drawn from a stated model (`sample_data/README.md`). A
# large spike in the previous week multiplied the daily odds of an episode by 6:
# a transient exposure the case-crossover can see. Two or more strength sessions
# in the previous week halved them, and an 8-week low-cadence block raised them
# by 2.5; these change slowly, so they hardly differ between a hazard window and
# its referents a few weeks away, and a daily model on a dozen episodes
# cannot place them either. Compare the estimates above with the planted values:

# %%
truth = inputs.data / "truth.json"
json.loads(truth.read_text())["hazard_model"]["odds_ratios"] if truth.exists() else "no truth.json: your own data"

# %% [markdown]
# ## How to read all this

# %%
for caveat in CAVEATS:
    print("-", caveat, "\n")
