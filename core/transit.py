"""The public-transport network as evidence for a section's mode: where its stops are, which routes
serve them.

Kinematics alone confuse a bus with a car in traffic, and a metro whose tunnels hide the GPS with
anything else. OpenPATH (e-mission) matches sections against transit stops from OpenStreetMap for
the same reason. Sillage reads the stops a deployer imports from their network's GTFS feed
(``sillage transit import``, :mod:`ingest.transit`): no download at run time, and the feed is the
network the testers really ride. A section then weighs each transit mode by where it began and
ended:

- **served**: both ends lie near stops of *one route* of that mode (within ``stop_radius_m`` for
  bus, tram and ferry stops, ``station_radius_m`` for metro and train stations, whose first fix
  after a tunnel or a station hall can be a few hundred metres off), at least ``2 x radius`` apart:
  the mode's probability is multiplied by ``served_factor``;
- **unserved**: neither end lies near any stop of that mode although the feed has such stops
  nearby (``covered``: a stop of the mode in the same 0.1° cell as the start or one of its
  neighbours, roughly within 10-20 km): the probability is multiplied by ``unserved_factor``;
- **absent**: the operator declared the imported feeds complete where the section's ends lie (a
  feed imported with ``--complete`` has stops in each end's 0.1° cell), and neither end is
  ``covered`` for the mode: there is no such mode there. La Rochelle has no metro and no tram, so a
  car ride the kinematics read as metro cannot stay metro. The mode's probability goes, in equal
  shares, to the vehicle modes (:data:`VEHICLE_MODES`) that are not absent: the model saw a
  vehicle, and cannot say which of those it was. Neither a small factor nor 0 with the rest
  renormalised would do: the model can be sure of a mode the city lacks (a road ride seen at its
  two ends only, across a signal gap, reads 0.89 metro and 0.11 train, every road mode below
  0.001), and what is left of such a row is noise, shown as if the model were sure. Shared out,
  the row says "a vehicle" and no more; the trip context and the tester's history then decide as
  for any row (walks on both sides of that ride make it a bus), or leave it to the tester's
  answer (:func:`core.history.unsure`). A tester who confirms an absent mode is believed
  (confirmations are mixed in after this, :mod:`core.history`);
- otherwise (one end only, or a feed that does not cover the place or the mode) it is left alone.

Rows are renormalised, so this is Bayes' rule with a likelihood ratio per mode, applied before the
tester's own mix and confirmations (:mod:`core.history`). The pipeline keeps the weighed rows as the
section's model probabilities (``sections.model_probabilities``): the network is evidence about
that one section, not a habit, so a new tester's mix of modes is read from them too (as
``sillage models evaluate --transit-proxy`` does).

Ferry is not a mode the classifier knows. A section whose ends lie near stops of one ferry route,
that travels at least ``ferry_min_speed_mps`` on average (not a walk along the quay) and whose
length is at most ``ferry_max_detour`` times the straight line between its ends (boats cross
water; a ride round a harbour by road is longer) is a ferry, whatever the model says, as a flight
is a plane.

The factors are hand-set and were chosen on a proxy, measured with ``sillage models evaluate
--transit-proxy`` (no GTFS feed of Beijing is available here): a network learnt from the labelled
sections of the *other* GeoLife users, each bus, metro and train section a route whose stops are
its ends and, for a bus, where it stood still. It knows only the routes other users happened to
ride. With model 1.2.0 and each user's own mix: per section macro-F1 0.570 -> 0.589, accuracy
0.695 -> 0.705 (metro F1 0.36 -> 0.42, walk 0.57 -> 0.59, car 0.65 -> 0.66, bus 0.69 -> 0.70); end
to end macro-F1 0.447 -> 0.457, time accuracy 0.542 -> 0.551. Factors of 2 or 4 instead of 3, 0.3
or 1 instead of 0.5, radii of 50 or 100 m for stops and 200 or 500 m for stations all gave per
section macro-F1 between 0.580 and 0.595: the rule is not tuned to a sharp optimum. (One "route"
per mode, that is both ends near stops of the mode, gave 0.591.)

Pure: no I/O. The stops are public reference data, shared by every tester; nothing personal
enters them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
import numpy as np
import numpy.typing as npt

from core.co2.modes import Mode
from core.geodesy import EARTH_RADIUS_M, haversine_m

F64 = npt.NDArray[np.float64]

TRANSIT_MODES: tuple[str, ...] = (Mode.BUS, Mode.TRAM, Mode.METRO, Mode.TRAIN, Mode.FERRY)
# Where an absent mode's probability goes (module docstring): the land vehicles.
VEHICLE_MODES: tuple[str, ...] = (Mode.BUS, Mode.TRAM, Mode.METRO, Mode.TRAIN, Mode.CAR, Mode.MOTORBIKE)
STATION_MODES: frozenset[str] = frozenset({Mode.METRO, Mode.TRAIN})
_CELL_DEG = 0.1  # coverage cells


class TransitParams(msgspec.Struct, frozen=True, kw_only=True):
    """How much the network weighs (see the module docstring); ``enabled`` False ignores it."""

    enabled: bool = True
    stop_radius_m: float = 75.0
    station_radius_m: float = 300.0
    served_factor: float = 3.0
    unserved_factor: float = 0.5
    ferry_min_speed_mps: float = 1.5
    ferry_max_detour: float = 1.25

    def radius_m(self, mode: str) -> float:
        return self.station_radius_m if mode in STATION_MODES else self.stop_radius_m


DEFAULT_TRANSIT = TransitParams()


class TransitStop(msgspec.Struct, frozen=True, kw_only=True):
    """One stop (or station, or station entrance) and the routes that serve it, as ``(route key,
    mode)`` pairs; a route key is unique across feeds (``feed:route_id``). ``complete``: its feed
    was declared complete (the imported feeds hold every transit stop where it has stops)."""

    lat: float
    lon: float
    routes: tuple[tuple[str, str], ...]
    complete: bool = False


@dataclass(frozen=True, slots=True)
class TransitStops:
    """Stops sorted by latitude (a latitude band, then the exact distance, finds those near a
    point), each with the indices of its routes; ``route_modes[r]`` is route ``r``'s mode;
    ``cells`` the 0.1° cells with stops of each mode, ``complete_cells`` those with a stop of a
    feed declared complete."""

    lat: F64
    lon: F64
    routes: tuple[npt.NDArray[np.intp], ...]
    route_modes: tuple[str, ...]
    cells: dict[str, frozenset[tuple[int, int]]]
    complete_cells: frozenset[tuple[int, int]] = frozenset()

    @staticmethod
    def of(stops: Sequence[TransitStop]) -> TransitStops:
        keys: dict[str, int] = {}
        modes: list[str] = []
        cells: dict[str, set[tuple[int, int]]] = {}
        for stop in stops:
            for key, mode in stop.routes:
                if key not in keys:
                    keys[key] = len(modes)
                    modes.append(mode)
                cells.setdefault(mode, set()).add(_cell(stop.lat, stop.lon))
        order = sorted(range(len(stops)), key=lambda k: stops[k].lat)
        return TransitStops(
            lat=np.asarray([stops[k].lat for k in order], dtype=np.float64),
            lon=np.asarray([stops[k].lon for k in order], dtype=np.float64),
            routes=tuple(
                np.asarray(sorted({keys[key] for key, _ in stops[k].routes}), dtype=np.intp) for k in order
            ),
            route_modes=tuple(modes),
            cells={mode: frozenset(c) for mode, c in cells.items()},
            complete_cells=frozenset(_cell(s.lat, s.lon) for s in stops if s.complete),
        )

    def __len__(self) -> int:
        return int(self.lat.size)

    def routes_near(self, lat: float, lon: float, params: TransitParams) -> set[int]:
        """Routes with a stop within their mode's radius of the point."""
        reach = max(params.stop_radius_m, params.station_radius_m)
        dlat = math.degrees(reach / EARTH_RADIUS_M)
        lo, hi = np.searchsorted(self.lat, (lat - dlat, lat + dlat))
        if hi <= lo:
            return set()
        d = haversine_m(lat, lon, self.lat[lo:hi], self.lon[lo:hi])
        out: set[int] = set()
        for k in np.flatnonzero(d <= reach).tolist():
            out.update(
                r for r in self.routes[lo + k].tolist() if d[k] <= params.radius_m(self.route_modes[r])
            )
        return out

    def covers(self, mode: str, lat: float, lon: float) -> bool:
        """The feed has a stop of ``mode`` in the point's 0.1° cell or one of its neighbours."""
        cells = self.cells.get(mode, frozenset())
        i, j = _cell(lat, lon)
        return any((i + di, j + dj) in cells for di in (-1, 0, 1) for dj in (-1, 0, 1))

    def lacks(self, mode: str, lat: float, lon: float) -> bool:
        """The point lies where the feeds were declared complete (a complete feed has a stop in its
        0.1° cell) and no stop of ``mode`` is there (:meth:`covers`)."""
        return _cell(lat, lon) in self.complete_cells and not self.covers(mode, lat, lon)


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / _CELL_DEG), math.floor(lon / _CELL_DEG)


@dataclass(frozen=True, slots=True)
class Weighed:
    """Probabilities after the network's evidence, on ``classes`` (the input's, plus ferry when the
    network has a ferry route: the same columns for every section it weighs)."""

    proba: F64
    classes: tuple[str, ...]


def weigh(
    proba: F64,
    classes: Sequence[str],
    stops: TransitStops | None,
    *,
    starts: F64,
    ends: F64,
    distance_m: F64,
    duration_s: F64,
    params: TransitParams = DEFAULT_TRANSIT,
) -> Weighed:
    """Each section's probabilities weighed by the stops at its ends (module docstring).

    ``proba`` is ``(n, len(classes))``; ``starts`` and ``ends`` are ``(n, 2)`` latitude, longitude
    of each section's first and last fix; ``distance_m`` and ``duration_s`` its length and duration
    (the features of the same names). Without stops, or disabled, rows are returned unchanged.
    """
    names = tuple(classes)
    n = proba.shape[0]
    if stops is None or not len(stops) or not params.enabled:
        return Weighed(proba=proba, classes=names)
    if Mode.FERRY in stops.cells and Mode.FERRY not in names:
        names = (*names, str(Mode.FERRY))
        proba = np.column_stack((proba, np.zeros(n)))
    factors = np.ones((n, len(TRANSIT_MODES)), dtype=np.float64)
    absent = np.zeros((n, len(TRANSIT_MODES)), dtype=np.bool_)
    ferry = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        (a_lat, a_lon), (b_lat, b_lon) = starts[i].tolist(), ends[i].tolist()
        at_start = stops.routes_near(a_lat, a_lon, params)
        at_end = stops.routes_near(b_lat, b_lon, params)
        apart = haversine_m(a_lat, a_lon, b_lat, b_lon)
        for j, mode in enumerate(TRANSIT_MODES):
            start_routes = {r for r in at_start if stops.route_modes[r] == mode}
            end_routes = {r for r in at_end if stops.route_modes[r] == mode}
            if start_routes & end_routes and apart >= 2.0 * params.radius_m(mode):
                factors[i, j] = params.served_factor
                ferry[i] |= mode == Mode.FERRY and _crosses_water(apart, distance_m[i], duration_s[i], params)
            elif stops.lacks(mode, a_lat, a_lon) and stops.lacks(mode, b_lat, b_lon):
                absent[i, j] = True
            elif not start_routes and not end_routes and stops.covers(mode, a_lat, a_lon):
                factors[i, j] = params.unserved_factor
    out = proba.copy()
    for j, mode in enumerate(TRANSIT_MODES):
        if mode in names:
            out[:, names.index(mode)] *= factors[:, j]
    total = out.sum(axis=1, keepdims=True)
    out = np.divide(out, total, out=proba.copy(), where=total > 0)
    if absent.any():
        _share_out(out, names, absent)
    out[ferry] = 0.0
    if ferry.any():
        out[ferry, names.index(Mode.FERRY)] = 1.0
    return Weighed(proba=out, classes=names)


def _share_out(out: F64, names: Sequence[str], absent: npt.NDArray[np.bool_]) -> None:
    """Move the probability of each row's absent modes (``absent``, columns
    :data:`TRANSIT_MODES`) to that row's vehicle modes that are not absent, in equal shares."""
    column = {mode: k for k, mode in enumerate(names)}
    gone = [(j, column[mode]) for j, mode in enumerate(TRANSIT_MODES) if mode in column]
    vehicles = [(mode, column[mode]) for mode in VEHICLE_MODES if mode in column]
    for i in np.flatnonzero(absent.any(axis=1)).tolist():
        lacking = {TRANSIT_MODES[j] for j in np.flatnonzero(absent[i]).tolist()}
        moved = sum(float(out[i, k]) for j, k in gone if absent[i, j])
        present = [k for mode, k in vehicles if mode not in lacking]
        if not present:
            continue
        for j, k in gone:
            if absent[i, j]:
                out[i, k] = 0.0
        out[i, present] += moved / len(present)


def _crosses_water(apart_m: float, distance_m: float, duration_s: float, params: TransitParams) -> bool:
    """Fast enough not to be a walk, and about as long as the straight line between the piers."""
    if not (duration_s > 0 and distance_m > 0):
        return False
    fast = distance_m / duration_s >= params.ferry_min_speed_mps
    return fast and distance_m <= params.ferry_max_detour * apart_m
