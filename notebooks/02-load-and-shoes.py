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
# # 2. How much did I run, and did sudden jumps come before pain?
#
# Runner's knee is, above all, an overuse problem: the knee is asked to do more
# than it has adapted to. This notebook looks at the running load day by day, at
# single runs much longer than usual, at the popular acute:chronic ratio (and why
# not to trust it alone), and at the shoes.
#
# Point `DATA` at your own export folder (or set `KNEEDATA_DATA`); it should hold
# `pain_diary.csv`, and `shoes.csv` for the shoe section (templates: `kneedata init
# FOLDER`). `UNITS` (or `KNEEDATA_UNITS`) shows distances in `"km"` or `"mi"`.

# %% tags=["parameters"]
import os
from pathlib import Path

DATA = Path(os.environ.get("KNEEDATA_DATA", "../sample_data"))  # your export folder
STORE = os.environ.get("KNEEDATA_STORE")  # None: a scratch store for DATA in the temp folder
UNITS = os.environ.get("KNEEDATA_UNITS", "km")  # distances shown in "km" or "mi"

# %%
from kneedata import plots
from kneedata.notebook import open_notebook_data
from kneedata.present import display_frame, plain_notes, units_of

plain_notes()  # notes as plain lines, not error boxes

# imports DATA first if the store is empty, then derives every table once
inputs = open_notebook_data(DATA, STORE)
derived = inputs.derived
acts, diary, episodes = derived.activities, inputs.diary, inputs.episodes
units_of(UNITS)  # checks the unit: "km" or "mi"
print(f"{len(acts)} activities, {len(diary)} diary entries, {len(episodes)} pain episodes")

# %% [markdown]
# ## Day by day
# Bars are each day's distance; dots are pain-diary entries (right-hand axis,
# 0-10); the shaded spans are pain episodes (a score of 3 or more after two
# pain-free weeks, until two pain-free weeks again). When your history is much
# longer than your diary, the figure shows the diary period (from 8 weeks before
# the first entry) and, above it, the whole history as context; over more than
# about 15 months the bars become weekly or monthly sums so that none vanishes.

# %%
daily, load = derived.daily, derived.load
plots.timeline(daily, episodes=episodes, diary=diary, units=UNITS);

# %% [markdown]
# ## Single runs much longer than usual
# In 5,205 runners followed for 18 months, a run more than twice as long as the
# longest of the previous 30 days came with a clearly higher injury rate (hazard
# ratio 2.28, 95 % CI 1.50-3.48; Frandsen et al., BJSM 2025). Here are yours:

# %%
spikes = derived.spikes
spikes["spike_category"].value_counts()

# %%
display_frame(spikes.loc[spikes["spike_category"] == "large",
                         ["date", "distance_km", "longest_prev_30d_km", "spike_ratio"]], UNITS)

# %% [markdown]
# Look for shaded episodes starting within a week or two after these dates in the
# timeline above. Notebook 4 puts a number on it.
#
# ## Acute vs chronic load
# The last 7 days (acute) against the weekly average of the three weeks before
# (chronic), and their ratio on the right.

# %%
plots.acute_chronic(load, diary=diary, units=UNITS);  # the diary period, the whole history above

# %% [markdown]
# **What it cannot show.** The ratio is mathematically coupled (in its common
# form the acute week is also in the chronic average) and hides whether the top
# went up or the bottom went down: a ratio of 1.5 after a rest week means
# something else than after a big block. In the same 5,205 runners, the ratio
# showed no link with injury. Read the two lines, not just the ratio.
#
# ## Shoes
# Distance per shoe, and pain episodes per 100 km (or miles) in each (an episode
# counts against the shoe of the last run before it). This needs `shoes.csv` in
# `DATA` (`kneedata init FOLDER` writes a template).

# %%
summary = derived.shoe_summary
if summary is None:
    print(f"No shoes list: put shoes.csv in {DATA} (one line per pair: shoe_id, name as "
          "in your watch's gear list, ...; `kneedata init FOLDER` writes a template) to "
          "see distance and pain episodes per shoe.")
else:
    plots.shoe_km(summary, units=UNITS)

# %%
cols = ["name", "n_runs", "distance_km", "n_episodes", "episodes_per_100km",
        "episodes_per_100km_low", "episodes_per_100km_high"]
display_frame(summary[[c for c in cols if c in summary]], UNITS) if summary is not None else None

# %% [markdown]
# **What it cannot show.** These rates are crude. A shoe worn in the heavy weeks,
# on trails, or while already sore collects episodes for reasons that are not the
# shoe, and with a handful of episodes the intervals overlap: the data cannot tell
# these shoes apart. Runs without a known shoe are left out, not guessed.
#
# ## Sleep and recovery
# Sleep, HRV and resting heart rate against your own band of the previous days
# (past days only), over the weekly kilometres and the week's highest pain. The
# watch's wellness files and an Apple Health export fill it (docs/recovery.md).

# %%
from kneedata.metrics.recovery import recovery_bands
from kneedata.report import RECOVERY_HOWTO

bands = recovery_bands(derived.wellness)
if bands:
    plots.recovery(bands, daily=daily, diary=diary)
else:
    print("No sleep, HRV or resting HR in this store. " + RECOVERY_HOWTO)

# %% [markdown]
# **What it cannot show.** A night outside the band is unusual *for you*, not bad:
# the evidence links short sleep with more injuries in cohorts, while HRV and
# resting HR have little injury evidence. Whether your pain followed them is in
# the report's "Sleep and recovery" section, tested with everything else.
