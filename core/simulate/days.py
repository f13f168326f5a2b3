"""Labelled multi-modal days: stays and trips made of legs (walk, vehicle, walk...), as a Track.

A day is home stay, then trips to activity places and back, each trip made of legs whose mode
chain follows how people travel: public transport has walking access and egress legs with a wait
at the stop (Sillage labels the wait as walk, as e-mission's sections do) and sometimes a
transfer; car and motorbike have short walks to and from the parking; bike trips have a few
metres of walking. Every fix carries its true label (``stay`` or a mode), and every leg its fix
range, so the output serves to train the classifier and to test the segmentation.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import msgspec
import numpy as np
import numpy.typing as npt

from core.fixes import Activity
from core.simulate.motion import LegTruth, simulate_motion, stationary
from core.simulate.profiles import MODES, PROFILES
from core.simulate.sensor import REGIMES, SamplingRegime, activity_codes, observe
from core.track import ACTIVITY_CODES, Track

F64 = npt.NDArray[np.float64]
STAY = "stay"
TRANSIT: frozenset[str] = frozenset({"bus", "tram", "metro", "train"})
_EARTH_RADIUS_M = 6_371_008.8


class DayParams(msgspec.Struct, frozen=True, kw_only=True):
    """Shape of simulated days. Times in seconds, distances in metres."""

    day_start_s: tuple[float, float] = (6.5 * 3600, 9.0 * 3600)  # first departure, seconds after midnight
    trips_per_day: tuple[int, int] = (2, 5)
    stay_s: tuple[float, float] = (15 * 60.0, 3 * 3600.0)
    home_stay_s: tuple[float, float] = (10 * 60.0, 40 * 60.0)  # visible part of the night at home
    access_walk_m: tuple[float, float] = (100.0, 800.0)
    stop_wait_s: tuple[float, float] = (60.0, 480.0)
    transfer_prob: float = 0.25
    activity_prob: float = 0.5  # share of users whose phone sends motion activity
    trip_mode_weights: tuple[tuple[str, float], ...] = (
        ("walk", 0.25),
        ("bike", 0.12),
        ("ebike", 0.05),
        ("bus", 0.12),
        ("tram", 0.08),
        ("metro", 0.1),
        ("train", 0.05),
        ("car", 0.2),
        ("motorbike", 0.03),
    )
    regime_weights: tuple[tuple[str, float], ...] = (
        ("1s", 0.25),
        ("5s", 0.2),
        ("logger", 0.2),
        ("30s", 0.2),
        ("duty", 0.15),
    )
    origin_lat: float = 45.764  # Lyon, Place Bellecour
    origin_lon: float = 4.8357
    origin_spread_m: float = 8000.0


DEFAULT_DAY = DayParams()


@dataclass(frozen=True, slots=True)
class SimulatedLeg:
    """Fixes ``[start, end)`` of the simulated track belong to one leg of ``mode``."""

    start: int
    end: int
    mode: str


@dataclass(frozen=True, slots=True)
class SimulatedTrack:
    """A simulated track with one true label per fix (``stay`` or a mode) and its legs."""

    track: Track
    labels: npt.NDArray[np.str_]
    legs: tuple[SimulatedLeg, ...]


@dataclass(frozen=True, slots=True)
class _Piece:
    truth: LegTruth
    label: str
    moving: bool
    accuracy_factor: float


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    lo, hi = bounds
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _concat(a: LegTruth, b: LegTruth) -> LegTruth:
    return LegTruth(
        x_m=np.concatenate((a.x_m, b.x_m + a.x_m[-1])),
        y_m=np.concatenate((a.y_m, b.y_m + a.y_m[-1])),
        speed_mps=np.concatenate((a.speed_mps, b.speed_mps)),
        tunnel=np.concatenate((a.tunnel, b.tunnel)),
    )


def leg_piece(mode: str, rng: np.random.Generator, *, distance_m: float | None = None) -> _Piece:
    """One moving leg of ``mode`` (length drawn from the mode's range unless given)."""
    profile = PROFILES[mode]
    dist = distance_m if distance_m is not None else _log_uniform(rng, profile.leg_distance_m)
    tunnel_share = 0.0
    if profile.underground_prob > 0:
        tunnel_share = float(
            rng.uniform(0.6, 1.0) if rng.random() < profile.underground_prob else rng.uniform(0.0, 0.2)
        )
    truth = simulate_motion(profile, dist, rng, tunnel_share=tunnel_share)
    return _Piece(truth=truth, label=mode, moving=True, accuracy_factor=profile.vehicle_accuracy_factor)


def _trip_pieces(main: str, rng: np.random.Generator, params: DayParams) -> list[_Piece]:
    if main == "walk":
        return [leg_piece("walk", rng)]
    if main in TRANSIT:
        access = leg_piece("walk", rng, distance_m=float(rng.uniform(*params.access_walk_m)))
        wait = stationary(float(rng.uniform(*params.stop_wait_s)))
        pieces = [_Piece(truth=_concat(access.truth, wait), label="walk", moving=True, accuracy_factor=1.0)]
        pieces.append(leg_piece(main, rng))
        if rng.random() < params.transfer_prob:
            transfer = leg_piece("walk", rng, distance_m=float(rng.uniform(50.0, 300.0)))
            wait = stationary(float(rng.uniform(*params.stop_wait_s)))
            pieces.append(
                _Piece(truth=_concat(transfer.truth, wait), label="walk", moving=True, accuracy_factor=1.0)
            )
            pieces.append(leg_piece(str(rng.choice(sorted(TRANSIT - {"train"}))), rng))
        pieces.append(leg_piece("walk", rng, distance_m=float(rng.uniform(*params.access_walk_m))))
        return pieces
    walk_range = (10.0, 80.0) if main in {"bike", "ebike"} else (20.0, 250.0)
    return [
        leg_piece("walk", rng, distance_m=float(rng.uniform(*walk_range))),
        leg_piece(main, rng),
        leg_piece("walk", rng, distance_m=float(rng.uniform(*walk_range))),
    ]


def _stay_piece(duration_s: float) -> _Piece:
    return _Piece(truth=stationary(duration_s), label=STAY, moving=False, accuracy_factor=1.0)


def assemble(
    pieces: list[_Piece],
    rng: np.random.Generator,
    *,
    regime: SamplingRegime,
    start_s: float,
    origin_lat: float,
    origin_lon: float,
    with_activity: bool,
) -> SimulatedTrack:
    """Observe consecutive pieces (each starting where the previous ended) as one labelled track."""
    t_parts: list[F64] = []
    x_parts: list[F64] = []
    y_parts: list[F64] = []
    acc_parts: list[F64] = []
    spd_parts: list[F64] = []
    act_parts: list[npt.NDArray[np.int8]] = []
    labels: list[str] = []
    legs: list[SimulatedLeg] = []
    t0, x0, y0, count = start_s, 0.0, 0.0, 0
    for piece in pieces:
        obs = observe(piece.truth, regime, rng, moving=piece.moving, accuracy_factor=piece.accuracy_factor)
        k = int(obs.index.shape[0])
        t_parts.append(t0 + obs.index.astype(np.float64))
        x_parts.append(x0 + obs.x_m)
        y_parts.append(y0 + obs.y_m)
        acc_parts.append(obs.accuracy_m)
        spd_parts.append(obs.speed_mps)
        if with_activity:
            act_parts.append(activity_codes(piece.label, k, rng))
        else:
            act_parts.append(np.full(k, ACTIVITY_CODES[Activity.UNKNOWN], dtype=np.int8))
        labels.extend([piece.label] * k)
        if piece.label != STAY and k > 0:
            legs.append(SimulatedLeg(start=count, end=count + k, mode=piece.label))
        count += k
        t0 += float(len(piece.truth))
        x0 += float(piece.truth.x_m[-1])
        y0 += float(piece.truth.y_m[-1])
    x = np.concatenate(x_parts) if x_parts else np.empty(0)
    y = np.concatenate(y_parts) if y_parts else np.empty(0)
    lat = origin_lat + np.degrees(y / _EARTH_RADIUS_M)
    lon = origin_lon + np.degrees(x / (_EARTH_RADIUS_M * math.cos(math.radians(origin_lat))))
    track = Track(
        t_s=np.concatenate(t_parts) if t_parts else np.empty(0),
        lat=np.asarray(lat, dtype=np.float64),
        lon=np.asarray(lon, dtype=np.float64),
        accuracy_m=np.concatenate(acc_parts) if acc_parts else np.empty(0),
        speed_mps=np.concatenate(spd_parts) if spd_parts else np.empty(0),
        activity=np.concatenate(act_parts) if act_parts else np.empty(0, dtype=np.int8),
    )
    return SimulatedTrack(track=track, labels=np.asarray(labels, dtype=np.str_), legs=tuple(legs))


def _pick(rng: np.random.Generator, weights: tuple[tuple[str, float], ...]) -> str:
    p = np.asarray([w for _, w in weights], dtype=np.float64)
    return weights[int(rng.choice(len(weights), p=p / p.sum()))][0]


def simulate_leg_track(
    mode: str,
    rng: np.random.Generator,
    *,
    regime: SamplingRegime | None = None,
    with_activity: bool | None = None,
    start_s: float = 1_709_510_400.0,
) -> SimulatedTrack:
    """A track holding one leg of ``mode`` (training examples); regime and activity drawn if not given."""
    if mode not in PROFILES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")
    reg = regime if regime is not None else REGIMES[_pick(rng, DEFAULT_DAY.regime_weights)]
    act = with_activity if with_activity is not None else bool(rng.random() < DEFAULT_DAY.activity_prob)
    return assemble(
        [leg_piece(mode, rng)],
        rng,
        regime=reg,
        start_s=start_s,
        origin_lat=DEFAULT_DAY.origin_lat,
        origin_lon=DEFAULT_DAY.origin_lon,
        with_activity=act,
    )


def simulate_day(
    rng: np.random.Generator,
    *,
    midnight_s: float,
    regime: SamplingRegime,
    with_activity: bool,
    origin_lat: float,
    origin_lon: float,
    params: DayParams = DEFAULT_DAY,
) -> SimulatedTrack:
    """One day from ``midnight_s`` (Unix s): home stay, then trips separated by stays."""
    pieces = [_stay_piece(float(rng.uniform(*params.home_stay_s)))]
    for _ in range(int(rng.integers(params.trips_per_day[0], params.trips_per_day[1] + 1))):
        pieces.extend(_trip_pieces(_pick(rng, params.trip_mode_weights), rng, params))
        pieces.append(_stay_piece(float(rng.uniform(*params.stay_s))))
    start = midnight_s + float(rng.uniform(*params.day_start_s)) - len(pieces[0].truth)
    return assemble(
        pieces,
        rng,
        regime=regime,
        start_s=start,
        origin_lat=origin_lat,
        origin_lon=origin_lon,
        with_activity=with_activity,
    )


@dataclass(frozen=True, slots=True)
class SimulatedDay:
    user: int
    day: int
    sim: SimulatedTrack


def simulate_days(
    *,
    users: int,
    days: int,
    seed: int,
    first_midnight_s: float = 1_709_510_400.0,
    params: DayParams = DEFAULT_DAY,
) -> Iterator[SimulatedDay]:
    """Days of ``users`` simulated people (2024-03-04 onwards by default), reproducible from ``seed``.

    Each user keeps one phone (sampling regime, activity on or off) and one home all along.
    """
    root = np.random.default_rng(seed)
    for user in range(users):
        rng = np.random.default_rng(root.integers(0, 2**63 - 1))
        regime = REGIMES[_pick(rng, params.regime_weights)]
        with_activity = bool(rng.random() < params.activity_prob)
        r = params.origin_spread_m * math.sqrt(float(rng.random()))
        a = float(rng.uniform(0.0, 2.0 * math.pi))
        lat = params.origin_lat + math.degrees(r * math.sin(a) / _EARTH_RADIUS_M)
        lon = params.origin_lon + math.degrees(
            r * math.cos(a) / (_EARTH_RADIUS_M * math.cos(math.radians(params.origin_lat)))
        )
        for day in range(days):
            sim = simulate_day(
                rng,
                midnight_s=first_midnight_s + 86400.0 * day,
                regime=regime,
                with_activity=with_activity,
                origin_lat=lat,
                origin_lon=lon,
                params=params,
            )
            yield SimulatedDay(user=user, day=day, sim=sim)
