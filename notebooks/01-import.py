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
# # 1. What is in my running history?
#
# **The question:** before asking what came before the knee pain, can we trust
# the record? This notebook imports every watch file, app export and export zip
# in one folder into a local store, and shows what was read, what was a copy of
# something already there, and what looked wrong.
#
# To use your own data, change `DATA` in the next cell (or set the environment
# variable `KNEEDATA_DATA`) to the folder with your exports. Nothing leaves your
# computer; the store is a folder of Parquet files.

# %% tags=["parameters"]
import os
from pathlib import Path

DATA = Path(os.environ.get("KNEEDATA_DATA", "../sample_data"))  # your export folder
STORE = os.environ.get("KNEEDATA_STORE")  # None: a scratch store for DATA in the temp folder

# %%
import pandas as pd

import kneedata as kd
from kneedata.present import plain_notes
from kneedata.notebook import notebook_paths

pd.set_option("display.max_colwidth", None)  # show every reason in full
plain_notes()  # notes as plain lines, not error boxes

DATA, STORE = notebook_paths(DATA, STORE)
store = kd.Store(STORE)
print(f"data: {DATA}\nstore: {STORE}")

# %% [markdown]
# ## Import
# Files already in the store are recognised by their content and skipped, so
# running this again after adding new exports only reads the new files.

# %%
report = store.import_paths([DATA], progress=False)
print(report.summary())

# %% [markdown]
# ## What happened to each file
# *duplicate* means the same run arrived twice (say, the watch's FIT file and the
# phone app's GPX): it is kept once, from the richest file. *not an activity* is
# everything else in the folder (the diary, the shoes list, ...).

# %%
files = store.files()
files["status"].value_counts()

# %%
files.loc[files["status"].isin(["failed", "not_an_activity"]), ["path", "status", "reason"]]

# %% [markdown]
# ## The activities
# One row per session, in the runner's local days.

# %%
acts = store.activities()
acts.groupby(["sport", "source_format"]).size().rename("activities").to_frame()

# %%
acts[["local_date", "sport", "distance_m", "timer_time_s", "avg_cadence_spm", "device"]].tail()

# %% [markdown]
# ## Data-quality report
# What the readers had to salvage, assume or leave out. Each of these can shift a
# run to the wrong day or bias a cadence average, so it is worth a look before any
# analysis.

# %%
quality = {
    "damaged or truncated files (kept what was readable)": int((~acts["complete"].astype(bool)).sum()),
    "local day assumed from UTC (no time-zone information)": int(acts["local_time_source"].eq("assumed_utc").sum()),
    "runs without cadence": int((acts["sport"].eq("running") & acts["avg_cadence_spm"].isna()).sum()),
    "runs found in more than one file": int((acts["sport"].eq("running") & (acts["n_sources"] > 1)).sum()),
}
quality

# %% [markdown]
# Every note names the file and the activity it is about:

# %%
kd.quality_notes(acts)

# %% [markdown]
# ## What this cannot show
# The store knows only the files it was given: a week without files reads as a
# week without running unless you say otherwise. A watch records what happened on
# the run, not how the knee felt: that comes from the pain diary (notebook 2 on).
