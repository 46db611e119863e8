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
from kneedata.notebook import open_notebook_data
from kneedata.present import display_frame, plain_notes, term_label
from kneedata.settings import CAVEATS

plain_notes()  # notes as plain lines, not error boxes
# imports DATA first if the store is empty, then derives every table once
inputs = open_notebook_data(DATA, STORE)
for name, table, what in (("shoes.csv", inputs.derived.shoes, "shoes are not compared"),
                          ("routines.csv", inputs.derived.routines,
                           "strength sessions are not compared")):
    if table is None:
        print(f"No {name} in {DATA}: {what} (`kneedata init FOLDER` writes a template).")

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
findings = kd.report_findings(inputs.derived)  # the rows the report renders (findings.csv)
lead = findings.loc[findings["model"].eq("primary_analysis")]  # the onset analysis
for row in lead.itertuples():
    print("-", row.statement, f"[{row.episodes_note}]")

# %% [markdown]
# Only the main analysis makes findings (`finding == True`): a term is one when
# it can be estimated, its Benjamini-Hochberg adjusted p-value is below 0.05 and
# its interval excludes 1 (docs/findings.md measures how often a runner with no
# true effect is told anything at all under this rule). A term the data cannot estimate
# (too few episodes, every episode pointing the same way, no variation) says so
# in `direction == "not_estimable"`: no number is offered as an answer. Then the
# useful question is what these data *could* show: the smallest effect this
# runner's own history would reveal, and how many episodes it would take to see a
# doubling or a tripling.

# %%
if lead["direction"].ne("not_estimable").any():
    plots.forest(lead.rename(columns={"estimate": "ratio"}).assign(
        estimable=lead["direction"].ne("not_estimable")), title="Main analysis")
else:
    print("Not enough episodes yet: nothing here can be estimated from the data so far.")
# what the report says the data could show: the terms that are not findings, both ways
unsure = lead.loc[~lead["finding"], "exposure"].tolist()
if unsure:
    could = kd.detectable_odds_ratio(frame, unsure, n_sim=100, seed=0, direction="both")
    display_frame(could.drop(columns=["exposure"]).assign(term=could["term"].map(term_label)))

# %% [markdown]
# ## Sensitivity analyses: the same question, other designs
# *Case-crossover*: each episode's 7 days before against 7-day windows of the
# same runner in the same 12-week block (84-day strata: 28-day strata keep too
# few comparison windows once an episode takes weeks to settle). Whatever does
# not change within a block cancels out; slow exposures cannot be placed.
# *Daily model*: a slow exposure such as cadence can only enter it; it compares
# the runner across the whole record (seasons and other slow changes mix in).
# Both are penalised like the main analysis, and both are checks: each row says
# whether it points the same way as the main answer, never a finding of its own
# (when every design could make findings, about 1 runner in 4 with no true effect
# was told that something mattered: docs/findings.md).

# %%
checks = findings.loc[~findings["model"].eq("primary_analysis")]  # and the run-response rows
for row in checks.itertuples():
    print("-", row.statement)
display_frame(checks[["section", "term", "estimate", "ci_low", "ci_high", "agrees_with_lead",
                      "n_episodes"]].assign(term=checks["term"].map(term_label)))

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
