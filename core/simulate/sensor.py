"""What a phone records of a true 1 Hz motion: sampling regime, GPS error, outliers, gaps.

GPS error is modelled as the sum of a slowly varying, smooth bias (second-order Gauss-Markov
process, two cascaded first-order filters with a time constant of about a minute: receivers'
Kalman filters and multipath make consecutive errors strongly correlated, so a phone at rest
drifts by decimetres per second rather than jumping by metres; see Jun, Guensler & Ogle 2006,
TRR 1972 on GPS speed and acceleration errors) and a small white jitter. The reported
``accuracy_m`` is the 68 % horizontal radius as on Android (``Location.getAccuracy``), which
for an isotropic Gaussian is about 1.5 per-axis standard deviations. Rare multipath outliers
jump 50-300 m for one fix. In tunnels a receiver either goes silent or, with the regime's
``tunnel_hold_prob`` (dedicated loggers more often than phones), keeps logging a held position
that drifts by metres until the sky returns.

Many receivers also stop logging while they stand still: iOS pauses updates by default
(``pausesLocationUpdatesAutomatically``), Android's fused provider and tracker apps throttle or drop
fixes that do not move (OwnTracks' move mode, GPSLogger's distance filter), and dedicated loggers
"pin" a static position. A leg drawn to do so (``still_pause_prob``) records nothing after a few
seconds at a red light or a bus stop, so real sections carry minute-long gaps in which the position
has not changed (on the GeoLife development subset, bus and car sections had a median longest gap
of 95-112 s, crossed at under 0.3 m/s; the simulator's were 6-7 s before this was modelled).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import msgspec
import numpy as np
import numpy.typing as npt

from core.fixes import Activity
from core.simulate.motion import LegTruth
from core.track import ACTIVITY_CODES

F64 = npt.NDArray[np.float64]


class SamplingRegime(msgspec.Struct, frozen=True, kw_only=True):
    """How often a phone records and how good the fixes are."""

    interval_s: float  # nominal time between fixes while moving
    interval_jitter_s: float = 0.0  # uniform extra delay in [0, this]
    duty_on_s: float = 0.0  # duty cycling: record for duty_on_s, then sleep duty_off_s (0: always on)
    duty_off_s: float = 0.0
    still_interval_s: float = 120.0  # time between fixes at a stay (motion sensors throttle GPS)
    accuracy_median_m: float = 8.0
    accuracy_log_sd: float = 0.5  # spread of the leg's accuracy (urban canyons, sky view)
    error_tau_s: float = 60.0  # correlation time of the GPS bias
    white_noise_m: float = 1.0  # per-fix jitter (m) at the regime's median accuracy, scaled with it
    outlier_prob: float = 0.002
    reports_speed: bool = True  # Doppler speed in the fix (NaN otherwise)
    reports_accuracy: bool = True
    network_fix_interval_s: float = 0.0  # in tunnels: coarse cell/Wi-Fi fixes this often (0: none)
    tunnel_hold_prob: float = 0.0  # chance a leg's receiver keeps logging a held position in tunnels
    still_pause_prob: float = 0.0  # chance a leg's receiver stops logging while standing still
    still_pause_after_s: tuple[float, float] = (3.0, 20.0)  # stillness before it pauses (uniform range)


REGIMES: dict[str, SamplingRegime] = {
    # Tracker apps in foreground / dedicated loggers (GeoLife loggers sampled every 1-5 s).
    "1s": SamplingRegime(interval_s=1.0, still_interval_s=5.0, tunnel_hold_prob=0.3, still_pause_prob=0.8),
    "5s": SamplingRegime(
        interval_s=5.0,
        interval_jitter_s=1.0,
        still_interval_s=30.0,
        tunnel_hold_prob=0.3,
        still_pause_prob=0.8,
    ),
    "logger": SamplingRegime(
        interval_s=2.0,
        interval_jitter_s=3.0,
        still_interval_s=10.0,
        reports_speed=False,
        reports_accuracy=False,
        accuracy_median_m=10.0,
        tunnel_hold_prob=0.7,
        still_pause_prob=1.0,
    ),
    # Battery-saving background tracking (e-mission, Overland defaults are in this range).
    "30s": SamplingRegime(
        interval_s=30.0,
        interval_jitter_s=5.0,
        still_interval_s=300.0,
        network_fix_interval_s=120.0,
        still_pause_prob=0.8,
    ),
    "duty": SamplingRegime(
        interval_s=10.0,
        interval_jitter_s=10.0,
        duty_on_s=120.0,
        duty_off_s=60.0,
        still_interval_s=600.0,
        accuracy_median_m=12.0,
        network_fix_interval_s=180.0,
        still_pause_prob=0.8,
    ),
}


@dataclass(frozen=True, slots=True)
class Observed:
    """Observed fixes of a truth: indices into it (seconds from its start) and local positions."""

    index: npt.NDArray[np.intp]
    x_m: F64
    y_m: F64
    accuracy_m: F64
    speed_mps: F64


def _sample_times(
    n: int, regime: SamplingRegime, moving: bool, rng: np.random.Generator
) -> npt.NDArray[np.intp]:
    interval = regime.interval_s if moving else max(regime.still_interval_s, regime.interval_s)
    mean_step = interval + 0.5 * regime.interval_jitter_s
    count = int(n / mean_step) + 2
    steps = interval + rng.uniform(0.0, regime.interval_jitter_s, size=count)
    t = float(rng.uniform(0.0, interval)) + np.concatenate(([0.0], np.cumsum(steps)))
    idx = np.unique(np.round(t[t < n - 0.5]).astype(np.intp))
    if regime.duty_on_s > 0 and regime.duty_off_s > 0 and moving:
        period = regime.duty_on_s + regime.duty_off_s
        phase = (idx + float(rng.uniform(0.0, period))) % period
        idx = idx[phase < regime.duty_on_s]
    return idx


def _correlated_error(n: int, sigma: float, tau_s: float, rng: np.random.Generator) -> F64:
    """Second-order Gauss-Markov error of stationary standard deviation ``sigma`` (metres)."""
    phi = math.exp(-1.0 / tau_s)
    # Variance of white noise through two AR(1) filters: sum (k+1)^2 phi^(2k) = (1+phi^2)/(1-phi^2)^3.
    gain = sigma / math.sqrt((1.0 + phi * phi) / (1.0 - phi * phi) ** 3)
    warmup = int(5 * tau_s)
    innov = rng.standard_normal(n + warmup) * gain
    out = np.empty(n + warmup, dtype=np.float64)
    a = b = 0.0
    for k in range(n + warmup):
        a = phi * a + float(innov[k])
        b = phi * b + a
        out[k] = b
    return out[warmup:]


def _paused_when_still(
    speed_mps: F64, regime: SamplingRegime, rng: np.random.Generator
) -> npt.NDArray[np.bool_]:
    """Seconds of a moving leg at which the receiver does not log because it has stood still for
    longer than a drawn ``still_pause_after_s`` (for legs drawn to pause, ``still_pause_prob``)."""
    n = speed_mps.shape[0]
    if regime.still_pause_prob <= 0 or rng.random() >= regime.still_pause_prob:
        return np.zeros(n, dtype=np.bool_)
    after = float(rng.uniform(*regime.still_pause_after_s))
    still = speed_mps < 0.2
    run_start = np.maximum.accumulate(np.where(still, -1, np.arange(n)))  # last moving second
    paused: npt.NDArray[np.bool_] = still & (np.arange(n) - run_start > after)
    return paused


def observe(
    truth: LegTruth,
    regime: SamplingRegime,
    rng: np.random.Generator,
    *,
    moving: bool = True,
    accuracy_factor: float = 1.0,
) -> Observed:
    """Sample ``truth`` as a phone under ``regime`` would; fixes in tunnels are lost, except coarse
    network fixes every ``regime.network_fix_interval_s`` when the regime has them."""
    n = len(truth)
    idx = _sample_times(n, regime, moving, rng)
    if moving:
        idx = idx[~_paused_when_still(truth.speed_mps, regime, rng)[idx]]
    acc_leg = (
        regime.accuracy_median_m
        * accuracy_factor
        * math.exp(regime.accuracy_log_sd * float(rng.standard_normal()))
    )
    acc_leg = max(acc_leg, 2.0)
    sigma = acc_leg / 1.5
    ex = _correlated_error(n, sigma, regime.error_tau_s, rng)
    ey = _correlated_error(n, sigma, regime.error_tau_s, rng)
    in_tunnel = truth.tunnel[idx]
    if in_tunnel.any() and rng.random() < regime.tunnel_hold_prob:
        return _held_in_tunnels(truth, idx, acc_leg=acc_leg, error_m=(ex, ey), regime=regime, rng=rng)
    gps = idx[~in_tunnel]
    acc = acc_leg * np.exp(0.25 * rng.standard_normal(gps.shape[0]))
    white = regime.white_noise_m * acc_leg / regime.accuracy_median_m
    x = truth.x_m[gps] + ex[gps] + rng.normal(0.0, white, gps.shape[0])
    y = truth.y_m[gps] + ey[gps] + rng.normal(0.0, white, gps.shape[0])
    outlier: npt.NDArray[np.bool_] = np.asarray(rng.random(gps.shape[0]) < regime.outlier_prob)
    if outlier.any():
        r = rng.uniform(50.0, 300.0, int(outlier.sum()))
        a = rng.uniform(0.0, 2.0 * math.pi, int(outlier.sum()))
        x[outlier] += r * np.cos(a)
        y[outlier] += r * np.sin(a)
        acc[outlier] *= 3.0
    speed = np.maximum(truth.speed_mps[gps] + rng.normal(0.0, 0.25, gps.shape[0]), 0.0)
    if regime.network_fix_interval_s > 0 and in_tunnel.any():
        tunnel_idx = np.flatnonzero(truth.tunnel)
        keep = tunnel_idx[(tunnel_idx % round(regime.network_fix_interval_s)) == 0]
        if keep.size:
            net_acc = rng.uniform(100.0, 500.0, keep.shape[0])
            gps = np.concatenate((gps, keep))
            x = np.concatenate((x, truth.x_m[keep] + rng.normal(0.0, 1.0, keep.shape[0]) * net_acc / 1.5))
            y = np.concatenate((y, truth.y_m[keep] + rng.normal(0.0, 1.0, keep.shape[0]) * net_acc / 1.5))
            acc = np.concatenate((acc, net_acc))
            speed = np.concatenate((speed, np.full(keep.shape[0], np.nan)))
            order = np.argsort(gps, kind="stable")
            gps, x, y, acc, speed = gps[order], x[order], y[order], acc[order], speed[order]
    if not regime.reports_accuracy:
        acc = np.full(gps.shape[0], np.nan)
    if not regime.reports_speed:
        speed = np.full(gps.shape[0], np.nan)
    return Observed(index=gps, x_m=x, y_m=y, accuracy_m=acc, speed_mps=speed)


def _held_in_tunnels(
    truth: LegTruth,
    idx: npt.NDArray[np.intp],
    *,
    acc_leg: float,
    error_m: tuple[F64, F64],
    regime: SamplingRegime,
    rng: np.random.Generator,
) -> Observed:
    """Fixes of a receiver that keeps logging without satellites: in a tunnel each fix repeats the
    last open-sky position plus a slow random-walk drift (metres), then jumps when the sky returns.

    Dedicated loggers and some phones behave so underground; on GeoLife subway sections it shows
    as long slow stretches broken by single fast hops (median speed ~2 m/s, 85th percentile ~18 m/s,
    figures checked on the development subset's aggregate statistics, not on any trajectory).
    """
    n = len(truth)
    ex, ey = error_m
    open_sky = ~truth.tunnel
    last_open = np.maximum.accumulate(np.where(open_sky, np.arange(n), 0))
    drift_x = np.cumsum(rng.normal(0.0, 0.7, n))
    drift_y = np.cumsum(rng.normal(0.0, 0.7, n))
    tunnel = truth.tunnel[idx]
    src = np.where(tunnel, last_open[idx], idx)
    white = regime.white_noise_m * acc_leg / regime.accuracy_median_m
    x = truth.x_m[src] + ex[src] + np.where(tunnel, drift_x[idx] - drift_x[src], 0.0)
    y = truth.y_m[src] + ey[src] + np.where(tunnel, drift_y[idx] - drift_y[src], 0.0)
    x = x + rng.normal(0.0, white, idx.shape[0])
    y = y + rng.normal(0.0, white, idx.shape[0])
    acc = np.where(tunnel, 3.0, 1.0) * acc_leg * np.exp(0.25 * rng.standard_normal(idx.shape[0]))
    speed = np.where(tunnel, 0.0, np.maximum(truth.speed_mps[idx] + rng.normal(0.0, 0.25, idx.shape[0]), 0.0))
    if not regime.reports_accuracy:
        acc = np.full(idx.shape[0], np.nan)
    if not regime.reports_speed:
        speed = np.full(idx.shape[0], np.nan)
    return Observed(index=idx, x_m=x, y_m=y, accuracy_m=acc, speed_mps=speed)


# The phone's activity recogniser (Android Activity Recognition, iOS CMMotionActivity) is right most
# of the time while moving, says "still" in stopped vehicles and often "unknown": probabilities of
# (still, walk, run, bike, vehicle, unknown) given the true mode.
_ACTIVITY_ORDER: tuple[Activity, ...] = (
    Activity.STILL,
    Activity.WALK,
    Activity.RUN,
    Activity.BIKE,
    Activity.VEHICLE,
    Activity.UNKNOWN,
)
_ACTIVITY_GIVEN_MODE: dict[str, tuple[float, ...]] = {
    "stay": (0.85, 0.03, 0.0, 0.0, 0.02, 0.10),
    "walk": (0.08, 0.78, 0.03, 0.01, 0.02, 0.08),
    "bike": (0.05, 0.08, 0.0, 0.65, 0.10, 0.12),
    "ebike": (0.05, 0.05, 0.0, 0.55, 0.20, 0.15),
    "motorised": (0.15, 0.03, 0.0, 0.02, 0.65, 0.15),
}


def activity_codes(mode: str, n: int, rng: np.random.Generator) -> npt.NDArray[np.int8]:
    """Draw ``n`` phone activity codes for fixes of a leg whose true mode is ``mode``."""
    probs = _ACTIVITY_GIVEN_MODE.get(mode, _ACTIVITY_GIVEN_MODE["motorised"])
    choice = rng.choice(len(_ACTIVITY_ORDER), size=n, p=np.asarray(probs) / sum(probs))
    lut = np.asarray([ACTIVITY_CODES[a] for a in _ACTIVITY_ORDER], dtype=np.int8)
    return lut[choice]
