"""A tester's carpool offer: one recurring trip reduced to what matching needs.

Computed inside the tester's own partition from their recurring trips
(:func:`core.coaching.recurring.recurring_trips`): snapped origin and destination, the usual local
departure window, the weekdays it is made on, its usual distance, footprint and mode, and whether
the tester could drive it. Nothing else (no trip, time stamp or place name) leaves the partition.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import msgspec

from core.carpool.params import DEFAULT_OFFER_PARAMS, OfferParams
from core.co2.modes import Mode
from core.coaching.records import LatLon, TripRecord
from core.coaching.recurring import RecurringTrip

MINUTES_PER_DAY = 1440
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_M_PER_DEG_LAT = 111_195.0


class Offer(msgspec.Struct, frozen=True, kw_only=True):
    """One recurring trip of one tester, as the matcher sees it.

    ``weekdays`` is a bit mask (bit 0 Monday ... bit 6 Sunday, local time); departure minutes are
    counted from local midnight. ``usual_co2_kg`` is what the tester emits on one such trip today;
    ``car_kg_per_km`` is their own car's factor per vehicle-km (used when they drive).
    """

    user_id: uuid.UUID
    seq: int
    origin: LatLon
    destination: LatLon
    depart_from_min: int
    depart_to_min: int
    weekdays: int
    distance_m: float
    usual_co2_kg: float
    usual_mode: Mode
    can_drive: bool
    car_kg_per_km: float


def weekday_names(mask: int) -> list[str]:
    """``0b0000101`` → ``["mon", "wed"]``."""
    return [name for bit, name in enumerate(WEEKDAY_NAMES) if mask >> bit & 1]


def clock(minutes: int) -> str:
    """Minutes after midnight as ``HH:MM``."""
    m = int(minutes) % MINUTES_PER_DAY
    return f"{m // 60:02d}:{m % 60:02d}"


def snap(point: LatLon, precision_m: float) -> LatLon:
    """Round a point to a grid ``precision_m`` fine (east-west spacing scaled by latitude)."""
    dlat = precision_m / _M_PER_DEG_LAT
    lat = round(point[0] / dlat) * dlat
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)  # from the snapped latitude: idempotent
    return (round(lat, 6), round(round(point[1] / dlon) * dlon, 6))


def _quantile(sorted_values: Sequence[int], q: float) -> float:
    """Linear-interpolation quantile (numpy's default method) of an ascending sequence."""
    pos = q * (len(sorted_values) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def departure_window(minutes: Sequence[int], params: OfferParams) -> tuple[int, int]:
    """The usual departure window (local minutes), at least ``min_window_min`` wide."""
    values = sorted(minutes)
    lo = _quantile(values, params.window_low_quantile)
    hi = _quantile(values, params.window_high_quantile)
    missing = params.min_window_min - (hi - lo)
    if missing > 0:
        lo, hi = lo - missing / 2, hi + missing / 2
    return max(0, math.floor(lo)), min(MINUTES_PER_DAY - 1, math.ceil(hi))


def usual_weekdays(trips: Sequence[TripRecord], tz: ZoneInfo, params: OfferParams) -> int:
    """Weekdays on which the trip was made in at least ``min_weekday_share`` of its weeks."""
    weeks: set[tuple[int, int]] = set()
    counts = [0] * 7
    for t in trips:
        local = t.start.astimezone(tz)
        iso = local.isocalendar()
        weeks.add((iso.year, iso.week))
        counts[local.weekday()] += 1
    need = params.min_weekday_share * max(1, len(weeks))
    return sum(1 << day for day, n in enumerate(counts) if n > 0 and n >= need)


def offers_from_trips(
    user_id: uuid.UUID,
    trips: Sequence[TripRecord],
    recurring: Sequence[RecurringTrip],
    *,
    can_drive: bool | None,
    car_kg_per_km: float,
    params: OfferParams = DEFAULT_OFFER_PARAMS,
) -> list[Offer]:
    """Offers for a tester's most frequent recurring trips (at most ``max_offers_per_tester``).

    ``can_drive`` is what the tester declared; ``None`` infers it from the trip's usual mode (a
    tester who drives this trip can drive it for others).
    """
    tz = ZoneInfo(params.time_zone)
    by_id = {t.trip_id: t for t in trips}
    offers: list[Offer] = []
    for r in recurring:
        if len(offers) >= params.max_offers_per_tester:
            break
        members = [by_id[i] for i in r.trip_ids if i in by_id]
        if not members or r.per_week < params.min_trips_per_week:
            continue
        weekdays = usual_weekdays(members, tz, params)
        if weekdays == 0:
            continue
        local = [m.start.astimezone(tz) for m in members]
        start, end = departure_window([d.hour * 60 + d.minute for d in local], params)
        offers.append(
            Offer(
                user_id=user_id,
                seq=len(offers),
                origin=snap(r.origin, params.precision_m),
                destination=snap(r.destination, params.precision_m),
                depart_from_min=start,
                depart_to_min=end,
                weekdays=weekdays,
                distance_m=r.typical_distance_m,
                usual_co2_kg=r.typical_co2_kg,
                usual_mode=r.main_mode,
                can_drive=(r.main_mode is Mode.CAR) if can_drive is None else can_drive,
                car_kg_per_km=car_kg_per_km,
            )
        )
    return offers
