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
# # 3. Form: cadence and step length at the same speed
#
# Longer, slower steps load the knee more per step: in the lab, a 10 % higher
# cadence at the same speed cut peak patellofemoral force by 14 % (Lenhart 2014),
# and a 10 % longer step raised patellofemoral stress per step by 31 %
# (Willson 2014). **The question:** what does my cadence look like, and did it
# change before the pain?
#
# Point `DATA` at your own export folder (or set `KNEEDATA_DATA`). `UNITS` (or
# `KNEEDATA_UNITS`) shows pace per `"km"` or per `"mi"`.

# %% tags=["parameters"]
import os
from pathlib import Path

DATA = Path(os.environ.get("KNEEDATA_DATA", "../sample_data"))  # your export folder
STORE = os.environ.get("KNEEDATA_STORE")  # None: a scratch store for DATA in the temp folder
UNITS = os.environ.get("KNEEDATA_UNITS", "km")  # pace shown per "km" or "mi"

# %%
import kneedata as kd
from kneedata import plots
from kneedata.metrics.gait import usual_cadence_curve
from kneedata.notebook import open_notebook_data
from kneedata.present import (
    deviation_blank_reason,
    display_frame,
    monthly_form,
    plain_label,
    plain_notes,
    units_of,
    usual_cadence_text,
)

plain_notes()  # notes as plain lines, not error boxes
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
gait[["date", "speed_moving_m_s", "cadence_moving_spm", "step_length_m",
      "cadence_deviation_pct", "step_length_deviation_pct"]].describe().round(2).rename(
          columns=plain_label)

# %% [markdown]
# ## Cadence against speed
# Everyone's cadence rises with speed, so a raw average mixes easy and fast
# runs. The black line is *your own* usual cadence at each speed, fitted on your
# runs of the last 180 days and drawn only over the speeds you ran. Highlighted:
# runs in the two weeks before a pain episode.

# %%
line = gait.attrs["cadence_speed_line"]
print(usual_cadence_text(line, min_runs=inputs.derived.options.min_baseline_runs,
                         diary_start=inputs.diary["date"].min()))
plots.cadence_speed(gait, curve=usual_cadence_curve(line), highlight=episodes,
                    highlight_days=14, pace=units_of(UNITS).pace);

# %% [markdown]
# ## Cadence against your usual, run by run
# Each run against your own line of the 180 days *before* it (never later runs),
# in percent: -7 % means about 12 fewer steps a minute than usual at that speed,
# so longer steps. The first runs have no value while the line warms up; when
# no run has enough earlier runs, the figure shows the cadence itself and says why.

# %%
print(deviation_blank_reason(gait) or "")
plots.cadence_deviation(gait);

# %% [markdown]
# Month by month over the months your diary spans (medians of the runs):

# %%
display_frame(monthly_form(gait, inputs.diary))

# %% [markdown]
# **What it cannot show.** A watch does not see the foot land: true overstriding
# (the foot landing ahead of the body) needs video. Cadence and step length at
# the same speed are what the lab studies changed (Heiderscheit 2011; Lenhart
# 2014; Willson 2014), so they are the proxies used here. Hills, fatigue, shoes and
# a different watch move them too; vertical ratio and ground contact time depend
# on the sensor and are descriptions only. A change of form that lasts for months
# becomes your new usual after about three months, and it is a *slow* exposure:
# notebook 4 explains why one runner's diary struggles to link it to pain.
