"""The per-section feature code as it was when model 1.1.0 was trained (commit 4e61303), frozen.

:func:`core.features.features_matrix` computes every section of a track in one vectorised pass;
this copy of the original one-section-at-a-time implementation is the specification it is tested
against (``test_vectorised.py``). Do not edit it to make a test pass: a difference is a change of
the feature space, which needs a retrained model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.features import _ACTIVITIES, _INDEX, DEFAULT_PARAMS, FEATURE_NAMES, FeatureParams
from core.fixes import Activity
from core.geodesy import haversine_m
from core.track import ACTIVITY_CODES, Track

F64 = npt.NDArray[np.float64]


def _bearing_deg(lat1: F64, lon1: F64, lat2: F64, lon2: F64) -> F64:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlon = np.radians(lon2 - lon1)
    y = np.sin(dlon) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dlon)
    return np.asarray(np.degrees(np.arctan2(y, x)) % 360.0, dtype=np.float64)


def _weighted_quantiles(values: F64, weights: F64, qs: Sequence[float]) -> list[float]:
    """Quantiles of ``values`` where each counts ``weights`` (time), by linear interpolation."""
    if values.size == 0 or not np.isfinite(weights).any() or float(weights.sum()) <= 0.0:
        return [float("nan")] * len(qs)
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w) - 0.5 * w
    cum /= float(w.sum())
    return [float(np.interp(q, cum, v)) for q in qs]


def _quantiles(values: F64, qs: Sequence[float]) -> list[float]:
    if values.size == 0:
        return [float("nan")] * len(qs)
    return [float(x) for x in np.quantile(values, qs)]


def _stop_episodes(slow: npt.NDArray[np.bool_], dt: F64, min_stop_s: float) -> list[float]:
    """Durations (s) of runs of consecutive slow intervals lasting at least ``min_stop_s``."""
    if not slow.any():
        return []
    edges = np.diff(np.concatenate(([0], slow.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    cum = np.concatenate(([0.0], np.cumsum(dt)))
    durations = cum[ends] - cum[starts]
    return [float(d) for d in durations if d >= min_stop_s]


def _not_spikes(lat: F64, lon: F64, params: FeatureParams) -> npt.NDArray[np.bool_]:
    """Mask out one-fix spikes: out and back again, far longer than the hop that skips the fix.

    Sections are features of raw labelled intervals too (GeoLife), not only of cleaned tracks, so
    the features protect themselves from the multipath jumps that would inflate distance and speed.
    """
    hop_in = haversine_m(lat[:-2], lon[:-2], lat[1:-1], lon[1:-1])
    hop_out = haversine_m(lat[1:-1], lon[1:-1], lat[2:], lon[2:])
    bridge = haversine_m(lat[:-2], lon[:-2], lat[2:], lon[2:])
    spike = hop_in + hop_out > params.spike_detour_ratio * bridge + 2.0 * params.spike_min_m
    return np.concatenate(([True], ~spike, [True]))


def _activity_shares(codes: npt.NDArray[np.int8]) -> list[float]:
    known = codes != ACTIVITY_CODES[Activity.UNKNOWN]
    n_known = int(known.sum())
    if codes.size == 0 or n_known == 0:
        # No activity sent: shares are 0 and the flag activity_known_share = 0 says why (not NaN,
        # so a training set from phones without activity still has a usable column).
        return [0.0] * (1 + len(_ACTIVITIES))
    shares = [float((codes == ACTIVITY_CODES[a]).sum()) / n_known for a in _ACTIVITIES]
    return [n_known / codes.size, *shares]


def section_features(track: Track, start: int, end: int, *, params: FeatureParams = DEFAULT_PARAMS) -> F64:
    """Features of fixes ``[start, end)`` of ``track``, in the order of :data:`FEATURE_NAMES`.

    Units are in the names (s, m, m/s, m/s², m/s³, deg/s, per km). Intervals with non-increasing
    time are skipped, longer than ``params.gap_s`` count as gaps, faster than
    ``params.max_speed_mps`` as outliers; kinematics use the remaining intervals, weighted by time.
    """
    out = np.full(len(FEATURE_NAMES), np.nan)
    start, end = max(0, start), min(len(track), end)
    t, lat, lon = track.t_s[start:end], track.lat[start:end], track.lon[start:end]
    shares = _activity_shares(track.activity[start:end])
    out[_INDEX["activity_known_share"] :] = shares
    n = int(t.shape[0])
    if n == 0:
        return out
    duration = float(t[-1] - t[0])
    out[_INDEX["duration_s"]] = duration
    if n < 2:
        out[_INDEX["distance_m"]] = 0.0
        return out

    if n >= 3:
        keep = _not_spikes(lat, lon, params)
        t, lat, lon = t[keep], lat[keep], lon[keep]
    dt = np.diff(t)
    d = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    ok_time = dt > 0
    v_all = np.where(ok_time, d / np.where(ok_time, dt, 1.0), np.inf)
    valid = ok_time & (v_all <= params.max_speed_mps)
    distance = float(d[valid].sum())
    out[_INDEX["distance_m"]] = distance
    out[_INDEX["fixes_per_min"]] = n / max(duration / 60.0, 1.0 / 60.0)
    out[_INDEX["median_interval_s"]] = float(np.median(dt[ok_time])) if ok_time.any() else np.nan
    gaps = dt[ok_time & (dt > params.gap_s)]
    out[_INDEX["gap_time_share"]] = float(gaps.sum()) / duration if duration > 0 else np.nan
    out[_INDEX["max_gap_s"]] = float(dt.max()) if dt.size else np.nan
    out[_INDEX["avg_speed_mps"]] = distance / duration if duration > 0 else np.nan
    disp = haversine_m(float(lat[0]), float(lon[0]), float(lat[-1]), float(lon[-1]))
    out[_INDEX["straightness"]] = disp / distance if distance > 0 else np.nan

    gap_mask = ok_time & (dt > params.gap_s) & valid
    out[_INDEX["gaps_per_km"]] = float(gap_mask.sum()) / max(distance / 1000.0, 0.01)
    gap_time = float(dt[gap_mask].sum())
    out[_INDEX["gap_speed_mps"]] = float(d[gap_mask].sum()) / gap_time if gap_time > 0 else np.nan

    thin = _thinned(t, duration, params)
    t, lat, lon = t[thin], lat[thin], lon[thin]
    dt = np.diff(t)
    d = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    ok_time = dt > 0
    v_all = np.where(ok_time, d / np.where(ok_time, dt, 1.0), np.inf)
    kin = ok_time & (v_all <= params.max_speed_mps) & (dt <= params.gap_s)
    if kin.any():
        moves = _Intervals(dt=dt, d=d, v=v_all, kin=kin, lat=lat, lon=lon)
        _fill_speeds(out, moves, params)
        _fill_changes(out, moves, params)
        p85 = out[_INDEX["speed_p85_mps"]]
        if p85 > 0:
            out[_INDEX["accel_p85_to_speed_p85"]] = out[_INDEX["accel_p85_mps2"]] / p85
    return out


def _thinned(t: F64, duration_s: float, params: FeatureParams) -> npt.NDArray[np.intp]:
    """Indices of the first fix in each time bin, so that kinematics see the same time base whether
    the phone sampled every second or every ten: GPS position noise divided by a 1 s interval makes
    metres-per-second speed noise and large spurious accelerations (Jun, Guensler & Ogle 2006, TRR
    1972), which would make a 1 Hz walk look like a jerky vehicle. Short sections keep at least
    ``params.kinematic_intervals_min`` bins."""
    step = min(params.kinematic_interval_s, duration_s / params.kinematic_intervals_min)
    if step <= 0 or t.size < 3:
        return np.arange(t.size)
    bins = np.floor((t - t[0]) / step)
    return np.flatnonzero(np.diff(bins, prepend=-1.0) != 0)


@dataclass(frozen=True, slots=True)
class _Intervals:
    """Fix-to-fix intervals of a section: durations, lengths, speeds and the kinematic mask."""

    dt: F64
    d: F64
    v: F64
    kin: npt.NDArray[np.bool_]
    lat: F64
    lon: F64

    @property
    def km(self) -> float:
        """Moving distance in km, floored at 10 m, the denominator of the per-km rates."""
        return max(float(self.d[self.kin].sum()) / 1000.0, 0.01)


def _fill_speeds(out: F64, iv: _Intervals, params: FeatureParams) -> None:
    v, w, km = iv.v[iv.kin], iv.dt[iv.kin], iv.km
    mean = float(np.average(v, weights=w))
    std = float(np.sqrt(np.average((v - mean) ** 2, weights=w)))
    out[_INDEX["speed_mean_mps"]] = mean
    out[_INDEX["speed_std_mps"]] = std
    out[_INDEX["speed_cv"]] = std / mean if mean > 0 else np.nan
    out[_INDEX["speed_p10_mps"] : _INDEX["speed_p95_mps"] + 1] = _weighted_quantiles(
        v, w, (0.10, 0.50, 0.85, 0.95)
    )
    out[_INDEX["speed_p25_mps"]] = _weighted_quantiles(v, w, (0.25,))[0]
    out[_INDEX["speed_max_mps"]] = float(v.max())
    moving = v > params.stop_speed_mps
    out[_INDEX["moving_speed_p50_mps"]], out[_INDEX["moving_speed_p85_mps"]] = _weighted_quantiles(
        v[moving], w[moving], (0.5, 0.85)
    )
    out[_INDEX["slow_time_share"]] = float(w[v < params.slow_speed_mps].sum()) / float(w.sum())
    out[_INDEX["fast_time_share"]] = float(w[v > params.fast_speed_mps].sum()) / float(w.sum())
    slow = v < params.stop_speed_mps
    stops = _stop_episodes(slow, w, params.min_stop_s)
    out[_INDEX["stop_time_share"]] = float(w[slow].sum()) / float(w.sum())
    out[_INDEX["stops_per_km"]] = len(stops) / km
    out[_INDEX["stop_mean_s"]] = float(np.mean(stops)) if stops else 0.0
    out[_INDEX["stop_rate_per_km"]] = float((v < params.stop_speed_zheng_mps).sum()) / km


def _fill_changes(out: F64, iv: _Intervals, params: FeatureParams) -> None:
    """Acceleration between consecutive kinematic intervals, jerk, velocity and heading changes."""
    pair = iv.kin[:-1] & iv.kin[1:]
    if not pair.any():
        return
    km, dt, d = iv.km, iv.dt, iv.d
    v0, v1 = iv.v[:-1][pair], iv.v[1:][pair]
    mid_dt = 0.5 * (dt[:-1][pair] + dt[1:][pair])
    acc = (v1 - v0) / mid_dt
    out[_INDEX["accel_p50_mps2"] : _INDEX["accel_p95_mps2"] + 1] = _quantiles(np.abs(acc), (0.50, 0.85, 0.95))
    out[_INDEX["decel_p95_mps2"]] = _quantiles(np.maximum(-acc, 0.0), (0.95,))[0]
    vcr = np.abs(v1 - v0) / np.maximum(v0, 0.1)
    out[_INDEX["velocity_change_rate_per_km"]] = float((vcr > params.velocity_change_ratio).sum()) / km
    if acc.size >= 2:
        jerk = np.diff(acc) / np.maximum(mid_dt[1:], 1e-3)
        out[_INDEX["jerk_p50_mps3"] : _INDEX["jerk_p95_mps3"] + 1] = _quantiles(np.abs(jerk), (0.50, 0.95))
    heading = _bearing_deg(iv.lat[:-1], iv.lon[:-1], iv.lat[1:], iv.lon[1:])
    turn_ok = pair & (d[:-1] >= params.min_heading_move_m) & (d[1:] >= params.min_heading_move_m)
    out[_INDEX["heading_change_rate_per_km"]] = 0.0
    if turn_ok.any():
        change = np.abs((heading[1:] - heading[:-1] + 180.0) % 360.0 - 180.0)[turn_ok]
        turn_dt = 0.5 * (dt[:-1] + dt[1:])[turn_ok]
        out[_INDEX["turn_rate_p50_deg_s"]] = float(np.median(change / turn_dt))
        out[_INDEX["heading_change_rate_per_km"]] = float((change > params.heading_change_deg).sum()) / km
