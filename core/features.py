"""Per-section features for transport-mode inference: one function shared by training and serving.

A section is a slice ``[start, end)`` of a :class:`core.track.Track`. Features are kinematic
summaries that survive the sampling regimes phones produce (1 s to 30 s, duty-cycled gaps):

- speed percentiles and moments, time-weighted so that dense and sparse sampling agree, computed
  (like every kinematic feature) on the section thinned to one fix per
  ``FeatureParams.kinematic_interval_s`` so that a 1 Hz logger and a 10 s phone see the same time
  base and GPS jitter does not become speed (:func:`_thinned`);
- the share of time below walking pace and above urban-bus speed, and signal gaps per km with the
  speed they imply (a metro between stations loses GPS and reappears kilometres away);
- acceleration and jerk percentiles (Dabiri & Heaslip 2018 use speed, acceleration and jerk as
  the point features of their GeoLife CNN);
- heading change rate, stop rate and velocity change rate per kilometre, the traffic-robust
  features of Zheng et al. 2008 ("Understanding mobility based on GPS data", UbiComp; and
  "Learning transportation mode from raw GPS data", WWW), with their thresholds in
  :class:`FeatureParams`;
- stop episodes (count per km, mean duration), signal gaps (metro tunnels lose GPS), straightness;
- the share of each phone motion-activity code among the fixes that carry one, with
  ``activity_known_share`` (0 when the phone sent none, and then all shares are 0).

Sections of 0, 1 or 2 fixes, NaN accuracy and NaN phone speed are handled: undefined features are
NaN (scikit-learn's HistGradientBoosting routes NaN natively; the heuristic ignores them).
Speeds are always derived from positions and times, never from the phone's own speed column, so a
model trained on phones that send speed also serves phones (and datasets) that do not.

:func:`features_matrix` computes all the sections of a track in one vectorised pass (grouped numpy
reductions from :mod:`core.grouped`); :func:`section_features` is one row of it. The original
one-section-at-a-time code, which model 1.1.0 was trained with, is kept frozen in
``tests/unit/features/reference.py`` and the tests hold both equal on every feature.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
import numpy as np
import numpy.typing as npt

from core.fixes import Activity
from core.geodesy import haversine_m
from core.grouped import Groups, concat_ranges
from core.track import ACTIVITY_CODES, Track

F64 = npt.NDArray[np.float64]


class FeatureParams(msgspec.Struct, frozen=True, kw_only=True):
    """Thresholds of the features. Changing any of them changes the feature space: retrain.

    ``heading_change_deg``, ``stop_speed_zheng_mps`` and ``velocity_change_ratio`` are the values
    Zheng et al. (2008) selected on GeoLife (Hc = 19°, Vs = 3.4 m/s, Vr = 0.26).
    """

    heading_change_deg: float = 19.0
    stop_speed_zheng_mps: float = 3.4
    velocity_change_ratio: float = 0.26
    stop_speed_mps: float = 0.8  # below this an interval counts as stopped (GPS jitter at rest ~0.3-0.7 m/s)
    min_stop_s: float = 5.0  # shorter slow-downs are not stops
    gap_s: float = 60.0  # intervals longer than this are signal gaps, excluded from kinematics
    max_speed_mps: float = 350.0  # faster intervals are position outliers (airliners cruise ~250 m/s)
    min_heading_move_m: float = 2.0  # headings of shorter hops are GPS jitter
    spike_detour_ratio: float = 3.0  # a fix whose in+out hops exceed this times the bridging hop...
    spike_min_m: float = 30.0  # ...plus this (metres) is a one-fix multipath spike, left out
    kinematic_interval_s: float = 10.0  # kinematics use at most one fix per this many seconds...
    kinematic_intervals_min: int = 8  # ...or per 1/this of the section's duration if that is shorter
    slow_speed_mps: float = 2.0  # "below walking pace or stopped": walk cruise 1.3-1.5 m/s (Bohannon 1997)
    fast_speed_mps: float = 12.0  # above urban bus and bike speeds (43 km/h)


DEFAULT_PARAMS = FeatureParams()

_ACTIVITIES: tuple[Activity, ...] = (
    Activity.STILL,
    Activity.WALK,
    Activity.RUN,
    Activity.BIKE,
    Activity.VEHICLE,
)

FEATURE_NAMES: tuple[str, ...] = (
    "duration_s",
    "distance_m",
    "fixes_per_min",
    "median_interval_s",
    "gap_time_share",
    "max_gap_s",
    "avg_speed_mps",
    "speed_mean_mps",
    "speed_std_mps",
    "speed_cv",
    "speed_p10_mps",
    "speed_p50_mps",
    "speed_p85_mps",
    "speed_p95_mps",
    "speed_max_mps",
    "moving_speed_p50_mps",
    "accel_p50_mps2",
    "accel_p85_mps2",
    "accel_p95_mps2",
    "decel_p95_mps2",
    "jerk_p50_mps3",
    "jerk_p95_mps3",
    "turn_rate_p50_deg_s",
    "heading_change_rate_per_km",
    "stop_rate_per_km",
    "velocity_change_rate_per_km",
    "stop_time_share",
    "stops_per_km",
    "stop_mean_s",
    "straightness",
    "speed_p25_mps",
    "moving_speed_p85_mps",
    "slow_time_share",
    "fast_time_share",
    "gaps_per_km",
    "gap_speed_mps",
    "accel_p85_to_speed_p85",
    "activity_known_share",
    *(f"activity_{a.value}_share" for a in _ACTIVITIES),
)
_INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}


def _bearing_deg(lat1: F64, lon1: F64, lat2: F64, lon2: F64) -> F64:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlon = np.radians(lon2 - lon1)
    y = np.sin(dlon) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dlon)
    return np.asarray(np.degrees(np.arctan2(y, x)) % 360.0, dtype=np.float64)


def section_features(track: Track, start: int, end: int, *, params: FeatureParams = DEFAULT_PARAMS) -> F64:
    """Features of fixes ``[start, end)`` of ``track``, in the order of :data:`FEATURE_NAMES`.

    Units are in the names (s, m, m/s, m/s², m/s³, deg/s, per km). Intervals with non-increasing
    time are skipped, longer than ``params.gap_s`` count as gaps, faster than
    ``params.max_speed_mps`` as outliers; kinematics use the remaining intervals, weighted by time.
    """
    return np.asarray(features_matrix(track, [(start, end)], params=params)[0], dtype=np.float64)


def features_matrix(
    track: Track, bounds: Sequence[tuple[int, int]], *, params: FeatureParams = DEFAULT_PARAMS
) -> F64:
    """Features of each section ``[start, end)`` of ``track``: shape ``(len(bounds), n_features)``.

    All sections are computed in one vectorised pass: their fixes are laid end to end and every
    per-section sum, count, maximum, median and quantile is one grouped numpy reduction
    (:mod:`core.grouped`), so the cost is a few hundred numpy calls per track whatever the number of
    sections. Bounds are clipped to the track; an end at or before its start is an empty section.
    """
    out = np.full((len(bounds), len(FEATURE_NAMES)), np.nan)
    if not bounds:
        return out
    edges = np.asarray(bounds, dtype=np.intp).reshape(len(bounds), 2)
    start = np.clip(edges[:, 0], 0, len(track))
    counts = np.maximum(np.minimum(edges[:, 1], len(track)) - start, 0)
    index = concat_ranges(start, counts)
    out[:, _INDEX["activity_known_share"] :] = _activity_shares(
        track.activity[index], Groups.of_counts(counts)
    )
    some = counts > 0
    out[some, _INDEX["duration_s"]] = track.t_s[start[some] + counts[some] - 1] - track.t_s[start[some]]
    out[counts == 1, _INDEX["distance_m"]] = 0.0
    rows = np.flatnonzero(counts >= 2)
    if rows.size:
        many = concat_ranges(start[rows], counts[rows])
        section = _Fixes.of(
            groups=Groups.of_counts(counts[rows]),
            t=track.t_s[many],
            lat=track.lat[many],
            lon=track.lon[many],
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            out[rows] = _moving_features(section, out[rows], params)
    return out


def _activity_shares(codes: npt.NDArray[np.int8], fixes: Groups) -> F64:
    """``activity_known_share`` then the share of each code among the fixes that carry one."""
    n_codes = len(ACTIVITY_CODES)
    per_code = np.bincount(fixes.ids * n_codes + codes.astype(np.intp), minlength=fixes.size * n_codes)
    per_code = per_code.reshape(fixes.size, n_codes)
    n_known = fixes.counts - per_code[:, ACTIVITY_CODES[Activity.UNKNOWN]]
    out = np.zeros((fixes.size, 1 + len(_ACTIVITIES)))
    # No activity sent: shares are 0 and the flag activity_known_share = 0 says why (not NaN, so a
    # training set from phones without activity still has a usable column).
    told = n_known > 0
    out[told, 0] = n_known[told] / fixes.counts[told]
    for j, activity in enumerate(_ACTIVITIES, start=1):
        out[told, j] = per_code[told, ACTIVITY_CODES[activity]].astype(np.float64) / n_known[told]
    return out


@dataclass(frozen=True, slots=True)
class _Fixes:
    """The fixes of several sections laid end to end; ``groups`` says which are whose.

    ``next_m[k]`` is the distance (m) from fix ``k`` to fix ``k + 1``, computed once and reused by
    :meth:`take` wherever two kept fixes were already neighbours: most hops survive spike removal,
    so the haversine runs about once per fix instead of once per use.
    """

    groups: Groups
    t: F64
    lat: F64
    lon: F64
    next_m: F64

    @staticmethod
    def of(groups: Groups, t: F64, lat: F64, lon: F64) -> _Fixes:
        next_m = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
        return _Fixes(groups=groups, t=t, lat=lat, lon=lon, next_m=next_m)

    def take(self, keep: npt.NDArray[np.bool_]) -> _Fixes:
        kept = np.flatnonzero(keep)
        here, there = kept[:-1], kept[1:]
        next_m = self.next_m[here]
        far = np.flatnonzero(there != here + 1)
        a, b = here[far], there[far]
        next_m[far] = haversine_m(self.lat[a], self.lon[a], self.lat[b], self.lon[b])
        return _Fixes(
            groups=self.groups.select(keep),
            t=self.t[kept],
            lat=self.lat[kept],
            lon=self.lon[kept],
            next_m=next_m,
        )

    def hops(self) -> _Hops:
        """Fix-to-fix intervals within each section."""
        k = np.flatnonzero(self.groups.pairs())
        return _Hops(
            groups=Groups.of_counts(np.maximum(self.groups.counts - 1, 0)),
            dt=self.t[k + 1] - self.t[k],
            d=self.next_m[k],
            fix=k,
        )


@dataclass(frozen=True, slots=True)
class _Hops:
    """Fix-to-fix intervals of several sections: durations (s), lengths (m), first fix of each."""

    groups: Groups
    dt: F64
    d: F64
    fix: npt.NDArray[np.intp]

    def speeds(self) -> tuple[npt.NDArray[np.bool_], F64]:
        """Intervals with increasing time, and their speeds (inf where time does not increase)."""
        ok = self.dt > 0
        return ok, np.where(ok, self.d / np.where(ok, self.dt, 1.0), np.inf)

    def sum(self, values: F64, mask: npt.NDArray[np.bool_]) -> F64:
        return self.groups.select(mask).sum(values[mask])


class _Columns:
    """Writes named feature columns of a block of rows, only where a feature is defined."""

    def __init__(self, block: F64) -> None:
        self.block = block

    def put(self, name: str, values: F64, where: npt.NDArray[np.bool_] | None = None) -> None:
        column = self.block[:, _INDEX[name]]
        if where is None:
            column[:] = values
        else:
            column[where] = values[where]

    def get(self, name: str) -> F64:
        return np.asarray(self.block[:, _INDEX[name]], dtype=np.float64)


def _not_spikes(fixes: _Fixes, params: FeatureParams) -> npt.NDArray[np.bool_]:
    """Mask out one-fix spikes: out and back again, far longer than the hop that skips the fix.

    Sections are features of raw labelled intervals too (GeoLife), not only of cleaned tracks, so
    the features protect themselves from the multipath jumps that would inflate distance and speed.
    Only a section's inner fixes can be spikes: its first and last always stay.
    """
    g = fixes.groups
    local = np.arange(g.ids.size) - g.starts[g.ids]
    j = np.flatnonzero((local > 0) & (local < g.counts[g.ids] - 1))
    detour = fixes.next_m[j - 1] + fixes.next_m[j]  # in and out again
    floor_m = 2.0 * params.spike_min_m
    if params.spike_detour_ratio >= 0:
        # The bridging hop is never negative, so no detour up to floor_m can be a spike.
        j, detour = j[detour > floor_m], detour[detour > floor_m]
    bridge = haversine_m(fixes.lat[j - 1], fixes.lon[j - 1], fixes.lat[j + 1], fixes.lon[j + 1])
    keep = np.ones(g.ids.size, dtype=np.bool_)
    keep[j] = ~(detour > params.spike_detour_ratio * bridge + floor_m)
    return keep


def _moving_features(fixes: _Fixes, block: F64, params: FeatureParams) -> F64:
    """Distance, gap and kinematic features of sections of two fixes or more (one row each)."""
    cols = _Columns(block.copy())
    n = fixes.groups.counts
    duration = cols.get("duration_s")
    fixes = fixes.take(_not_spikes(fixes, params))
    hops = fixes.hops()
    ok, v_all = hops.speeds()
    valid = ok & (v_all <= params.max_speed_mps)
    distance = hops.sum(hops.d, valid)
    timed = duration > 0
    cols.put("distance_m", distance)
    cols.put("fixes_per_min", n / np.maximum(duration / 60.0, 1.0 / 60.0))
    cols.put("median_interval_s", hops.groups.select(ok).median(hops.dt[ok]))
    gaps = ok & (hops.dt > params.gap_s)
    cols.put("gap_time_share", hops.sum(hops.dt, gaps) / duration, timed)
    cols.put("max_gap_s", hops.groups.max(hops.dt))
    cols.put("avg_speed_mps", distance / duration, timed)
    first = fixes.groups.starts
    last = first + fixes.groups.counts - 1
    disp = haversine_m(fixes.lat[first], fixes.lon[first], fixes.lat[last], fixes.lon[last])
    cols.put("straightness", disp / distance, distance > 0)
    crossed = gaps & valid
    cols.put("gaps_per_km", hops.groups.count(crossed) / np.maximum(distance / 1000.0, 0.01))
    gap_time = hops.sum(hops.dt, crossed)
    cols.put("gap_speed_mps", hops.sum(hops.d, crossed) / gap_time, gap_time > 0)

    thinned = fixes.take(_thinned(fixes, duration, params))
    steps = thinned.hops()
    ok, v_all = steps.speeds()
    kin = ok & (v_all <= params.max_speed_mps) & (steps.dt <= params.gap_s)
    km = np.maximum(steps.sum(steps.d, kin) / 1000.0, 0.01)
    _fill_speeds(cols, steps.groups.select(kin), v=v_all[kin], w=steps.dt[kin], km=km, params=params)
    _fill_changes(cols, _Changes.of(thinned, steps, v_all, kin, params), km, params)
    p85 = cols.get("speed_p85_mps")
    cols.put("accel_p85_to_speed_p85", cols.get("accel_p85_mps2") / p85, p85 > 0)
    return cols.block


def _thinned(fixes: _Fixes, duration_s: F64, params: FeatureParams) -> npt.NDArray[np.bool_]:
    """The first fix in each time bin, so that kinematics see the same time base whether the phone
    sampled every second or every ten: GPS position noise divided by a 1 s interval makes
    metres-per-second speed noise and large spurious accelerations (Jun, Guensler & Ogle 2006, TRR
    1972), which would make a 1 Hz walk look like a jerky vehicle. Short sections keep at least
    ``params.kinematic_intervals_min`` bins."""
    g = fixes.groups
    step = np.minimum(params.kinematic_interval_s, duration_s / params.kinematic_intervals_min)
    binned = (step > 0) & (g.counts >= 3)
    per_fix = np.where(binned, step, 1.0)[g.ids]
    bins = np.floor((fixes.t - fixes.t[g.starts][g.ids]) / per_fix)
    keep = np.ones(g.ids.size, dtype=np.bool_)
    keep[1:] = (bins[1:] - bins[:-1] != 0) | ~binned[g.ids[1:]]
    keep[g.first()] = True
    return keep


def _fill_speeds(cols: _Columns, kin: Groups, *, v: F64, w: F64, km: F64, params: FeatureParams) -> None:
    """Time-weighted speed distribution and stops, over each section's kinematic intervals."""
    has = kin.counts > 0
    weight = kin.sum(w)
    mean = kin.sum(v * w) / weight
    std = np.sqrt(kin.sum((v - mean[kin.ids]) ** 2 * w) / weight)
    cols.put("speed_mean_mps", mean, has)
    cols.put("speed_std_mps", std, has)
    cols.put("speed_cv", std / mean, has & (mean > 0))
    quantiles = kin.weighted_quantiles(v, w, (0.10, 0.50, 0.85, 0.95, 0.25))
    for j, name in enumerate(
        ("speed_p10_mps", "speed_p50_mps", "speed_p85_mps", "speed_p95_mps", "speed_p25_mps")
    ):
        cols.put(name, quantiles[:, j], has)
    cols.put("speed_max_mps", kin.max(v), has)
    moving = v > params.stop_speed_mps
    moving_q = kin.select(moving).weighted_quantiles(v[moving], w[moving], (0.5, 0.85))
    cols.put("moving_speed_p50_mps", moving_q[:, 0], has)
    cols.put("moving_speed_p85_mps", moving_q[:, 1], has)
    for name, mask in (
        ("slow_time_share", v < params.slow_speed_mps),
        ("fast_time_share", v > params.fast_speed_mps),
        ("stop_time_share", v < params.stop_speed_mps),
    ):
        cols.put(name, kin.select(mask).sum(w[mask]) / weight, has)
    count, mean_s = _stop_episodes(kin, v < params.stop_speed_mps, w, params.min_stop_s)
    cols.put("stops_per_km", count / km, has)
    cols.put("stop_mean_s", mean_s, has)
    cols.put("stop_rate_per_km", kin.count(v < params.stop_speed_zheng_mps) / km, has)


def _stop_episodes(kin: Groups, slow: npt.NDArray[np.bool_], w: F64, min_stop_s: float) -> tuple[F64, F64]:
    """Per section: the number and mean duration (s; 0 when none) of runs of consecutive slow
    intervals lasting at least ``min_stop_s``."""
    joined = np.zeros(slow.size, dtype=np.bool_)
    joined[1:] = kin.pairs() & slow[1:] & slow[:-1]  # continues the run of the interval before
    begins = np.flatnonzero(slow & ~joined)
    ends = np.flatnonzero(slow & ~np.append(joined[1:], False))
    inclusive = kin.cumsum(w)
    before = np.concatenate(([0.0], inclusive[:-1]))
    before[kin.first()] = 0.0
    durations = inclusive[ends] - before[begins]
    long = durations >= min_stop_s
    stops = Groups.of_counts(np.bincount(kin.ids[begins[long]], minlength=kin.size))
    count = stops.counts.astype(np.float64)
    total = stops.sum(durations[long])
    return count, np.where(count > 0, total / np.maximum(count, 1.0), 0.0)


@dataclass(frozen=True, slots=True)
class _Changes:
    """Pairs of consecutive kinematic intervals: speeds before and after, mean duration, turn."""

    groups: Groups
    v0: F64
    v1: F64
    mid_dt: F64
    turn_deg: F64
    turn_ok: npt.NDArray[np.bool_]

    @staticmethod
    def of(
        fixes: _Fixes, steps: _Hops, v: F64, kin: npt.NDArray[np.bool_], params: FeatureParams
    ) -> _Changes:
        pair = steps.groups.pairs() & kin[:-1] & kin[1:]
        k = np.flatnonzero(pair)
        a, lat, lon = steps.fix, fixes.lat, fixes.lon
        heading = _bearing_deg(lat[a], lon[a], lat[a + 1], lon[a + 1])
        before, after = heading[k], heading[k + 1]
        return _Changes(
            groups=Groups.of_counts(np.bincount(steps.groups.ids[k], minlength=steps.groups.size)),
            v0=v[k],
            v1=v[k + 1],
            mid_dt=0.5 * (steps.dt[k] + steps.dt[k + 1]),
            turn_deg=np.abs((after - before + 180.0) % 360.0 - 180.0),
            turn_ok=(steps.d[k] >= params.min_heading_move_m) & (steps.d[k + 1] >= params.min_heading_move_m),
        )


def _fill_changes(cols: _Columns, ch: _Changes, km: F64, params: FeatureParams) -> None:
    """Acceleration between consecutive kinematic intervals, jerk, velocity and heading changes."""
    g = ch.groups
    has = g.counts > 0
    acc = (ch.v1 - ch.v0) / ch.mid_dt
    accel = g.quantiles(np.abs(acc), (0.50, 0.85, 0.95))
    for j, name in enumerate(("accel_p50_mps2", "accel_p85_mps2", "accel_p95_mps2")):
        cols.put(name, accel[:, j], has)
    cols.put("decel_p95_mps2", g.quantiles(np.maximum(-acc, 0.0), (0.95,))[:, 0], has)
    vcr = np.abs(ch.v1 - ch.v0) / np.maximum(ch.v0, 0.1)
    cols.put("velocity_change_rate_per_km", g.count(vcr > params.velocity_change_ratio) / km, has)
    k = np.flatnonzero(g.pairs())
    jerk = Groups.of_counts(np.bincount(g.ids[k], minlength=g.size))
    jerk_q = jerk.quantiles(np.abs((acc[k + 1] - acc[k]) / np.maximum(ch.mid_dt[k + 1], 1e-3)), (0.50, 0.95))
    cols.put("jerk_p50_mps3", jerk_q[:, 0], jerk.counts > 0)
    cols.put("jerk_p95_mps3", jerk_q[:, 1], jerk.counts > 0)
    turns = g.select(ch.turn_ok)
    change = ch.turn_deg[ch.turn_ok]
    cols.put("turn_rate_p50_deg_s", turns.median(change / ch.mid_dt[ch.turn_ok]), turns.counts > 0)
    cols.put("heading_change_rate_per_km", turns.count(change > params.heading_change_deg) / km, has)
