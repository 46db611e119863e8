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
# # 7. Which runs flare my knee?
#
# **The question:** when the knee aches on most days and never fully settles, there
# are hardly any separate episodes to count, but every run has an answer the next
# morning. Which runs left the knee worse the next morning than the others did?
# And does each run pass the physio's pain-monitoring rules?
#
# Point `DATA` at your own export folder (or set `KNEEDATA_DATA`); it needs
# `pain_diary.csv` with a score **on waking** (`timing` `morning`) on most days, and
# uses `before`, `during` and `after` entries when there are some
# (docs/run-response.md, "What to write in the diary").

# %% tags=["parameters"]
import os
from pathlib import Path

DATA = Path(os.environ.get("KNEEDATA_DATA", "../sample_data"))  # your export folder
STORE = os.environ.get("KNEEDATA_STORE")  # None: a scratch store for DATA in the temp folder

# %%
import kneedata as kd
from kneedata import physio, plots
from kneedata.models.run_response import RUN_CAVEAT
from kneedata.notebook import open_notebook_data

# imports DATA first if the store is empty, then derives every table once
inputs = open_notebook_data(DATA, STORE)
derived = inputs.derived

# %% [markdown]
# ## Which answer leads, and why
# The report leads with this notebook's answer when pain is on most diary days,
# and with the episode-onset analysis (notebook 4) when the diary has pain-free
# stretches between episodes. The sample runner has episodes, so for her this is
# the second look.

# %%
shape = physio.diary_shape(derived)
print(shape.reason)

# %% [markdown]
# ## Each run against the pain-monitoring model
# Thomeé (1997): pain **during** a run up to 5/10 is acceptable, pain **after** it
# should have **settled by the next morning** (within 1 point of the pain before the
# run), and pain should not creep up from week to week. `verdict` is `too_much`
# when a known score broke a rule, `acceptable` when none did, `unknown` when the
# diary does not say.

# %%
responses = kd.run_responses(derived)
print(responses["verdict"].value_counts().to_string())
responses[["date", "pain_before", "pain_during", "pain_after",
           "pain_next_morning", "change_24h", "settled", "verdict", "zone", "note"]].tail(10)

# %% [markdown]
# ## Week to week
# The mean waking score of each Monday-to-Sunday week, its change from the last
# week with waking scores, and `creeping_up` when it rose by more than 1 point.

# %%
weekly = kd.weekly_pain(derived)
print(f"{int(weekly['creeping_up'].sum())} of {len(weekly)} weeks crept up")
weekly.tail(8)

# %% [markdown]
# ## For your physio: one page
# Pain during, after and the next morning for every run against the 5/10 line,
# the runs that were too much ringed, and the verdicts and waking-pain trend by week.

# %%
plots.physio(responses, weekly=weekly);

# %% [markdown]
# ## Which runs: next-morning pain on each run's own properties
# Only run days are compared, with each other (the runner rests when it hurts, so
# run days against rest days would make running look protective), and each run's
# next morning is adjusted for the pain just before it (so a run started on an
# unusually good morning is not blamed for the usual return to the mean). Every
# number is a difference in points of pain on 0-10; about 1.2-2 points is a change
# people notice (Piva 2009).

# %%
model = kd.run_response_model(derived, responses=responses)
for _, row in model.table.iterrows():
    print("-", physio.run_response_sentence(row, finding=shape.kind == "persistent"))
model.table[["term", "estimate", "ci_low", "ci_high", "p_adjusted", "n_runs", "n_exposed",
             "status", "per"]]

# %% [markdown]
# A term is stated as an association only when its interval excludes 0 and its
# Benjamini-Hochberg adjusted p-value is below 0.05, and only when this answer
# leads (a mostly painful diary). A term the data cannot estimate says why in
# `status` (`too_few_runs`, `no_variation`, `collinear`): no number is offered.

# %% [markdown]
# ## How big a flare could this diary show?
# The smallest next-morning flare after a large spike that these runs and this
# diary would detect 80 % of the time, and how much longer the diary would need
# to run to see a 1-point flare.

# %%
flare = kd.detectable_flare(derived, responses=responses)
print(flare["text"])

# %% [markdown]
# ## How to read this

# %%
print(RUN_CAVEAT)
