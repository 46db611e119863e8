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
# lower cadence? One main analysis answers it; other designs check it.
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
# ## The main answer: every pain-free day against the days that came before
# For every day the runner was free of pain and kept the diary: did an episode
# start more often in the 7 days after a large spike (or a strength session) than
# at other times? This is a logistic model of the daily chance of an episode,
# gently penalised (log-F) so that a handful of episodes cannot produce an
# absurd number. It was chosen by simulating runners like this one (README,
# "Which analysis, and why"): it detects real effects most often while its 95 %
# intervals still cover the truth about 95 % of the time.

# %%
primary = kd.primary_analysis(frame)
print(primary.summary_text())

# %% [markdown]
# A term that the data cannot estimate (too few episodes, every episode pointing
# the same way, no variation) says so in `status` and has `estimable == False`:
# no number is offered as an answer. Then the useful question is what these data
# *could* show: the smallest effect this runner's own history would reveal, and
# how many episodes it would take to see a doubling or a tripling.

# %%
if primary.estimable:
    plots.forest(primary.table, title="Main analysis")
else:
    print("Not enough episodes yet: nothing here can be estimated from the data so far.")
kd.detectable_odds_ratio(frame, n_sim=50, seed=1)

# %% [markdown]
# ## Sensitivity analyses: the same question, other designs
# *Case-crossover*: each episode's 7 days before against 7-day windows of the
# same runner in the same 12-week block (84-day strata: 28-day strata keep too
# few comparison windows once an episode takes weeks to settle). Whatever does
# not change within a block cancels out; slow exposures cannot be placed.
# *Recurrent Cox*: the time to the next episode. When these broadly agree with
# the main answer, it does not hinge on one modelling choice.

# %%
exposures = [e for e in CASE_CROSSOVER_EXPOSURES if e in frame.columns]
cc = kd.case_crossover(frame, exposures, hazard_days=7, stratum_days=84, penalty="logF")
cox = kd.recurrent_cox(frame, exposures, lags=(7,), penalty="logF")
for result in (cc, cox):
    print(result.summary_text(), "\n")

# %% [markdown]
# A slow exposure such as cadence can only enter the daily model, which compares
# the runner across the whole record (seasons and other slow changes mix in):

# %%
dm = kd.daily_model(frame, [e for e in DAILY_EXPOSURES if e in frame.columns], lags=(7,),
                    penalty="logF")
dm.table[["term", "ratio", "ci_low", "ci_high", "estimable", "status"]]

# %% [markdown]
# ## Early pain changes running: leave a gap
# If the knee already niggled before the first scored pain day, the runner may
# have run less, which would make running look protective. Leaving the last 2
# days out of the window is a simple check: do the estimates move much?

# %%
gap = kd.primary_analysis(frame, gap_days=2)
gap.table[["term", "window", "ratio", "ci_low", "ci_high", "estimable", "status"]]

# %% [markdown]
# ## For the sample runner, we know the truth
# The sample data were drawn from a stated model (`sample_data/README.md`). A
# large spike in the previous week multiplied the daily odds of an episode by 6:
# a transient exposure the main analysis can see. Two or more strength sessions
# in the previous week halved them, and an 8-week low-cadence block raised them
# by 2.5; these change slowly, and with a dozen episodes no observational design
# places them reliably (about 30 % power in simulation): a planned experiment can.
# Compare the estimates above with the planted values:

# %%
truth = inputs.data / "truth.json"
json.loads(truth.read_text())["hazard_model"]["odds_ratios"] if truth.exists() else "no truth.json: your own data"

# %% [markdown]
# ## How to read all this

# %%
for caveat in CAVEATS:
    print("-", caveat, "\n")
