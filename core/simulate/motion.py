"""Ground-truth motion of one leg at 1 Hz: speed profile with stops, and a curved 2-D path.

The speed follows an Ornstein-Uhlenbeck target around the leg's cruise speed, limited by the
mode's acceleration, and brakes at constant deceleration to stop exactly at scheduled stops
(bus stops, stations) and at the red lights it meets (a car-following-free simplification of the
intelligent-driver idea: Treiber, Hennecke & Helbing 2000, Phys. Rev. E 62). Headings diffuse
with the way's curvature and turn at street corners. Positions are local metres (east, north).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.simulate.profiles import ModeProfile

F64 = npt.NDArray[np.float64]

_OU_THETA_PER_S = 1.0 / 30.0  # target speed decorrelates over ~30 s
_ARRIVE_M = 1.0


@dataclass(frozen=True, slots=True)
class LegTruth:
    """True state each second from the leg's start: east/north metres, speed, in-tunnel flag."""

    x_m: F64
    y_m: F64
    speed_mps: F64
    tunnel: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.x_m.shape[0])


@dataclass(frozen=True, slots=True)
class _Event:
    position_m: float
    dwell_s: float
    station: bool


def _events(profile: ModeProfile, distance_m: float, rng: np.random.Generator) -> list[_Event]:
    events: list[_Event] = []
    if profile.stop_spacing_m > 0:
        pos = 0.0
        while True:
            gap = max(
                rng.normal(profile.stop_spacing_m, profile.stop_spacing_sd_m), 0.3 * profile.stop_spacing_m
            )
            pos += gap
            if pos >= distance_m - 0.3 * profile.stop_spacing_m:
                break
            if rng.random() >= profile.stop_skip_prob:
                dwell = float(rng.gamma(4.0, profile.stop_dwell_s / 4.0))
                events.append(_Event(position_m=pos, dwell_s=dwell, station=True))
    if profile.light_spacing_m > 0:
        pos = float(rng.exponential(profile.light_spacing_m))
        while pos < distance_m - 20.0:
            if rng.random() < profile.light_stop_prob:
                wait = float(rng.uniform(5.0, max(profile.light_wait_max_s, 5.0)))
                events.append(_Event(position_m=pos, dwell_s=wait, station=False))
            pos += float(rng.exponential(profile.light_spacing_m))
    events.sort(key=lambda e: e.position_m)
    events.append(_Event(position_m=distance_m, dwell_s=0.0, station=True))
    return events


def _turn_points(profile: ModeProfile, distance_m: float, rng: np.random.Generator) -> list[float]:
    if profile.turn_spacing_m <= 0:
        return []
    out: list[float] = []
    pos = float(rng.exponential(profile.turn_spacing_m))
    while pos < distance_m:
        out.append(pos)
        pos += float(rng.exponential(profile.turn_spacing_m))
    return out


class _Mover:
    """Mutable state of a leg being simulated, one second per :meth:`step`."""

    def __init__(
        self, profile: ModeProfile, cruise: float, rng: np.random.Generator, turns: list[float]
    ) -> None:
        self.profile, self.cruise, self.rng, self.turns = profile, cruise, rng, turns
        self.heading = float(rng.uniform(0.0, 2.0 * math.pi))
        self.wander = math.radians(profile.wander_deg_per_sqrt_m)
        self.ou_sd = profile.speed_fluctuation_sd_mps * math.sqrt(2.0 * _OU_THETA_PER_S)
        self.s = self.v = self.x = self.y = 0.0
        self.target = cruise
        self.turn_i = 0
        self.in_tunnel = False
        self.xs: list[float] = []
        self.ys: list[float] = []
        self.vs: list[float] = []
        self.tun: list[bool] = []

    def record(self) -> None:
        self.xs.append(self.x)
        self.ys.append(self.y)
        self.vs.append(self.v)
        self.tun.append(self.in_tunnel)

    def advance(self, ds: float) -> None:
        self.s += ds
        self.heading += self.wander * math.sqrt(max(ds, 0.0)) * float(self.rng.standard_normal())
        while self.turn_i < len(self.turns) and self.turns[self.turn_i] <= self.s:
            side = math.copysign(math.pi / 2.0, self.rng.random() - 0.5)
            self.heading += side + 0.2 * float(self.rng.standard_normal())
            self.turn_i += 1
        self.x += ds * math.cos(self.heading)
        self.y += ds * math.sin(self.heading)

    def step(self, stop_at_m: float) -> bool:
        """One second towards a stop at ``stop_at_m``; True once stopped there."""
        p = self.profile
        dist = stop_at_m - self.s
        if dist <= max(_ARRIVE_M, self.v):
            self.v = 0.0
            self.advance(max(dist, 0.0))
            self.s = stop_at_m
            return True
        self.target += _OU_THETA_PER_S * (self.cruise - self.target) + self.ou_sd * float(
            self.rng.standard_normal()
        )
        self.target = min(max(self.target, 0.3 * self.cruise), p.max_speed_mps)
        allowed = math.sqrt(2.0 * p.decel_mps2 * max(dist - _ARRIVE_M, 0.0))
        if self.target > self.v:
            v_new = min(self.target, self.v + p.accel_mps2 * (1.0 - 0.5 * self.v / p.max_speed_mps))
        else:
            v_new = max(self.target, self.v - 0.5 * p.decel_mps2)
        v_new = max(min(v_new, allowed), 0.3)
        ds = 0.5 * (self.v + v_new)
        self.v = v_new
        self.advance(ds)
        return False


def simulate_motion(
    profile: ModeProfile, distance_m: float, rng: np.random.Generator, *, tunnel_share: float = 0.0
) -> LegTruth:
    """Simulate one leg of ``distance_m`` metres; stations between tunnels are in a tunnel with
    probability ``tunnel_share`` (metro lines run underground for part or all of their length)."""
    mean = profile.cruise_speed_mps
    cruise = float(np.clip(rng.normal(mean, profile.cruise_speed_sd_mps), 0.35 * mean, profile.max_speed_mps))
    events = _events(profile, distance_m, rng)
    mover = _Mover(profile, cruise, rng, _turn_points(profile, distance_m, rng))
    mover.in_tunnel = rng.random() < tunnel_share
    mover.record()
    max_steps = int(20.0 * distance_m / max(cruise, 0.3)) + 3600  # runaway guard
    for ev in events:
        while len(mover.xs) < max_steps:
            arrived = mover.step(ev.position_m)
            mover.record()
            if arrived:
                break
        for _ in range(round(ev.dwell_s)):
            mover.record()
        if ev.station:
            mover.in_tunnel = rng.random() < tunnel_share
    return LegTruth(
        x_m=np.asarray(mover.xs, dtype=np.float64),
        y_m=np.asarray(mover.ys, dtype=np.float64),
        speed_mps=np.asarray(mover.vs, dtype=np.float64),
        tunnel=np.asarray(mover.tun, dtype=np.bool_),
    )


def stationary(duration_s: float) -> LegTruth:
    """A person standing still (waiting at a stop, or at a stay place) for ``duration_s`` seconds."""
    n = max(round(duration_s), 1)
    zeros = np.zeros(n, dtype=np.float64)
    return LegTruth(x_m=zeros, y_m=zeros.copy(), speed_mps=zeros.copy(), tunnel=np.zeros(n, dtype=np.bool_))
