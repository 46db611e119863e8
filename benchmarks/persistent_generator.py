"""An independent generator of a runner whose knee pain never fully goes away (or comes in episodes).

Used by ``benchmarks/persistent_study.py`` and the end-to-end run-response test. It
never imports :mod:`kneedata`: it simulates a runner day by day with its own rules
(numpy/pandas only) and writes what that runner would hand over:

- the **activities table** one row per run, in the layout a store's
  ``activities()`` has (``activity_id``, ``sport``, ``sub_sport``,
  ``start_time_utc``, ``utc_offset_min``, ``timezone``, ``local_date``,
  ``distance_m``, ``timer_time_s``, ``avg_speed_m_s``, ``avg_heart_rate_bpm``,
  ``avg_cadence_spm``, ``ascent_m``, ``descent_m``), the cheapest input
  ``kneedata.derive`` takes;
- or the **watch files** themselves: one GPX 1.1 file per run (track points every
  ``point_s`` seconds with elevation, heart rate and cadence in strides/min as
  Garmin writes them; no time zone inside: the local day comes from the GPS fix);
- a **pain diary CSV** with the header ``date,time,side,site,pain_0_10,timing,
  activity_id,notes``: a ``morning`` entry most days, an ``after`` entry (1-3 h
  after the run) on most run days, a ``during`` entry on some, now and then an
  evening ``rest`` entry; spells without entries and one or two holidays a year
  with none at all; ``activity_id`` left blank (entries are linked to runs by date
  and time, as a real diary would have to be).

The true model (``mode="persistent"``)
-------------------------------------
- Latent knee state ``L`` (points, 0-10), an AR(1) around ``pain_mean`` (3/10):
  ``L[t] = mu + phi (L[t-1] - mu) + F[t] + eps``, ``phi = 0.8``, ``eps ~ N(0, 0.55)``.
- What the runner feels and writes in the morning: ``L[t] + e``, ``e ~ N(0, 0.65)``,
  rounded to a whole point (one in ten entries to a half point), clipped to 0-10.
- Flares: a run on day ``t`` adds ``F[t+1] = flare_spike * spike + flare_per_100m *
  descent_m / 100`` to the next morning (and, through the AR(1), a fading tail). So
  the morning after a spike run is ``flare_spike`` points worse than after another
  run with the same pre-run pain: the run-response model's estimand.
- Spike (derived here from the distances): a run longer than twice the longest run
  of the 30 days before its day (days ``d-30 .. d-1``).
- Runs are chosen on good days: the runner runs on about ``run_days_per_week``
  days a week, with probability ``1 / (1 + exp(1.6 (felt - 5)))`` of going out at
  all (a 6/10 morning is mostly a rest day). In about one week in eight a long outing
  (1.9-3.2 x the longest run of the month) is planned; it waits for a morning at
  4/10 or better.
- Descent: road loops (3-8 m per km), hilly roads (10-25 m/km) or trail runs
  (``sub_sport`` ``trail``, 25-60 m/km); ascent about the same.
- During and after a run: ``L + 0.3 + 0.3 x flare`` and ``L + 0.5 + 0.6 x flare``
  plus noise (the planted effect lands mostly next morning).
- Cadence: 168 + 10 steps/min per m/s above 3 m/s, noise 2.5: no effect on pain
  (a null exposure).

``mode="episodic"``: the knee is fine (L around 0.4, scores 0-2) between episodes;
on a day at risk an episode starts with probability ``h0 * odds_ratio ** E`` (odds),
``E`` = a spike on days ``t-7 .. t-1``; it has 3-14 days of pain 3-6/10 and then 14
pain-free days before the runner is at risk again; while in pain the runner skips
runs (the same rule) and halves the distance of those done. ``h0`` is set from
``target_episodes``. Flares (``flare_spike``, ``flare_per_100m``) work in both modes.

Everything is seeded: ``simulate(Scenario(...), seed)`` is deterministic.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

#: Where the runner lives (Zurich: Europe/Zurich, daylight saving time).
HOME = (47.3769, 8.5417)
TIMEZONE = "Europe/Zurich"
START = pd.Timestamp("2023-01-02")
#: A run is a spike when it is more than this times the longest of the previous days.
SPIKE_RATIO = 2.0
SPIKE_WINDOW_DAYS = 30
#: Onset hazard window (episodic mode) [d]: days t-7 .. t-1.
ONSET_WINDOW_DAYS = 7
WASHOUT_DAYS = 14
DIARY_HEADER = ["date", "time", "side", "site", "pain_0_10", "timing", "activity_id", "notes"]


@dataclass(frozen=True)
class Scenario:
    """One runner's true model (see the module docstring)."""

    mode: str = "persistent"
    years: float = 2.0
    flare_spike: float = 0.0  # next-morning points after a spike run
    flare_per_100m: float = 0.0  # next-morning points per 100 m of the run's descent
    odds_ratio: float = 1.0  # episodic: onset odds ratio, spike in the previous 7 days
    target_episodes: float = 15.0  # episodic: planned episodes over the whole period
    pain_mean: float = 3.0
    base_km: float = 8.0
    run_days_per_week: float = 4.0
    big_run_week_prob: float = 0.12
    log_morning: float = 0.88  # share of days with a morning entry (outside holidays)
    log_after: float = 0.75  # share of runs with an after-run entry

    def label(self) -> str:
        if self.mode == "episodic":
            return f"episodic, OR {self.odds_ratio:g}, {self.years:g} y"
        parts = []
        if self.flare_spike:
            parts.append(f"spike +{self.flare_spike:g}")
        if self.flare_per_100m:
            parts.append(f"+{self.flare_per_100m:g}/100 m descent")
        return f"persistent, {', '.join(parts) or 'no flare'}, {self.years:g} y"


@dataclass
class SimRunner:
    """One simulated runner: what they hand over, and the truth behind it."""

    scenario: Scenario
    seed: int
    activities: pd.DataFrame  # the activities-table layout (one row per run)
    diary: pd.DataFrame  # the diary CSV rows (strings, as written)
    days: pd.DataFrame  # truth per day: latent, felt, ran, in_episode, onset
    runs: pd.DataFrame  # truth per run: spike, descent_m, flare, cadence, ...

    def facts(self) -> dict[str, float]:
        d = self.days
        return {
            "n_runs": float(len(self.runs)),
            "n_spikes": float(self.runs["spike"].sum()),
            "n_onsets_true": float(d["onset"].sum()),
            "pain_day_share": float((d["felt"] >= 2.5).mean()),
            "n_diary_entries": float(len(self.diary)),
            "morning_share": float((self.diary["timing"] == "morning").sum() / len(d)),
        }

    def write_diary(self, path: str | Path) -> Path:
        path = Path(path)
        self.diary.to_csv(path, index=False, columns=DIARY_HEADER)
        return path

    def write_gpx(self, folder: str | Path, *, point_s: float = 20.0) -> list[Path]:
        """One GPX file per run into ``folder`` (see :func:`gpx_text`)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(self.seed + 7_000_000)
        paths = []
        for run in self.activities.itertuples(index=False):
            local = run.start_time_utc.tz_convert(TIMEZONE)
            path = folder / f"{local.strftime('%Y-%m-%d_%H%M')}_{run.activity_id}.gpx"
            path.write_text(gpx_text(run._asdict(), rng, point_s=point_s), encoding="utf-8")
            paths.append(path)
        return paths


def _spike(km_history: np.ndarray, t: int, km: float) -> bool:
    """A run of ``km`` on day t longer than twice the longest of days t-30 .. t-1."""
    prev = km_history[max(0, t - SPIKE_WINDOW_DAYS):t]
    return bool(prev.size and prev.max() > 0 and km > SPIKE_RATIO * prev.max())


def _logged_days(rng: np.random.Generator, n_days: int, share: float, years: float) -> np.ndarray:
    """Days with diary entries: Markov spells plus 1-2 holidays a year of 7-14 days."""
    logged = np.ones(n_days, dtype=bool)
    stay_off = 0.55  # an unlogged day is followed by another with this probability
    to_off = (1 - share) * (1 - stay_off) / share
    u = rng.random(n_days)
    for t in range(1, n_days):
        logged[t] = u[t] >= to_off if logged[t - 1] else u[t] >= stay_off
    for _ in range(int(round(years * rng.uniform(1, 2)))):
        start = int(rng.integers(30, max(31, n_days - 20)))
        logged[start:start + int(rng.integers(7, 15))] = False
    return logged


def _score(rng: np.random.Generator, value: float) -> float:
    """A written pain score: whole points, one in ten to a half point, 0-10."""
    step = 0.5 if rng.random() < 0.1 else 1.0
    return float(np.clip(np.round(value / step) * step, 0, 10))


def _fmt(score: float) -> str:
    return f"{score:g}"


def _clock(minutes: float) -> str:
    m = int(round(minutes)) % 1440
    return f"{m // 60:02d}:{m % 60:02d}"


def simulate(s: Scenario, seed: int) -> SimRunner:
    """Simulate one runner day by day (see the module docstring)."""
    if s.mode not in ("persistent", "episodic"):
        raise ValueError(f"mode must be 'persistent' or 'episodic', got {s.mode!r}")
    rng = np.random.default_rng(seed)
    n_days = int(round(s.years * 365))
    dates = pd.date_range(START, periods=n_days, freq="D")
    logged = _logged_days(rng, n_days, s.log_morning, s.years)
    episodic = s.mode == "episodic"
    mu = 0.4 if episodic else s.pain_mean
    phi = 0.8
    eps_sd, felt_sd = (0.25, 0.3) if episodic else (0.55, 0.65)
    # episodic baseline hazard: planned episodes over the days at risk
    spike_share = s.big_run_week_prob * ONSET_WINDOW_DAYS / 7 * 0.8
    refractory = min(0.6, s.target_episodes * 24 / n_days)
    h0 = s.target_episodes / (n_days * (1 - refractory) * (1 + spike_share * (s.odds_ratio - 1)))

    latent = np.zeros(n_days)
    felt = np.zeros(n_days)
    km_day = np.zeros(n_days)
    in_episode = np.zeros(n_days, dtype=bool)
    onset = np.zeros(n_days, dtype=bool)
    spike_day = np.zeros(n_days, dtype=bool)
    flare_next = 0.0
    episode_pain_left = 0
    episode_level = 0.0
    free_from = 0
    big_planned = False
    runs: list[dict[str, Any]] = []
    diary: list[dict[str, Any]] = []
    prev = mu
    for t in range(n_days):
        weekday = dates[t].day_of_week
        if weekday == 0:
            big_planned = rng.random() < s.big_run_week_prob
        # --- the knee this morning
        if episodic:
            if t >= free_from and not in_episode[t]:
                exposed = spike_day[max(0, t - ONSET_WINDOW_DAYS):t].any()
                odds = h0 / (1 - h0) * (s.odds_ratio if exposed else 1.0)
                if rng.random() < odds / (1 + odds):
                    onset[t] = True
                    n_pain = int(rng.integers(3, 15))
                    episode_pain_left = n_pain
                    episode_level = rng.uniform(3.5, 5.5)
                    in_episode[t:min(n_days, t + n_pain + WASHOUT_DAYS)] = True
                    free_from = t + n_pain + WASHOUT_DAYS
            base = mu + phi * (prev - mu) + rng.normal(0, eps_sd)
            prev = max(0.0, base)
            if episode_pain_left > 0:
                level = episode_level + rng.normal(0, 0.5)
                episode_pain_left -= 1
            else:
                level = prev
            latent[t] = level + flare_next
        else:
            prev = mu + phi * (prev - mu) + flare_next + rng.normal(0, eps_sd)
            latent[t] = prev
        flare_next = 0.0
        felt[t] = max(0.0, latent[t] + rng.normal(0, felt_sd))
        if logged[t]:
            time = _clock(rng.uniform(6 * 60, 8 * 60 + 30))
            diary.append({"date": dates[t], "time": time if rng.random() > 0.04 else "",
                          "pain": _score(rng, felt[t]), "timing": "morning"})
        # --- run today?
        go = 1.0 / (1.0 + np.exp(1.6 * (felt[t] - 5.0)))
        want_big = big_planned and felt[t] <= 4.5 and weekday >= 4
        if not (want_big or rng.random() < s.run_days_per_week / 7 * go):
            if logged[t] and rng.random() < 0.12:
                diary.append({"date": dates[t], "time": _clock(rng.uniform(20 * 60, 22 * 60)),
                              "pain": _score(rng, latent[t] + rng.normal(0, felt_sd)),
                              "timing": "rest"})
            continue
        km = s.base_km * float(np.exp(rng.normal(0.0, 0.35)))
        if want_big:
            longest = km_day[max(0, t - SPIKE_WINDOW_DAYS):t].max() if t else km
            km = max(km, float(rng.uniform(1.9, 3.2)) * max(longest, s.base_km * 0.6))
            big_planned = False
        if episodic and episode_pain_left > 0:
            km *= 0.5
        km = min(km, 42.0)
        spike = _spike(km_day, t, km)
        km_day[t] = km
        spike_day[t] = spike
        route = rng.choice(["flat", "hilly", "trail"], p=[0.55, 0.33, 0.12])
        per_km = {"flat": (3, 8), "hilly": (10, 25), "trail": (25, 60)}[str(route)]
        descent = km * float(rng.uniform(*per_km))
        ascent = descent * float(rng.uniform(0.9, 1.1))
        speed = 3.0 * float(np.exp(rng.normal(0, 0.06))) * (0.85 if route == "trail" else 1.0) \
            * (0.95 if km > 16 else 1.0)
        cadence = 168 + 10 * (speed - 3.0) + float(rng.normal(0, 2.5))
        hr = 142 + 18 * (speed - 3.0) + 0.02 * descent + float(rng.normal(0, 4))
        duration_s = km * 1000 / speed
        if weekday >= 5:
            start_min = rng.normal(9.5 * 60, 50)
        else:
            start_min = rng.normal(7 * 60 + 15, 25) if rng.random() < 0.35 \
                else rng.normal(18 * 60 + 15, 40)
        start_min = float(np.clip(start_min, 6 * 60 + 45, 20 * 60))
        end_min = start_min + duration_s / 60
        flare = s.flare_spike * spike + s.flare_per_100m * descent / 100
        flare_next = flare
        local = dates[t] + pd.Timedelta(minutes=round(start_min))
        start_utc = local.tz_localize(TIMEZONE, nonexistent="shift_forward",
                                      ambiguous=False).tz_convert("UTC")
        offset = (local - start_utc.tz_localize(None)).total_seconds() / 60
        run_id = hashlib.sha256(f"{seed}-{t}".encode()).hexdigest()[:16] + "-0"
        runs.append({
            "activity_id": run_id, "sport": "running",
            "sub_sport": "trail" if route == "trail" else "generic",
            "start_time_utc": start_utc, "utc_offset_min": float(offset),
            "timezone": TIMEZONE, "local_date": dates[t].date(),
            "distance_m": round(km * 1000, 1), "timer_time_s": round(duration_s, 1),
            "elapsed_time_s": round(duration_s + rng.uniform(0, 120), 1),
            "moving_time_s": round(duration_s, 1), "avg_speed_m_s": round(speed, 3),
            "avg_heart_rate_bpm": round(hr, 1), "avg_cadence_spm": round(cadence, 1),
            "ascent_m": round(ascent, 1), "descent_m": round(descent, 1),
            # truth (not in the activities table)
            "_day": t, "_spike": spike, "_flare": flare, "_route": str(route),
            "_pain_before": latent[t],
        })
        if logged[t] and rng.random() < 0.25:
            diary.append({"date": dates[t], "time": _clock((start_min + end_min) / 2),
                          "pain": _score(rng, latent[t] + 0.3 + 0.3 * flare
                                         + rng.normal(0, felt_sd)),
                          "timing": "during"})
        after_min = end_min + rng.uniform(45, 180)
        if logged[t] and rng.random() < s.log_after and after_min < 23.5 * 60:
            diary.append({"date": dates[t], "time": _clock(after_min),
                          "pain": _score(rng, latent[t] + 0.5 + 0.6 * flare
                                         + rng.normal(0, felt_sd)),
                          "timing": "after"})
    return _assemble(s, seed, dates, latent, felt, km_day, in_episode, onset, logged,
                     runs, diary)


def _assemble(s: Scenario, seed: int, dates: pd.DatetimeIndex, latent: np.ndarray,
              felt: np.ndarray, km_day: np.ndarray, in_episode: np.ndarray,
              onset: np.ndarray, logged: np.ndarray, runs: list[dict[str, Any]],
              diary: list[dict[str, Any]]) -> SimRunner:
    run_frame = pd.DataFrame(runs)
    truth_cols = [c for c in run_frame.columns if c.startswith("_")]
    activities = run_frame.drop(columns=truth_cols).reset_index(drop=True)
    truth = run_frame[["activity_id", "local_date", "distance_m", "descent_m",
                       "avg_cadence_spm", *truth_cols]].rename(
        columns={c: c[1:] for c in truth_cols})
    side = "right"
    rows = []
    for entry in diary:
        pain = entry["pain"]
        rows.append({"date": entry["date"].strftime("%Y-%m-%d"), "time": entry["time"],
                     "side": side if pain > 0 or entry["timing"] != "morning" else "",
                     "site": "around_kneecap" if pain >= 2 else "",
                     "pain_0_10": _fmt(pain), "timing": entry["timing"],
                     "activity_id": "", "notes": ""})
    diary_frame = pd.DataFrame(rows, columns=DIARY_HEADER)
    days = pd.DataFrame({"date": dates, "latent": latent, "felt": felt, "km": km_day,
                         "logged": logged, "in_episode": in_episode, "onset": onset})
    return SimRunner(scenario=s, seed=seed, activities=activities, diary=diary_frame,
                     days=days, runs=truth)


def gpx_text(run: dict[str, Any], rng: np.random.Generator, *, point_s: float = 20.0) -> str:
    """A GPX 1.1 file of one run: a loop from home with hills that give its descent.

    The track runs out and back along a bearing at the run's speed; the altitude
    follows a sine whose amplitude makes the total descent ``descent_m`` (hills of
    about 1.5 km). Heart rate and cadence (strides/min, as Garmin writes them) in
    ``gpxtpx:TrackPointExtension``; trail runs have ``<type>trail_running</type>``.
    """
    duration = float(run["timer_time_s"])
    n = max(3, int(duration // point_s) + 1)
    t = np.linspace(0.0, duration, n)
    dist = t * float(run["distance_m"]) / duration
    bearing = rng.uniform(0, 2 * np.pi)
    half = float(run["distance_m"]) / 2
    along = np.where(dist <= half, dist, 2 * half - dist)  # out and back [m]
    north, east = along * np.cos(bearing), along * np.sin(bearing)
    # sideways offset so out and back are distinct paths
    side = 30.0 * np.sin(np.pi * dist / float(run["distance_m"]))
    north += side * -np.sin(bearing)
    east += side * np.cos(bearing)
    lat = HOME[0] + north / 111_320.0
    lon = HOME[1] + east / (111_320.0 * np.cos(np.radians(HOME[0])))
    wavelength = 1500.0
    cycles = max(float(run["distance_m"]) / wavelength, 1.0)
    amplitude = float(run["descent_m"]) / (2 * cycles)  # each cycle descends 2 x amplitude
    ele = 420.0 + amplitude * np.sin(2 * np.pi * dist / wavelength)
    hr = np.round(float(run["avg_heart_rate_bpm"]) + rng.normal(0, 3, n))
    strides = np.round((float(run["avg_cadence_spm"]) + rng.normal(0, 2, n)) / 2)
    start = pd.Timestamp(run["start_time_utc"])
    times = start + pd.to_timedelta(t, unit="s")
    kind = "trail_running" if run["sub_sport"] == "trail" else "running"
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx creator="SimWatch" version="1.1" xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">\n'
        f" <metadata><time>{start.strftime('%Y-%m-%dT%H:%M:%SZ')}</time></metadata>\n"
        f" <trk><name>{escape('Run ' + str(run['local_date']))}</name><type>{kind}</type>"
        "<trkseg>\n")
    points = [
        f'  <trkpt lat="{lat[i]:.6f}" lon="{lon[i]:.6f}"><ele>{ele[i]:.1f}</ele>'
        f"<time>{times[i].strftime('%Y-%m-%dT%H:%M:%SZ')}</time><extensions>"
        f"<gpxtpx:TrackPointExtension><gpxtpx:hr>{int(hr[i])}</gpxtpx:hr>"
        f"<gpxtpx:cad>{int(strides[i])}</gpxtpx:cad></gpxtpx:TrackPointExtension>"
        "</extensions></trkpt>\n" for i in range(n)]
    return head + "".join(points) + " </trkseg></trk>\n</gpx>\n"


def describe(s: Scenario) -> dict[str, Any]:
    return {"label": s.label(), **asdict(s)}


if __name__ == "__main__":  # a quick look at one runner of each kind
    for scen in (Scenario(flare_spike=1.0, flare_per_100m=0.25),
                 Scenario(mode="episodic", odds_ratio=6, years=3)):
        r = simulate(scen, 1)
        print(scen.label(), {k: round(v, 2) for k, v in r.facts().items()})
        print(r.diary["timing"].value_counts().to_dict())
