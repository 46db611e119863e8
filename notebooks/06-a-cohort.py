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
# # 6. Many runners: what tends to come before knee pain in a club, a clinic, a study
#
# **The question:** across many runners, does a much longer run than usual (a
# *large single-session spike*, > 2 x the longest run of the previous 30 days)
# come before knee-pain episodes, and by how much does that differ between runners?
#
# One runner has too few episodes for slow exposures; a cohort has many. But runners
# differ: a runner who often does big long runs may also be a runner prone to pain
# for other reasons (weak hips, an old injury). Comparing runners *with each other*
# then blames the long runs for the trait. Comparing each runner *with themselves*
# does not.
#
# Point `MANIFEST` at your cohort's manifest (`runner_id,path,diary,...`; see the
# README), or put it in `DATA` as `runners.csv`. Without one, this notebook simulates
# a small cohort with a known truth (spike OR 2, and a trait in 30 % of runners that
# raises both pain and spikes) and writes it as real FIT files and diaries; a single
# runner's folder is the subject of notebooks 1-5.

# %% tags=["parameters"]
import os
import tempfile
from pathlib import Path

MANIFEST = os.environ.get("KNEEDATA_MANIFEST")  # None: DATA/runners.csv, else simulate a cohort
DATA = os.environ.get("KNEEDATA_DATA")  # a folder holding runners.csv, or None
WORK = Path(tempfile.mkdtemp(prefix="kneedata-cohort-"))
N_RUNNERS, N_DAYS = 5, 160  # the simulated cohort (small: it runs in the tests)

# %%
import warnings

import distributed
import matplotlib.pyplot as plt

import kneedata as kd
from kneedata import plots
from kneedata.cohort import derive_cohort, import_cohort, read_manifest
from kneedata.cohort_models import compare_designs, runner_effects
from kneedata.simulate import TraitConfounding
from kneedata.simulate_files import write_cohort_files

from kneedata.present import plain_notes

plain_notes()  # notes as plain lines, not error boxes
warnings.simplefilter("ignore", kd.DataQualityWarning)

if MANIFEST is None and DATA is not None and (Path(DATA) / "runners.csv").is_file():
    MANIFEST = Path(DATA) / "runners.csv"
elif MANIFEST is None and DATA is not None:
    print(f"{DATA} holds no runners.csv (runner_id,path,diary: one line per runner), so "
          "this notebook simulates a cohort; for one runner's own folder, see notebooks 1-5.")
if MANIFEST is None:
    truth = kd.simulate_cohort(
        N_RUNNERS, N_DAYS, seed=6, effects={"spike_large": 2.0}, base_daily_risk=0.02,
        trait_confounding=TraitConfounding(prevalence=0.3, hazard_or=4.0, spike_factor=3.0))
    files = write_cohort_files(truth, WORK / "files")
    MANIFEST = WORK / "files" / "runners.csv"
    print(f"simulated {N_RUNNERS} runners x {N_DAYS} days: {files['n_runs'].sum()} FIT runs "
          f"written to {WORK / 'files'}")
read_manifest(MANIFEST)

# %% [markdown]
# ## Import and derive, one runner per task, on Dask
#
# Each runner is imported into its own part of one store (duplicates are matched
# within a runner, never across), then derived into one partition of the cohort's
# analysis frame. The tasks run on a Dask `LocalCluster`; on a real cluster, pass
# that cluster's client instead: nothing else changes.

# %%
store = kd.Store(WORK / "store")
with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                              dashboard_address=None) as cluster, \
        distributed.Client(cluster) as client:
    imported = import_cohort(store, MANIFEST, executor=client.get_executor(), progress=False)
    derived = derive_cohort(store, MANIFEST, out=WORK / "frame", executor=client.get_executor(),
                            progress=False, complete=True)
print(imported.summary())
derived.runners[["runner_id", "status", "n_days", "n_onsets", "seconds", "reason"]]

# %%
frame = derived.frame()
print(f"{frame['runner_id'].nunique()} runners, {len(frame)} runner-days, "
      f"{int(frame['onset'].sum())} episode onsets")
frame.groupby("runner_id")[["n_runs", "spike_large", "onset"]].sum()

# %% [markdown]
# ## Every design, side by side
#
# Within-runner designs (case-crossover with one stratum per runner x episode,
# case series / conditional Poisson within runner x 91-day periods, and the daily hazard with
# runner fixed effects) compare each runner's days before an onset with that
# runner's other days. The pooled GEE compares runners with each other, and the
# hierarchical model's random intercept assumes a runner's proneness is unrelated to
# their exposure; both are exposed to the trait. With so few runners every
# interval is wide: the simulation study in the README shows how the designs behave
# over many cohorts.

# %%
designs = compare_designs(frame, "spike_large", lag=7)
designs

# %%
ax = plots.forest(designs.rename(columns={"design": "term"}),
                  title="Large spike in the previous week")
ax.axvline(2.0, color="black", linewidth=1, linestyle=":")
ax.text(2.0, -0.4, " simulated truth", va="top", fontsize=8)
plt.show()

# %% [markdown]
# ## How much runners differ
#
# The hierarchical model lets the spike's effect vary between runners. Its spread
# (SD of the log odds ratio across runners) says whether spikes matter to most
# runners or to a few; with a handful of episodes per runner it is mostly the prior.

# %%
effects = runner_effects(frame, "spike_large")
print("\n".join(effects.warnings))
effects.table

# %%
ax = effects.runners.plot.barh(x="runner_id", y="odds_ratio", legend=False, figsize=(6, 3))
ax.axvline(1.0, color="grey", linestyle="--")
ax.set_xlabel("runner-specific odds ratio (posterior mean)")
plt.show()

# %% [markdown]
# **What this shows:** associations in observational data, not causes and not medical
# advice. The within-runner designs are protected from anything constant within a
# runner; they are not protected from things that change together with the
# exposure (a new training plan, an illness) or from early pain changing the running
# (use `gap_days`).
