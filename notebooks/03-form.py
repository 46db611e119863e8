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
# # 3. Form: cadence, step length and overstriding
#
# Longer, slower steps load the knee more per step: in the lab, a 10 % higher
# cadence at the same speed cut peak patellofemoral force by 14 % (Lenhart 2014),
# and a 10 % longer step raised patellofemoral stress per step by 31 %
# (Willson 2014). **The question:** what does my cadence look like, and did it
# change before the pain?
#
# Point `DATA` at your own export folder (or set `KNEEDATA_DATA`).

# %% tags=["parameters"]
import os
from pathlib import Path

DATA = Path(os.environ.get("KNEEDATA_DATA", "../sample_data"))  # your export folder
STORE = os.environ.get("KNEEDATA_STORE")  # None: a scratch store for DATA in the temp folder

# %%
import matplotlib.pyplot as plt
import seaborn as sns

import kneedata as kd
from kneedata import plots
from kneedata.metrics.gait import usual_cadence
from kneedata.notebook import open_notebook_data

inputs = open_notebook_data(DATA, STORE)
episodes = inputs.episodes

# %% [markdown]
# ## One row per run
# From the moving samples of each run: cadence, step length (speed x 60 /
# cadence), and, where the watch records running dynamics, vertical ratio and
# ground contact. Step length relative to height needs your height: pass
# `options=kd.DeriveOptions(height_m=...)` to `open_notebook_data` above.

# %%
gait = inputs.derived.gait
gait[["date", "speed_moving_m_s", "cadence_moving_spm", "step_length_m", "overstride_index",
      "vertical_ratio_pct"]].describe().round(2)

# %% [markdown]
# ## Cadence against speed
# Everyone's cadence rises with speed, so a raw average mixes easy and fast
# runs. The black line is *your own* usual cadence at each speed, fitted on the
# steady, flat stretches of all runs. Highlighted: runs in the two weeks before a
# pain episode.

# %%
fit = gait.attrs["overstride_fit"]
print(f"usual cadence = {fit['intercept_spm']:.0f} + {fit['slope_spm_per_m_s']:.1f} x speed (m/s)")
plots.cadence_speed(gait, curve=usual_cadence(fit), highlight=episodes, highlight_days=14);

# %% [markdown]
# ## The overstride index over time
# The distance of each run from that line, in units of its usual scatter:
# negative means fewer, longer steps than usual at that speed. A block of runs
# well below zero is a period of changed form.

# %%
fig, ax = plt.subplots(figsize=(10, 3.5), layout="constrained")
sns.scatterplot(data=gait, x="date", y="overstride_index", s=18, ax=ax)
ax.axhline(0, color="grey", lw=1)
ax.set(xlabel="date (local)", ylabel="overstride index (SD of your own runs)");

# %%
monthly = gait.groupby(gait["date"].dt.to_period("M"))[
    ["cadence_moving_spm", "step_length_m", "overstride_index"]].median()
monthly.round(2)

# %% [markdown]
# **What it cannot show.** A watch does not see the foot land: the overstride
# index is a proxy (fewer, longer steps than *you* usually take at that speed),
# not a measurement of where the foot strikes relative to the body. Hills,
# fatigue, shoes and a different watch all move it too. And a change of form that
# lasts for months is a *slow* exposure: notebook 4 explains why one runner's
# diary struggles to link it to pain.
