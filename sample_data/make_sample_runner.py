"""Generate kneedata's sample runner: 18 months of runs as real files, plus a diary.

A synthetic runner ("Lena", Freiburg im Breisgau, Europe/Berlin) is simulated day by
day. Her runs are written through real formats: FIT files from two Garmin watches
(``watch/``), GPX and TCX files from a phone app (``phone/``), and a Strava-style
bulk export (``strava_export.zip``) that repeats some watch and phone runs. Her pain
diary, shoes and strength/foam-rolling log are CSV files with the headers kneedata
reads. Knee-pain episodes are drawn from the stated hazard model below, so the
analyses have a known truth to recover; ``truth.json`` records it.

Hazard model (one draw per day on which the runner is at risk, i.e. not inside an
episode; an episode lasts from onset to 14 days after its last pain day)::

    logit P(onset on day d) = logit(P0)
        + ln(OR_SPIKE)    * [a run in d-7..d-1 was > 2 x the longest run in the
                             30 days before that run's day (a "large spike")]
        + ln(OR_WEEKLY)   * [distance d-7..d-1 > 1.3 x distance d-14..d-8 (> 0)]
        + ln(OR_LOW_CAD)  * [d inside the 8-week low-cadence block]
        + ln(OR_STRENGTH) * [>= 2 strength sessions in d-7..d-1]

Usage::

    .venv/bin/python sample_data/make_sample_runner.py            # writes sample_data/
    .venv/bin/python sample_data/make_sample_runner.py --out /tmp/s --days 60

The output is byte-for-byte deterministic for a given ``--seed``, ``--start`` and
``--days`` (gzip and zip timestamps are fixed, nothing depends on the clock).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import math
import shutil
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

from kneedata.testing.fitwrite import write_activity_fit  # noqa: E402

# --- the stated model ----------------------------------------------------------------
SEED = 2  # the first seed (from 1) whose realisation has >= 12 episodes (see README)
START = dt.date(2024, 5, 1)
DAYS = 548  # 18 months: 2024-05-01 .. 2025-10-30

P0 = 0.008  # baseline daily onset probability on at-risk days
OR_SPIKE = 6.0  # a large single-session spike (> 100 % longer) in the previous 7 days
OR_WEEKLY = 2.5  # last 7 days' distance > 30 % above the 7 days before
OR_LOW_CAD = 2.5  # inside the 8-week low-cadence block
OR_STRENGTH = 0.5  # >= 2 strength sessions in the previous 7 days
SPIKE_RATIO = 2.0  # "> 100 % longer" = distance > 2 x longest run of previous 30 days
WEEKLY_RATIO = 1.3
WASHOUT_DAYS = 14  # an episode ends after 14 pain-free days (kneedata's default)
PAIN_THRESHOLD = 3

LOW_CAD_OFFSET_DAY = 257  # block starts START + 257 days (2025-01-13 by default)
LOW_CAD_WEEKS = 8
LOW_CAD_SPM = -9.0  # cadence lower than her usual curve by 9 steps/min in the block
STRENGTH_REGULAR = ((150, 270), (390, 10_000))  # day ranges with 2-3 sessions/week
FR935_DAY = 237  # new watch (running dynamics with a chest strap) from 2024-12-24
STRAVA_DAY = 430  # she joins Strava: every run from here is in the bulk export

HOME = (47.9990, 7.8421)  # Freiburg im Breisgau, Europe/Berlin
LISBON = (38.7139, -9.1394)  # a week's holiday, Europe/Lisbon
HOME_TZ = "Europe/Berlin"
HR_REST, HR_MAX = 52, 188


def cadence_curve(speed_m_s: np.ndarray | float) -> np.ndarray | float:
    """Her own speed-cadence curve [steps/min]: 160 + 10 (v - 3)."""
    return 160.0 + 10.0 * (np.asarray(speed_m_s) - 3.0)


def logit(p: float) -> float:
    return math.log(p / (1 - p))


# --- simulation ------------------------------------------------------------------------
@dataclass
class Run:
    index: int
    day: int
    date: dt.date
    kind: str  # easy, quality, long, big_trail, big_road, recovery
    distance_m: float
    speed_m_s: float
    local_start: dt.datetime  # tz-aware local time
    place: str = "home"
    sub_sport: str = "generic"
    source: str = "watch"  # watch | phone_gpx | phone_tcx | strava_app
    device: str = "fr235"
    running_dynamics: bool = False
    pauses_s: list[tuple[float, float]] = field(default_factory=list)  # (at_s, for_s)
    shoe_id: str = ""
    rpe: int = 4
    cadence_offset_spm: float = 0.0
    in_strava: bool = False
    strava_format: str = ""  # fit | gpx
    spike_ratio: float = math.nan
    files: list[str] = field(default_factory=list)
    activity_id: str = ""
    avg_cadence_spm: float = math.nan
    avg_heart_rate_bpm: float = math.nan
    timer_time_s: float = math.nan
    elapsed_time_s: float = math.nan
    ascent_m: float = math.nan
    descent_m: float = math.nan


@dataclass
class Episode:
    onset: int
    side: str
    site: str
    pain: list[float]  # daily pain from onset (>= 3 on pain days)

    @property
    def last_pain_day(self) -> int:
        return self.onset + max(i for i, p in enumerate(self.pain) if p >= PAIN_THRESHOLD)

    @property
    def free_from(self) -> int:  # first day at risk again
        return self.last_pain_day + WASHOUT_DAYS + 1


def simulate(start: dt.date, days: int, seed: int) -> dict:
    """Day-by-day plan, hazard draws and behaviour; returns runs, episodes, routines."""
    ss = np.random.SeedSequence(seed)
    plan_rng, hazard_rng, pain_rng = (np.random.default_rng(s) for s in ss.spawn(3))
    berlin = ZoneInfo(HOME_TZ)
    lisbon = ZoneInfo("Europe/Lisbon")

    def date_of(day: int) -> dt.date:
        return start + dt.timedelta(days=day)

    def day_of(date: dt.date) -> int:
        return (date - start).days

    low_cad = range(LOW_CAD_OFFSET_DAY, LOW_CAD_OFFSET_DAY + 7 * LOW_CAD_WEEKS)
    lisbon_days = range(day_of(dt.date(2024, 8, 10)), day_of(dt.date(2024, 8, 18)))
    sick_days = range(day_of(dt.date(2025, 2, 3)), day_of(dt.date(2025, 2, 10)))
    special = {
        day_of(dt.date(2024, 10, 27)): "dst_end",
        day_of(dt.date(2024, 12, 31)): "midnight",
        day_of(dt.date(2025, 3, 30)): "dst_start",
        day_of(dt.date(2024, 8, 14)): "lisbon_late",
        day_of(dt.date(2024, 6, 16)): "paused",
        day_of(dt.date(2025, 7, 13)): "paused_short",
    }
    runs: list[Run] = []
    dist_by_day = np.zeros(days + 1)
    strength_by_day = np.zeros(days + 1, dtype=int)
    routines: list[dict] = []
    episodes: list[Episode] = []
    hazard_log: list[dict] = []
    episode: Episode | None = None
    next_big = int(plan_rng.integers(26, 40))
    last_big = -1000
    run_prob = {0: 0.15, 1: 0.85, 2: 0.35, 3: 0.85, 4: 0.10, 5: 0.50, 6: 0.80}

    def longest_before(day: int) -> float:
        lo = max(0, day - 30)
        return float(dist_by_day[lo:day].max()) if day > 0 else 0.0

    for day in range(days):
        date = date_of(day)
        day_rng = np.random.default_rng([seed, 7, day])  # a day's choices: independent
        # ---- exposures from the past only, then the onset draw ----
        at_risk = episode is None or day >= episode.free_from
        if episode is not None and day >= episode.free_from:
            episode = None
        spike7 = any(
            r.day >= day - 7 and r.day < day and r.spike_ratio > SPIKE_RATIO for r in runs
        )
        last7 = dist_by_day[max(0, day - 7):day].sum()
        prev7 = dist_by_day[max(0, day - 14):max(0, day - 7)].sum()
        weekly = bool(prev7 > 0 and last7 > WEEKLY_RATIO * prev7)
        lowcad = day in low_cad
        strength = int(strength_by_day[max(0, day - 7):day].sum()) >= 2
        eta = (logit(P0) + math.log(OR_SPIKE) * spike7 + math.log(OR_WEEKLY) * weekly
               + math.log(OR_LOW_CAD) * lowcad + math.log(OR_STRENGTH) * strength)
        p = 1 / (1 + math.exp(-eta))
        u = hazard_rng.random()
        onset = bool(at_risk and u < p)
        hazard_log.append({"date": date.isoformat(), "at_risk": at_risk, "p": p,
                           "spike7": spike7, "weekly_gt30": weekly, "low_cadence": lowcad,
                           "strength2": strength, "onset": onset})
        if onset:
            n_pain = min(int(pain_rng.geometric(0.45)), 6)  # 1-6 pain days, mean ~2
            peak = float(pain_rng.integers(4, 8))
            pain = [max(3.0, round(peak - (peak - 3) * i / max(n_pain - 1, 1)))
                    for i in range(n_pain)]
            for i in range(1, n_pain - 1):  # a better day now and then
                if pain_rng.random() < 0.15:
                    pain[i] = 2.0
            pain += [float(x) for x in pain_rng.integers(0, 3, size=3)]  # tailing off
            side = str(pain_rng.choice(["R", "L", "both"], p=[0.6, 0.25, 0.15]))
            site = str(pain_rng.choice(
                ["around kneecap", "behind kneecap", "lateral", "patellar tendon"],
                p=[0.4, 0.3, 0.2, 0.1]))
            episode = Episode(day, side, site, pain)
            episodes.append(episode)

        # ---- behaviour: strength, foam rolling, physio ----
        regular = any(a <= day < b for a, b in STRENGTH_REGULAR)
        wd = date.weekday()
        p_strength = ({0: 0.75, 2: 0.55, 4: 0.7}.get(wd, 0.05) if regular
                      else {0: 0.10, 3: 0.08}.get(wd, 0.02))
        if day in sick_days:
            p_strength = 0.0
        if day_rng.random() < p_strength:
            strength_by_day[day] += 1
            routines.append({"date": date, "kind": "strength",
                             "minutes": int(day_rng.integers(20, 41)),
                             "exercises": str(day_rng.choice([
                                 "squats; lunges; step-downs; calf raises",
                                 "single-leg squats; bridges; side planks",
                                 "step-downs; clamshells; hip thrusts; calf raises",
                             ]))})
        in_pain = episode is not None and day <= episode.last_pain_day
        if day_rng.random() < (0.55 if in_pain else 0.22):
            routines.append({"date": date, "kind": "foam_rolling",
                             "minutes": int(day_rng.integers(8, 16)),
                             "exercises": "quads; IT band; calves"})
        if episode is not None and day - episode.onset == 4 and len(episodes) % 2 == 1:
            routines.append({"date": date, "kind": "physio", "minutes": 45,
                             "exercises": "assessment; taping; home exercises"})

        # ---- today's run ----
        kind_special = special.get(day)
        p_run = run_prob[wd]
        if kind_special is not None:
            p_run = 1.0
        if day in sick_days:
            p_run = 0.0
        if in_pain and kind_special is None:  # the special runs happen regardless
            p_run *= 0.35
        if day_rng.random() >= p_run:
            continue
        season = 1.0 + 0.12 * math.sin(2 * math.pi * (day - 60) / 365)
        max30 = longest_before(day)
        kind = {1: "quality", 6: "long", 5: "long"}.get(wd, "easy")
        if kind == "long" and wd == 5 and day_rng.random() < 0.5:
            kind = "easy"
        want_big = (wd in (5, 6) and day - last_big >= next_big and not in_pain
                    and max30 > 0 and kind_special is None)
        if want_big:
            kind = "big_trail" if day_rng.random() < 0.6 else "big_road"
        if kind == "easy":
            km = float(np.clip(day_rng.normal(6.2, 1.1), 4.0, 8.5)) * season
            speed = float(day_rng.normal(2.85, 0.10))
        elif kind == "quality":
            km = float(np.clip(day_rng.normal(7.5, 0.8), 6.0, 9.0)) * season
            speed = float(day_rng.normal(3.45, 0.12))
        elif kind == "long":
            km = float(np.clip(day_rng.normal(10.0, 1.2), 8.0, 12.5)) * season
            speed = float(day_rng.normal(2.80, 0.10))
        else:  # a big outing: > 100 % longer than her longest run in 30 days
            km = min(max30 / 1000 * float(day_rng.uniform(2.1, 2.6)), 30.0)
            km = max(km, 16.0)
            speed = float(day_rng.normal(2.65 if kind == "big_trail" else 2.95, 0.08))
            last_big = day
            next_big = int(day_rng.integers(31, 36))
        if episode is not None and in_pain:  # short, slow test jogs
            km = min(km, float(day_rng.uniform(3.0, 5.5)))
            speed *= 0.95
            kind = "recovery"
        elif (episode is not None and day - episode.last_pain_day <= 7
              and not kind.startswith("big")):  # easing back
            km = min(km * float(day_rng.uniform(0.65, 0.9)), float(day_rng.uniform(5.0, 8.0)))
            speed *= 0.97
        if kind_special == "midnight":
            kind, km, speed = "easy", 7.0, 2.9
        place = "lisbon" if day in lisbon_days else "home"
        tz = lisbon if place == "lisbon" else berlin
        # start time: weekday mornings or evenings, weekends later in the morning
        if kind_special == "midnight":
            local = dt.datetime.combine(date, dt.time(23, 38, 12))
        elif kind_special == "lisbon_late":
            local = dt.datetime.combine(date, dt.time(23, 21, 40))
        elif wd >= 5:
            local = dt.datetime.combine(date, dt.time(8, 0)) + dt.timedelta(
                minutes=int(day_rng.integers(0, 120)), seconds=int(day_rng.integers(60)))
        elif day_rng.random() < 0.55:
            local = dt.datetime.combine(date, dt.time(6, 15)) + dt.timedelta(
                minutes=int(day_rng.integers(0, 75)), seconds=int(day_rng.integers(60)))
        else:
            local = dt.datetime.combine(date, dt.time(18, 0)) + dt.timedelta(
                minutes=int(day_rng.integers(0, 100)), seconds=int(day_rng.integers(60)))
        if kind_special in ("dst_end", "dst_start"):
            local = dt.datetime.combine(date, dt.time(9, 5, 30))
        run = Run(index=len(runs), day=day, date=date, kind=kind,
                  distance_m=round(km * 1000, 1), speed_m_s=speed,
                  local_start=local.replace(tzinfo=tz), place=place)
        run.sub_sport = "trail" if kind == "big_trail" or (
            kind == "long" and day_rng.random() < 0.25) else "generic"
        if run.sub_sport == "trail":
            run.speed_m_s *= 0.93
        run.spike_ratio = (run.distance_m / max30) if max30 > 0 else math.nan
        run.cadence_offset_spm = float(day_rng.normal(0, 1.2)) + (
            LOW_CAD_SPM if day in low_cad else 0.0)
        run.device = "fr935" if day >= FR935_DAY else "fr235"
        # source: mostly the watch; the phone app when the watch was flat or forgotten
        u_src = day_rng.random()
        everyday = kind in ("easy", "quality", "long", "recovery")  # watch on big days
        # the phone app only on road runs: a GPX/TCX file cannot say "trail", and her
        # shoe (chosen by the rules in shoes.csv) must be recoverable from the files
        if kind_special == "lisbon_late" or (kind_special is None and everyday
                                             and run.sub_sport != "trail"
                                             and u_src < 0.05):
            run.source = "phone_gpx" if day_rng.random() < 0.65 else "phone_tcx"
        elif kind_special is None and day >= STRAVA_DAY and u_src < 0.11:
            run.source = "strava_app"
        if kind_special == "lisbon_late":
            run.source = "phone_gpx"
        if kind_special in ("midnight", "dst_end", "dst_start", "paused", "paused_short"):
            run.source = "watch"
        run.running_dynamics = (run.source == "watch" and run.device == "fr935"
                                and kind in ("quality", "long", "big_road", "big_trail")
                                and day_rng.random() < 0.8)
        if kind_special == "paused":
            run.pauses_s = [(0.55, 360.0)]  # at 55 % of the run, 6 min at a cafe
        elif kind_special == "paused_short":
            run.pauses_s = [(0.3, 45.0), (0.62, 80.0)]  # two traffic lights
        run.in_strava = day >= STRAVA_DAY
        if run.in_strava:
            run.strava_format = ("fit" if run.source == "watch" and day_rng.random() < 0.85
                                 else "gpx")
        run.rpe = int(np.clip(round({"easy": 3, "recovery": 2, "quality": 7, "long": 5,
                                     "big_trail": 8, "big_road": 8}[kind]
                                    + day_rng.normal(0, 0.8)), 1, 10))
        runs.append(run)
        dist_by_day[day] += run.distance_m

    return {"runs": runs, "episodes": episodes, "routines": routines,
            "hazard_log": hazard_log, "low_cad_days": low_cad}


# --- shoes ------------------------------------------------------------------------------
# One daily trainer at a time (each new pair a different model and drop, the old pair
# retired the day before the new one's first run), a road long-run shoe and a trail
# shoe. The default_for rules say which pair she takes for a run; kneedata's
# assign_shoes reads the same rules (most specific matching rule among the pairs in
# use that day), so the rules recover every run's shoe from the files alone.
SHOES = [
    # shoe_id, name, brand, model, drop_mm, stack_mm, first_used, retired, initial_km,
    # default_for
    ("S1", "Nike Pegasus 40", "Nike", "Pegasus 40", 10, 33, "2024-02-18", "2024-08-31",
     310, "sport=running"),
    ("S2", "Hoka Speedgoat 5", "Hoka", "Speedgoat 5", 4, 33, "2024-04-06", "", 55,
     "sub_sport=trail"),
    ("S3", "ASICS Novablast 4", "ASICS", "Novablast 4", 8, 41.5, "2024-09-01",
     "2025-05-23", 0, "sport=running"),
    ("S4", "Hoka Clifton 9", "Hoka", "Clifton 9", 5, 37, "2025-05-24", "", 0,
     "sport=running"),
    ("S5", "Adidas Adizero Boston 12", "Adidas", "Adizero Boston 12", 6, 39,
     "2024-03-16", "", 60, "sub_sport!=trail & distance_km>=16"),
]
LONG_ROAD_KM = 16.0  # road runs this long are done in the long-run shoe (S5's rule)


def assign_shoe(run: Run) -> str:
    """The pair she wears: trail shoe off-road, long-run shoe for >= 16 km on the road,
    otherwise the daily trainer in use that day (exactly one at any time)."""
    if run.sub_sport == "trail":
        return "S2"
    if run.distance_m / 1000 >= LONG_ROAD_KM:
        return "S5"
    daily = [s[0] for s in SHOES if s[9] == "sport=running"
             and dt.date.fromisoformat(s[6]) <= run.date
             and (not s[7] or run.date <= dt.date.fromisoformat(s[7]))]
    if len(daily) != 1:
        raise ValueError(f"{run.date}: {len(daily)} daily trainers in use ({daily}); "
                         "give the SHOES table exactly one per day")
    return daily[0]


def daily_trainer_name(date: dt.date) -> str:
    """Name of the daily trainer in use on ``date`` (for the treadmill entry)."""
    probe = Run(index=-1, day=-1, date=date, kind="easy", distance_m=5000.0,
                speed_m_s=3.0, local_start=dt.datetime.combine(date, dt.time(17, 30)))
    return {s[0]: s[1] for s in SHOES}[assign_shoe(probe)]


# --- tracks -----------------------------------------------------------------------------
def terrain(x: np.ndarray, y: np.ndarray, place: str) -> np.ndarray:
    """Ground height [m] at local east/north offsets [m] from home."""
    if place == "lisbon":
        return 45 + 35 * np.sin(x / 700.0) * np.cos(y / 900.0) + 0.004 * y
    # Freiburg: the Rhine plain in the west, the Black Forest rising to the east
    ridge = 260.0 / (1 + np.exp(-(x - 2600.0) / 900.0))
    return 270 + ridge + 25 * np.sin(x / 800.0) * np.cos(y / 1100.0) + 12 * np.sin(y / 500.0)


def route(distance_m: float, rng: np.random.Generator, *, trail: bool, place: str
          ) -> tuple[np.ndarray, np.ndarray]:
    """A closed, wiggly loop through home, as a fine polyline (x, y) [m] of length D."""
    theta = np.linspace(0, 2 * np.pi, 2000)
    a, b = rng.uniform(0.8, 1.2), rng.uniform(0.6, 1.0)
    p1, p2 = rng.uniform(0, 2 * np.pi, 2)
    r = 1 + 0.10 * np.sin(3 * theta + p1) + 0.05 * np.sin(7 * theta + p2)
    x, y = a * r * np.cos(theta), b * r * np.sin(theta)
    x, y = x - x[0], y - y[0]  # home is the first point
    heading = rng.uniform(-0.7, 0.7) if (trail and place == "home") else rng.uniform(
        0, 2 * np.pi)
    c, s = math.cos(heading), math.sin(heading)
    x, y = c * x - s * y, s * x + c * y
    if trail and place == "home":  # start the loop eastwards, into the hills
        x, y = np.abs(x) * 1.0, y
    length = np.sum(np.hypot(np.diff(x), np.diff(y)))
    scale = distance_m / length
    return x * scale, y * scale


def track(run: Run, rng: np.random.Generator, *, interval: tuple[int, int] = (3, 8)
          ) -> pd.DataFrame:
    """Samples of one run: smart-recording-like intervals, canonical records columns."""
    x_line, y_line = route(run.distance_m, rng, trail=run.sub_sport == "trail",
                           place=run.place)
    s_line = np.concatenate([[0], np.cumsum(np.hypot(np.diff(x_line), np.diff(y_line)))])
    h_line = terrain(x_line, y_line, run.place)
    grade_line = np.gradient(h_line, s_line)
    grade_line = np.convolve(grade_line, np.ones(15) / 15, mode="same")
    total = run.distance_m
    pauses = sorted(run.pauses_s)
    # walk along the route with speed responding to grade (Minetti-like slowing)
    t, s, noise = 0.0, 0.0, 0.0
    times, dists, speeds, grades = [], [], [], []
    pause_marks: list[tuple[float, float]] = []
    pause_i = 0
    while True:
        g = float(np.interp(s, s_line, grade_line))
        noise = 0.85 * noise + rng.normal(0, 0.025)
        v = run.speed_m_s * (1 - 2.5 * max(g, 0) + 1.2 * min(-g, 0.08)) * (1 + noise)
        v = max(v, 1.2)
        times.append(t)
        dists.append(s)
        speeds.append(v)
        grades.append(g)
        if s >= total:
            break
        dt_s = float(rng.integers(interval[0], interval[1] + 1))
        if s + v * dt_s >= total:
            dt_s = max((total - s) / v, 1.0)
            s = total
        else:
            s += v * dt_s
        t += round(dt_s)
        if pause_i < len(pauses) and s >= pauses[pause_i][0] * total:
            pause_marks.append((t + 0.5, pauses[pause_i][1]))  # stop just after sample
            t += 1 + pauses[pause_i][1]
            pause_i += 1
    t_arr = np.array(times)
    d_arr = np.array(dists)
    v_arr = np.array(speeds)
    g_arr = np.array(grades)
    x = np.interp(d_arr, s_line, x_line)
    y = np.interp(d_arr, s_line, y_line)
    n = len(t_arr)
    gps = np.cumsum(rng.normal(0, 0.6, size=(n, 2)), axis=0) * 0.5
    gps -= np.linspace(0, 1, n)[:, None] * gps[-1]  # bounded drift, back home at the end
    lat0, lon0 = HOME if run.place == "home" else LISBON
    lat = lat0 + (y + gps[:, 1]) / 111_320.0
    lon = lon0 + (x + gps[:, 0]) / (111_320.0 * math.cos(math.radians(lat0)))
    alt = terrain(x, y, run.place) + np.cumsum(rng.normal(0, 0.05, n))
    # heart rate: steady state from speed and grade, first-order lag, slow drift
    frac = 0.58 + 0.18 * (v_arr - 2.8) + 3.0 * np.clip(g_arr, -0.05, 0.15) + 0.03 * (
        t_arr / 3600)
    hr_ss = HR_REST + (HR_MAX - HR_REST) * np.clip(frac, 0.35, 0.97)
    hr = np.empty(n)
    hr[0] = 95.0
    for i in range(1, n):
        k = 1 - math.exp(-(t_arr[i] - t_arr[i - 1]) / 40.0)
        hr[i] = hr[i - 1] + k * (hr_ss[i] - hr[i - 1])
    hr = np.round(hr + rng.normal(0, 1.5, n))
    # cadence: her own curve + run offset (low-cadence block) + grade + noise
    cad = (cadence_curve(v_arr) + run.cadence_offset_spm + 20 * np.clip(g_arr, 0, 0.1)
           + np.convolve(rng.normal(0, 2.0, n), np.ones(3) / 3, mode="same"))
    cad = np.round(cad * 2) / 2  # watches resolve half steps (a stride fraction)
    frame = pd.DataFrame(
        {
            "distance_m": np.round(d_arr, 2),
            "speed_m_s": np.round(v_arr, 3),
            "cadence_spm": cad,
            "heart_rate_bpm": hr,
            "altitude_m": np.round(alt, 1),
            "latitude_deg": lat,
            "longitude_deg": lon,
        },
        index=pd.DatetimeIndex(
            pd.Timestamp(run.local_start).tz_convert("UTC")
            + pd.to_timedelta(t_arr, unit="s"), name="timestamp"),
    )
    doy = run.date.timetuple().tm_yday
    frame["temperature_c"] = np.round(
        10 - 9 * math.cos(2 * math.pi * (doy - 20) / 365) + 8 + rng.normal(0, 0.5, n)
    )
    if run.running_dynamics:
        step = v_arr * 60 / cad
        frame["step_length_m"] = np.round(step, 3)
        frame["stance_time_ms"] = np.round(300 - 28 * (v_arr - 3) + rng.normal(0, 4, n), 1)
        frame["vertical_oscillation_mm"] = np.round(
            86 + 4 * (v_arr - 3) + rng.normal(0, 2, n), 1)
        frame["vertical_ratio_pct"] = np.round(
            frame["vertical_oscillation_mm"] / (step * 1000) * 100, 2)
        frame["stance_time_balance_pct"] = np.round(49.4 + rng.normal(0, 0.6, n), 2)
    frame.attrs["pauses"] = [
        (frame.index[0] + pd.Timedelta(seconds=at), frame.index[0] + pd.Timedelta(
            seconds=at + dur)) for at, dur in pause_marks]
    return frame


# --- writers: GPX, TCX, Strava CSV --------------------------------------------------------
def _iso(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def gpx_bytes(frame: pd.DataFrame, *, name: str, creator: str, sport: str = "running"
              ) -> bytes:
    """GPX 1.1 with Garmin TrackPointExtension hr and cad (strides/min)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<gpx creator="{escape(creator)}" version="1.1" '
        'xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.topografix.com/GPX/1/1 '
        'http://www.topografix.com/GPX/1/1/gpx.xsd" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">',
        f" <metadata><time>{_iso(frame.index[0])}</time></metadata>",
        f" <trk><name>{escape(name)}</name><type>{sport}</type><trkseg>",
    ]
    strides = np.round(frame["cadence_spm"].to_numpy() / 2) if "cadence_spm" in frame \
        else None
    times = pd.DatetimeIndex(frame.index)
    for i, (_, row) in enumerate(frame.iterrows()):
        ts = times[i]
        ext = f"<gpxtpx:hr>{int(row['heart_rate_bpm'])}</gpxtpx:hr>"
        if strides is not None:
            ext += f"<gpxtpx:cad>{int(strides[i])}</gpxtpx:cad>"
        lines.append(
            f'  <trkpt lat="{row["latitude_deg"]:.6f}" lon="{row["longitude_deg"]:.6f}">'
            f"<ele>{row['altitude_m']:.1f}</ele><time>{_iso(ts)}</time>"
            f"<extensions><gpxtpx:TrackPointExtension>{ext}"
            "</gpxtpx:TrackPointExtension></extensions></trkpt>"
        )
    lines.append(" </trkseg></trk>")
    lines.append("</gpx>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def tcx_bytes(frame: pd.DataFrame, *, creator: str) -> bytes:
    """TCX v2 with one lap, trackpoint DistanceMeters and RunCadence (strides/min)."""
    t0, t1 = frame.index[0], frame.index[-1]
    hr = frame["heart_rate_bpm"].to_numpy()
    strides = np.round(frame["cadence_spm"].to_numpy() / 2)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<TrainingCenterDatabase '
        'xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" '
        'xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
        ' <Activities>',
        '  <Activity Sport="Running">',
        f"   <Id>{_iso(t0)}</Id>",
        f'   <Lap StartTime="{_iso(t0)}">',
        f"    <TotalTimeSeconds>{(t1 - t0).total_seconds():.1f}</TotalTimeSeconds>",
        f"    <DistanceMeters>{frame['distance_m'].iloc[-1]:.1f}</DistanceMeters>",
        f"    <MaximumSpeed>{frame['speed_m_s'].max():.3f}</MaximumSpeed>",
        "    <Calories>0</Calories>",
        f"    <AverageHeartRateBpm><Value>{int(round(hr.mean()))}</Value>"
        "</AverageHeartRateBpm>",
        f"    <MaximumHeartRateBpm><Value>{int(hr.max())}</Value></MaximumHeartRateBpm>",
        "    <Intensity>Active</Intensity>",
        "    <TriggerMethod>Manual</TriggerMethod>",
        "    <Track>",
    ]
    times = pd.DatetimeIndex(frame.index)
    for i, (_, row) in enumerate(frame.iterrows()):
        ts = times[i]
        lines.append(
            f"     <Trackpoint><Time>{_iso(ts)}</Time><Position>"
            f"<LatitudeDegrees>{row['latitude_deg']:.6f}</LatitudeDegrees>"
            f"<LongitudeDegrees>{row['longitude_deg']:.6f}</LongitudeDegrees></Position>"
            f"<AltitudeMeters>{row['altitude_m']:.1f}</AltitudeMeters>"
            f"<DistanceMeters>{row['distance_m']:.1f}</DistanceMeters>"
            f"<HeartRateBpm><Value>{int(hr[i])}</Value></HeartRateBpm>"
            f"<Extensions><ns3:TPX><ns3:Speed>{row['speed_m_s']:.3f}</ns3:Speed>"
            f"<ns3:RunCadence>{int(strides[i])}</ns3:RunCadence></ns3:TPX></Extensions>"
            "</Trackpoint>"
        )
    lines += [
        "    </Track>",
        "   </Lap>",
        f'   <Creator xsi:type="Device_t"><Name>{escape(creator)}</Name></Creator>',
        "  </Activity>",
        " </Activities>",
        "</TrainingCenterDatabase>",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


_SPAN = ('<span class="translation_missing" title="translation missing: '
         'en-US.lib.export.portability_exporter.activities.horton_values.{key}">'
         "{label}</span>")
# Strava's activities.csv header (bulk export format, 2024): note the repeated names
# ("Elapsed Time", "Distance", "Max Heart Rate", "Relative Effort", "Commute") and the
# untranslated labels that come out as HTML spans.
STRAVA_HEADER = [
    "Activity ID", "Activity Date", "Activity Name", "Activity Type",
    "Activity Description", "Elapsed Time", "Distance", "Max Heart Rate",
    "Relative Effort", "Commute", "Activity Private Note", "Activity Gear", "Filename",
    "Athlete Weight", "Bike Weight", "Elapsed Time", "Moving Time", "Distance",
    "Max Speed", "Average Speed", "Elevation Gain", "Elevation Loss", "Elevation Low",
    "Elevation High", "Max Grade", "Average Grade", "Average Positive Grade",
    "Average Negative Grade", "Max Cadence", "Average Cadence", "Max Heart Rate",
    "Average Heart Rate", "Max Watts", "Average Watts", "Calories", "Max Temperature",
    "Average Temperature", "Relative Effort", "Total Work", "Number of Runs",
    "Uphill Time", "Downhill Time", "Other Time", "Perceived Exertion",
    _SPAN.format(key="type", label="Type"),
    _SPAN.format(key="start_time", label="Start Time"),
    "Weighted Average Power", "Power Count", "Prefer Perceived Exertion",
    "Perceived Relative Effort", "Commute", "Total Weight Lifted", "From Upload",
    "Grade Adjusted Distance", "Weather Observation Time", "Weather Condition",
    "Weather Temperature", "Apparent Temperature", "Dewpoint", "Humidity",
    "Weather Pressure", "Wind Speed", "Wind Gust", "Wind Bearing",
    "Precipitation Intensity", "Sunrise Time", "Sunset Time", "Moon Phase", "Bike",
    "Gear", "Precipitation Probability", "Precipitation Type", "Cloud Cover",
    "Weather Visibility", "UV Index", "Weather Ozone",
    _SPAN.format(key="jump_count", label="Jump Count"),
    _SPAN.format(key="total_grit", label="Total Grit"),
    _SPAN.format(key="avg_flow", label="Avg Flow"),
    _SPAN.format(key="flagged", label="Flagged"),
    _SPAN.format(key="avg_elapsed_speed", label="Avg Elapsed Speed"),
    _SPAN.format(key="dirt_distance", label="Dirt Distance"),
    _SPAN.format(key="newly_explored_distance", label="Newly Explored Distance"),
    _SPAN.format(key="newly_explored_dirt_distance",
                 label="Newly Explored Dirt Distance"),
    _SPAN.format(key="sport_type", label="Sport Type"),
    _SPAN.format(key="total_steps", label="Total Steps"),
    "Media",
]


def strava_date(ts: pd.Timestamp) -> str:
    """Strava's 'Activity Date' (UTC): e.g. 'Jun 7, 2025, 6:31:12 AM'."""
    ts = ts.tz_convert("UTC")
    hour = ts.hour % 12 or 12
    return (f"{ts.strftime('%b')} {ts.day}, {ts.year}, {hour}:{ts.strftime('%M:%S')} "
            f"{'AM' if ts.hour < 12 else 'PM'}")


def strava_row(*, activity_id: int, start: pd.Timestamp, name: str, kind: str,
               elapsed_s: float, moving_s: float, distance_m: float, max_speed: float,
               ascent_m: float, descent_m: float, max_hr: float, avg_hr: float,
               gear: str, filename: str, rpe: float | None, from_upload: bool) -> list[str]:
    row = [""] * len(STRAVA_HEADER)

    def put(index: int, value: object) -> None:
        row[index] = "" if value is None else str(value)

    avg_speed = distance_m / moving_s if moving_s else 0.0
    put(0, activity_id)
    put(1, strava_date(start))
    put(2, name)
    put(3, kind)
    put(5, int(round(elapsed_s)))
    put(6, f"{distance_m / 1000:.2f}")
    put(7, f"{max_hr:.1f}" if max_hr == max_hr else "")
    put(9, "false")
    put(11, gear)
    put(12, filename)
    put(15, f"{float(round(elapsed_s)):.1f}")
    put(16, f"{float(round(moving_s)):.1f}")
    put(17, repr(round(distance_m, 1)))
    put(18, repr(round(max_speed, 3)) if max_speed == max_speed else "")
    put(19, repr(round(avg_speed, 6)))
    put(20, repr(round(ascent_m, 1)) if ascent_m == ascent_m else "")
    put(21, repr(round(descent_m, 1)) if descent_m == descent_m else "")
    put(30, f"{max_hr:.1f}" if max_hr == max_hr else "")
    put(31, repr(round(avg_hr, 1)) if avg_hr == avg_hr else "")
    put(43, f"{float(rpe):.1f}" if rpe is not None else "")
    put(48, "1.0" if rpe is not None else "0.0")
    put(50, "0.0")
    put(52, "1.0" if from_upload else "0.0")
    return row


# --- main ---------------------------------------------------------------------------------
def file_activity_id(data: bytes) -> str:
    """kneedata's activity id: first 16 hex of sha256(decompressed bytes) + '-0'."""
    return hashlib.sha256(data).hexdigest()[:16] + "-0"


def run_name(local: dt.datetime, kind: str) -> str:
    if kind == "big_trail":
        return "Trail adventure"
    if kind == "big_road":
        return "Long run with the club"
    part = ("Morning" if local.hour < 12 else "Afternoon" if local.hour < 17
            else "Evening" if local.hour < 21 else "Night")
    return f"{part} Run"


def climb(alt: np.ndarray) -> tuple[float, float]:
    d = np.diff(alt)
    return float(d[d > 0].sum()), float(-d[d < 0].sum())


def generate(out: Path, *, start: dt.date = START, days: int = DAYS, seed: int = SEED
             ) -> dict:
    """Simulate the runner and write every sample file into ``out``; return the truth."""
    sim = simulate(start, days, seed)
    runs: list[Run] = sim["runs"]
    episodes: list[Episode] = sim["episodes"]
    ss = np.random.SeedSequence([seed, 1])
    # three streams (the first, once the shoe rotation, is kept so the others stay put)
    # (a fourth, the morning / after-run responses of the diary, was added later: the
    # first three children of spawn() do not change with their number)
    _, diary_rng, extra_rng, response_rng = (np.random.default_rng(s) for s in ss.spawn(4))

    for sub in ("watch", "phone"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
        (out / sub).mkdir(parents=True)
    strava_members: list[tuple[str, bytes]] = []
    strava_rows: list[tuple[pd.Timestamp, list[str]]] = []
    next_strava_id = 13_100_000_000
    shoe_names = {s[0]: s[1] for s in SHOES}
    for run in runs:
        run.shoe_id = assign_shoe(run)
        rng = np.random.default_rng([seed, 2, run.index])
        interval = (5, 10) if run.source == "watch" else (15, 15)
        frame = track(run, rng, interval=interval)
        pauses = frame.attrs.pop("pauses")
        t0 = frame.index[0]
        local = run.local_start
        offset_min = local.utcoffset().total_seconds() / 60  # type: ignore[union-attr]
        elapsed = (frame.index[-1] - t0).total_seconds()
        timer = elapsed - sum((b - a).total_seconds() for a, b in pauses)
        # the summary truth, with the watch's own definitions (see fitwrite)
        ts = pd.DatetimeIndex(frame.index).as_unit("s").asi8
        gaps = np.diff(ts)
        w = np.append(gaps, np.median(gaps)).astype(float)  # last sample: usual interval
        for a, _ in pauses:
            a_s = pd.Timestamp(a).as_unit("s").value // 10**9
            inside = (ts < a_s) & (ts + w > a_s)
            w[inside] = a_s - ts[inside]
        run.avg_cadence_spm = float(np.average(frame["cadence_spm"], weights=w))
        run.avg_heart_rate_bpm = float(np.average(frame["heart_rate_bpm"], weights=w))
        run.timer_time_s, run.elapsed_time_s = timer, elapsed
        run.ascent_m, run.descent_m = climb(frame["altitude_m"].to_numpy())
        stamp = local.strftime("%Y-%m-%d-%H-%M-%S")
        primary: bytes
        if run.source == "watch":
            legacy = run.device == "fr235"
            data = write_activity_fit(
                None, frame, sport="running", sub_sport=run.sub_sport,
                utc_offset_min=offset_min, pauses=pauses, laps=1000.0,
                running_dynamics=run.running_dynamics, enhanced=not legacy,
                product=2431 if legacy else 2691,
                serial_number=3_871_104_522 if legacy else 3_995_208_317,
                software_version=7.60 if legacy else 22.10)
            path = out / "watch" / f"{stamp}.fit"
            path.write_bytes(data)
            primary = data
        elif run.source in ("phone_gpx", "phone_tcx"):
            if run.source == "phone_gpx":
                data = gpx_bytes(frame, name=run_name(local, run.kind),
                                 creator="PocketRun 3.4 (Android)")
                path = out / "phone" / f"PocketRun_{stamp}.gpx"
            else:
                data = tcx_bytes(frame, creator="PocketRun 3.4 (Android)")
                path = out / "phone" / f"PocketRun_{stamp}.tcx"
            path.write_bytes(data)
            primary = data
        else:  # recorded with the Strava app: only in the export
            path = None
            primary = gpx_bytes(frame, name=run_name(local, run.kind), creator="StravaGPX")
        if path is not None:
            run.files.append(str(path.relative_to(out)))
        run.activity_id = file_activity_id(primary)
        if run.in_strava:
            sid = next_strava_id
            next_strava_id += int(extra_rng.integers(20_000_000, 60_000_000))
            if run.source == "watch" and run.strava_format == "fit":
                member = (f"activities/{sid}.fit.gz", primary)  # the original upload
            elif run.source == "strava_app":
                member = (f"activities/{sid}.gpx.gz", primary)
            else:  # Strava's own GPX of a watch or phone run: same samples, new bytes
                member = (f"activities/{sid}.gpx.gz", gpx_bytes(
                    frame, name=run_name(local, run.kind), creator="StravaGPX"))
            strava_members.append(member)
            run.files.append(f"strava_export.zip:{member[0]}")
            moving = float((frame["speed_m_s"] > 0.5).sum() and timer)
            strava_rows.append((t0, strava_row(
                activity_id=sid, start=t0, name=run_name(local, run.kind), kind="Run",
                elapsed_s=elapsed, moving_s=moving, distance_m=run.distance_m,
                max_speed=float(frame["speed_m_s"].max()), ascent_m=run.ascent_m,
                descent_m=run.descent_m, max_hr=float(frame["heart_rate_bpm"].max()),
                avg_hr=run.avg_heart_rate_bpm, gear=shoe_names[run.shoe_id],
                filename=member[0], rpe=run.rpe, from_upload=True)))

    # Strava also holds rides and walks (not runs) and one manual treadmill entry
    if days > STRAVA_DAY:
        for k in range(int((days - STRAVA_DAY) / 14)):
            day = STRAVA_DAY + 3 + 14 * k + int(extra_rng.integers(0, 4))
            if day >= days:
                break
            date = start + dt.timedelta(days=day)
            ride = k % 3 != 2
            local = dt.datetime.combine(date, dt.time(16, 10)).replace(
                tzinfo=ZoneInfo(HOME_TZ))
            fake = Run(index=-1, day=day, date=date, kind="easy",
                       distance_m=float(extra_rng.uniform(25_000, 40_000) if ride
                                        else extra_rng.uniform(3_000, 6_000)),
                       speed_m_s=6.5 if ride else 1.4, local_start=local)
            frame = track(fake, np.random.default_rng([seed, 3, k]), interval=(5, 10))
            frame = frame.drop(columns=["cadence_spm"])
            if ride:  # the running HR model would put a 23 km/h ride near HR max
                frame["heart_rate_bpm"] = np.clip(frame["heart_rate_bpm"] - 50, 90, 175)
            sid = next_strava_id
            next_strava_id += int(extra_rng.integers(20_000_000, 60_000_000))
            name = "Afternoon Ride" if ride else "Afternoon Walk"
            data = gpx_bytes(frame, name=name, creator="StravaGPX",
                             sport="cycling" if ride else "walking")
            member_name = f"activities/{sid}.gpx.gz"
            strava_members.append((member_name, data))
            elapsed = (frame.index[-1] - frame.index[0]).total_seconds()
            up, down = climb(frame["altitude_m"].to_numpy())
            strava_rows.append((frame.index[0], strava_row(
                activity_id=sid, start=frame.index[0], name=name,
                kind="Ride" if ride else "Walk", elapsed_s=elapsed, moving_s=elapsed,
                distance_m=float(frame["distance_m"].iloc[-1]),
                max_speed=float(frame["speed_m_s"].max()), ascent_m=up, descent_m=down,
                max_hr=float(frame["heart_rate_bpm"].max()),
                avg_hr=float(frame["heart_rate_bpm"].mean()),
                gear="Canyon Endurace" if ride else "", filename=member_name, rpe=None,
                from_upload=True)))
        manual_day = STRAVA_DAY + 30
        if manual_day < days:
            t_manual = pd.Timestamp(dt.datetime.combine(
                start + dt.timedelta(days=manual_day), dt.time(17, 30)).replace(
                    tzinfo=ZoneInfo(HOME_TZ))).tz_convert("UTC")
            sid = next_strava_id
            next_strava_id += 31_000_000
            strava_rows.append((t_manual, strava_row(
                activity_id=sid, start=t_manual, name="Treadmill at the gym", kind="Run",
                elapsed_s=1800, moving_s=1800, distance_m=5000.0, max_speed=math.nan,
                ascent_m=math.nan, descent_m=math.nan, max_hr=math.nan, avg_hr=math.nan,
                gear=daily_trainer_name(start + dt.timedelta(days=manual_day)),
                filename="", rpe=4, from_upload=False)))
    if strava_rows:
        write_strava_zip(out / "strava_export.zip", strava_rows, strava_members)
    elif (out / "strava_export.zip").exists():
        (out / "strava_export.zip").unlink()

    write_shoes(out / "shoes.csv")
    write_routines(out / "routines.csv", sim["routines"])
    n_entries = write_diary(out / "pain_diary.csv", start, days, runs, episodes, diary_rng,
                            response_rng)
    truth = make_truth(start, days, seed, runs, episodes, sim, n_entries)
    (out / "truth.json").write_text(truth_json(truth))
    write_experiment(out / "experiment", start + dt.timedelta(days=days), seed)
    return truth


# --- the sample experiment (issue 16): strength work, A/B blocks after the history ----
EXPERIMENT = {"change": "strength", "target": "3/week", "block_days": 14, "n_pairs": 4,
              "carryover_days": 3, "effect_0_10": -1.5, "ar1_phi": 0.6,
              "pain_sd_0_10": 1.2, "pain_mean_a_0_10": 3.0, "missing_share": 0.10}


def experiment_pain(rng: np.random.Generator, is_b: np.ndarray, day_in_block: np.ndarray
                    ) -> np.ndarray:
    """Daily pain: AR(1) around the A level, the effect phasing in and out over 3 days."""
    e = EXPERIMENT
    n = len(is_b)
    phi, sd = float(e["ar1_phi"]), float(e["pain_sd_0_10"])
    u = np.empty(n)
    u[0] = rng.normal(0.0, sd)
    for t in range(1, n):
        u[t] = phi * u[t - 1] + rng.normal(0.0, sd * math.sqrt(1 - phi**2))
    exposure = np.zeros(n)  # 1 = the full effect of B
    for t in range(n):
        first = t - int(day_in_block[t]) + 1          # first day of t's block
        after_b = first > 0 and bool(is_b[first - 1])
        if is_b[t]:  # phases in: day 1 a third, day 3 on the full effect
            exposure[t] = 1.0 if after_b else min(day_in_block[t] / 3.0, 1.0)
        elif after_b:  # fades out over the first days of the next A block
            exposure[t] = max(1.0 - day_in_block[t] / 3.0, 0.0)
    pain = float(e["pain_mean_a_0_10"]) + u + float(e["effect_0_10"]) * exposure
    return np.clip(np.round(pain), 0, 10)


def write_experiment(out: Path, after: dt.date, seed: int) -> dict:
    """A 16-week strength experiment starting the first Monday after the history.

    Blocks of 14 days in 4 pairs, AB or BA at random; B = 3 strength sessions a
    week (A: her usual, about one every other week); daily pain with the planted
    effect in :data:`EXPERIMENT`, whole points, about 10 % of days not written down.
    """
    e = EXPERIMENT
    rng = np.random.default_rng(np.random.SeedSequence([seed, 16]))
    first = after + dt.timedelta(days=(7 - after.weekday()) % 7 or 7)
    block_days, n_pairs = int(e["block_days"]), int(e["n_pairs"])
    order = [c for _ in range(n_pairs) for c in (("A", "B") if rng.random() < 0.5
                                                else ("B", "A"))]
    is_b = np.repeat(np.array(order) == "B", block_days)
    day_in_block = np.tile(np.arange(1, block_days + 1), 2 * n_pairs)
    pain = experiment_pain(rng, is_b, day_in_block)
    written = rng.random(len(pain)) >= float(e["missing_share"])
    out.mkdir(parents=True, exist_ok=True)
    with (out / "experiment.csv").open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["block", "start", "end", "condition", "change", "target",
                         "carryover_days", "adherence_pct", "notes"])
        for i, cond in enumerate(order):
            b0 = first + dt.timedelta(days=i * block_days)
            writer.writerow([i + 1, b0.isoformat(),
                             (b0 + dt.timedelta(days=block_days - 1)).isoformat(), cond,
                             e["change"], e["target"], e["carryover_days"], "", ""])
    with (out / "pain_diary.csv").open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["date", "time", "side", "site", "pain_0_10", "timing",
                         "activity_id", "notes"])
        for t in np.flatnonzero(written):
            date = (first + dt.timedelta(days=int(t))).isoformat()
            p = float(pain[t])
            writer.writerow([date, "21:30", "right" if p > 0 else "", "around_kneecap"
                             if p > 0 else "", f"{p:g}", "rest", "", ""])
    with (out / "routines.csv").open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["date", "kind", "minutes", "exercises"])
        for t in range(len(pain)):
            weekday = (first + dt.timedelta(days=t)).weekday()
            if (is_b[t] and weekday in (0, 2, 4)) or (
                    not is_b[t] and weekday == 2 and rng.random() < 0.5):
                writer.writerow([(first + dt.timedelta(days=t)).isoformat(), "strength",
                                 int(rng.integers(25, 41)),
                                 "step-downs; single-leg squats; side plank; hip thrusts"])
    truth = dict(e, start=first.isoformat(), order="".join(order),
                 n_diary_days=int(written.sum()))
    (out / "truth.json").write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n")
    return truth


def truth_json(truth: dict) -> str:
    """Indented JSON with one line per run (readable, and a third of the size)."""
    head = {k: v for k, v in truth.items() if k != "runs"}
    text = json.dumps(head, indent=1, sort_keys=True)
    runs = ",\n  ".join(json.dumps(r, sort_keys=True) for r in truth["runs"])
    return text[:-2] + ',\n "runs": [\n  ' + runs + "\n ]\n}\n"


def write_strava_zip(path: Path, rows: list[tuple[pd.Timestamp, list[str]]],
                     members: list[tuple[str, bytes]]) -> None:
    """activities.csv (rows sorted by start) plus gzip members, fixed timestamps."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(STRAVA_HEADER)
    for _, row in sorted(rows, key=lambda r: r[0]):
        writer.writerow(row)
    stamp = (2025, 11, 2, 9, 14, 0)
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("activities.csv", date_time=stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, buf.getvalue().encode("utf-8"))
        for name, data in sorted(members):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_STORED
            zf.writestr(info, gzip.compress(data, compresslevel=9, mtime=0))


def write_shoes(path: Path) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["shoe_id", "name", "brand", "model", "drop_mm", "stack_mm",
                         "first_used", "retired", "initial_km", "default_for"])
        for row in SHOES:
            writer.writerow(row)


def write_routines(path: Path, routines: list[dict]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["date", "kind", "minutes", "exercises"])
        for r in routines:
            writer.writerow([r["date"].isoformat(), r["kind"], r["minutes"], r["exercises"]])


def run_response(run: Run | None) -> float:
    """How sore a run leaves her knee outside an episode [points, below the pain threshold].

    A spike (> 2 x her longest run of the previous 30 days) or a run with more than
    250 m of descent: 1 point each, at most 2 (so never a pain day: the episodes,
    and with them the onset analysis, do not depend on it).
    """
    if run is None:
        return 0.0
    big = float(run.spike_ratio > SPIKE_RATIO) + float(run.descent_m > 250)
    return min(big, PAIN_THRESHOLD - 1.0)


def write_diary(path: Path, start: dt.date, days: int, runs: list[Run],
                episodes: list[Episode], rng: np.random.Generator,
                response_rng: np.random.Generator | None = None) -> int:
    """Entries most days; every pain day of an episode is written down.

    With ``response_rng`` (the sample data): a ``morning`` entry (on waking) on
    about 85 % of the days with entries, and after-run and morning scores that
    show how a run left the knee (:func:`run_response`, after-run that evening,
    the next morning). Both stay below the pain threshold outside episodes and
    never exceed the day's own score inside one, so every day's highest score,
    the pain days and the episodes are those of the diary without them (the same
    ``rng`` draws decide everything else).
    """
    pain_by_day: dict[int, tuple[float, Episode | None]] = {}
    for episode in episodes:
        for i, p in enumerate(episode.pain):
            if episode.onset + i < days:
                pain_by_day[episode.onset + i] = (p, episode)
    runs_by_day = {r.day: r for r in runs}
    # two holidays without the diary (no episode onset inside: pain days are kept)
    gaps = {d for g0 in (118, 330) for d in range(g0, g0 + 6)}
    rows: list[list[str]] = []
    for day in range(days):
        date = (start + dt.timedelta(days=day)).isoformat()
        run = runs_by_day.get(day)
        pain, ep = pain_by_day.get(day, (0.0, None))
        if ep is None and (day in gaps or rng.random() < 0.04):
            continue
        if ep is None and rng.random() < 0.05:
            pain = float(rng.integers(1, 3))  # a niggle below the threshold
        side = ep.side if ep is not None else ("R" if pain > 0 else "both")
        site = ep.site if ep is not None else ("lateral" if pain > 0 else "")
        entries: list[tuple[str, float, str, str]] = []  # time, pain, timing, activity_id
        if run is not None:
            hhmm = (run.local_start + dt.timedelta(seconds=run.elapsed_time_s + 900)
                    ).strftime("%H:%M")
            aid = run.activity_id if rng.random() < 0.3 else ""
            if ep is not None and pain >= PAIN_THRESHOLD and rng.random() < 0.5:
                entries.append((run.local_start.strftime("%H:%M"), pain, "during", aid))
            entries.append((hhmm, pain, "after", aid))
        else:
            entries.append((f"{int(rng.integers(19, 23)):02d}:{int(rng.integers(60)):02d}",
                            pain, "rest", ""))
        after_run = day - 1 in runs_by_day
        if (ep is not None and pain >= PAIN_THRESHOLD and rng.random() < 0.4) or (
                after_run and rng.random() < 0.25):
            entries.append(("07:30", max(pain - 1, 0.0) if pain >= PAIN_THRESHOLD else pain,
                            "next_morning", ""))
        if response_rng is not None:
            entries = _with_responses(entries, pain, run, runs_by_day.get(day - 1),
                                      response_rng)
        if ep is not None and pain >= PAIN_THRESHOLD and rng.random() < 0.3:
            entries.append(("12:40", pain, "stairs", ""))
        notes = ""
        if ep is not None and day == ep.onset:
            notes = "knee started hurting"
        elif ep is not None and run is not None and run.kind == "recovery":
            notes = "short easy jog to test the knee"
        for hhmm, p, timing, aid in entries:
            if ep is None:  # a run's soreness is on her right knee, as the niggles are
                side, site = ("R", "lateral") if p > 0 else ("both", "")
            rows.append([date, hhmm, side, site,
                         f"{p:g}", timing, aid, notes])
            notes = ""
    rows.sort(key=lambda r: (r[0], r[1]))
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["date", "time", "side", "site", "pain_0_10", "timing",
                         "activity_id", "notes"])
        writer.writerows(rows)
    return len(rows)


def _with_responses(entries: list[tuple[str, float, str, str]], pain: float,
                    run: Run | None, yesterday: Run | None,
                    rng: np.random.Generator) -> list[tuple[str, float, str, str]]:
    """A day's entries with the run responses and a morning entry (see :func:`write_diary`)."""
    below = pain < PAIN_THRESHOLD
    out = []
    for hhmm, p, timing, aid in entries:
        if timing == "after" and below:
            p = max(p, run_response(run))
        elif timing == "next_morning" and below:
            p = max(p, run_response(yesterday))
        out.append((hhmm, p, timing, aid))
    if any(timing == "next_morning" for _, _, timing, _ in entries) or rng.random() >= 0.85:
        return out
    minutes = int(rng.integers(6 * 60 + 15, 7 * 60 + 50))
    if below:
        morning = max(pain, run_response(yesterday))
    else:  # in an episode: as bad as the day or a point better on waking
        morning = pain - float(rng.random() < 0.5)
    out.append((f"{minutes // 60:02d}:{minutes % 60:02d}", morning, "morning", ""))
    return out


def make_truth(start: dt.date, days: int, seed: int, runs: list[Run],
               episodes: list[Episode], sim: dict, n_entries: int) -> dict:
    log = pd.DataFrame(sim["hazard_log"])
    at_risk = log[log["at_risk"]]
    low = sim["low_cad_days"]
    return {
        "seed": seed,
        "start": start.isoformat(),
        "days": days,
        "home": {"lat": HOME[0], "lon": HOME[1], "timezone": HOME_TZ},
        "hazard_model": {
            "baseline_daily_probability": P0,
            "odds_ratios": {"large_spike_prev_7d": OR_SPIKE,
                            "weekly_distance_change_gt_30pct": OR_WEEKLY,
                            "low_cadence_block": OR_LOW_CAD,
                            "strength_2plus_prev_7d": OR_STRENGTH},
            "spike_rule": "run distance > 2 x longest run in the 30 days before its date",
            "weekly_rule": "distance d-7..d-1 > 1.3 x distance d-14..d-8, which is > 0",
            "washout_days": WASHOUT_DAYS,
            "pain_threshold": PAIN_THRESHOLD,
        },
        "low_cadence_block": {
            "start": (start + dt.timedelta(days=low.start)).isoformat(),
            "end": (start + dt.timedelta(days=low.stop - 1)).isoformat(),
            "cadence_offset_spm": LOW_CAD_SPM,
        },
        "cadence_curve": "cadence_spm = 160 + 10 * (speed_m_s - 3)",
        "episodes": [
            {"onset_date": (start + dt.timedelta(days=e.onset)).isoformat(),
             "last_pain_date": (start + dt.timedelta(days=e.last_pain_day)).isoformat(),
             "side": {"R": "right", "L": "left"}.get(e.side, e.side),
             "peak_pain_0_10": max(e.pain)}
            for e in episodes
        ],
        "counts": {
            "runs": len(runs),
            "episodes": len(episodes),
            "large_spikes": int(sum(r.spike_ratio > SPIKE_RATIO for r in runs)),
            "at_risk_days": int(len(at_risk)),
            "at_risk_days_spike7": int(at_risk["spike7"].sum()),
            "at_risk_days_weekly_gt30": int(at_risk["weekly_gt30"].sum()),
            "at_risk_days_low_cadence": int(at_risk["low_cadence"].sum()),
            "at_risk_days_strength2": int(at_risk["strength2"].sum()),
            "diary_entries": n_entries,
            "expected_episodes": round(float(at_risk["p"].sum()), 2),
        },
        "runs": [
            {"date": r.date.isoformat(), "start_local": r.local_start.isoformat(),
             "kind": r.kind, "sub_sport": r.sub_sport, "source": r.source,
             "device": r.device if r.source == "watch" else "", "files": r.files,
             "activity_id": r.activity_id, "distance_m": r.distance_m,
             "timer_time_s": r.timer_time_s, "elapsed_time_s": r.elapsed_time_s,
             "avg_cadence_spm": round(r.avg_cadence_spm, 3),
             "avg_heart_rate_bpm": round(r.avg_heart_rate_bpm, 2),
             "running_dynamics": r.running_dynamics, "shoe_id": r.shoe_id, "rpe": r.rpe,
             "spike_ratio": None if math.isnan(r.spike_ratio) else round(r.spike_ratio, 4),
             "n_pauses": len(r.pauses_s)}
            for r in runs
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder")
    parser.add_argument("--days", type=int, default=DAYS, help="days to simulate")
    parser.add_argument("--start", type=dt.date.fromisoformat, default=START)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    truth = generate(args.out, start=args.start, days=args.days, seed=args.seed)
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    c = truth["counts"]
    print(f"wrote {args.out}: {c['runs']} runs, {c['episodes']} pain episodes "
          f"({c['large_spikes']} large spikes), {size / 1e6:.2f} MB in total")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
