"""``segment``: raw track → cleaned track → stays → trips → sections, in one pure call."""

from __future__ import annotations

import numpy as np

from core.segmentation.cleaning import clean
from core.segmentation.flights import flight_hops, flight_trips, gap_hops
from core.segmentation.impossible import impossible_trips
from core.segmentation.params import DEFAULT_PARAMS, SegmentationParams
from core.segmentation.result import SectionBounds, Segmentation, Stay, Trip
from core.segmentation.rides import ride_trips
from core.segmentation.sections import section_starts
from core.segmentation.sphere import Sphere
from core.segmentation.staypoints import sliding_windows, stay_centres
from core.segmentation.trips import items_from_windows, trip_rows, without_phantoms
from core.track import Track


def segment(
    track: Track,
    params: SegmentationParams = DEFAULT_PARAMS,
    *,
    now_s: float | None = None,
    start_s: float | None = None,
) -> Segmentation:
    """Segment one user's time-sorted track into stays, trips and sections.

    Cleaning (accuracy, repeated times, speed excursions after e-mission's jump smoothing), stays
    by the sliding dwell/radius method of Li et al. 2008 as in trackintel, trips between stays cut
    at signal gaps (trackintel ``generate_triplegs``) except that a gap only a plane can cross is a
    trip of its own (``flights``), and so is a gap ridden underground or with the tracker stopped
    (``rides``), sections by walk-based segmentation (Zheng et al. 2008) with
    speed regimes and the phone's activity, and no trip with a section no vehicle could make
    (``impossible``: GPS jumps cleaning had nothing to judge by); see the modules of this package.

    ``now_s`` (epoch seconds) is the time of the call: when no fix arrived for more than ``gap_s``
    before it, the item running at the end of the track is closed by that gap instead of being
    left open. :attr:`Segmentation.complete_until_s` says where the open tail starts.

    ``start_s``: the fixes before it are there only for cleaning to choose between two trackers,
    and to judge GPS jumps, as it would with the whole history (its windows reach back before where
    an incremental step restarts); segmentation starts at it.
    """
    raw_sphere = Sphere.of(track.lat, track.lon)
    cleaning = clean(track, raw_sphere, params, start_s=start_s)
    kept_index = np.flatnonzero(cleaning.kept)
    cleaned = track.take(kept_index)
    sphere = raw_sphere.take(kept_index)
    t = cleaned.t_s
    windows = sliding_windows(t, sphere, params)
    items = items_from_windows(t, windows, params, provisional_from=cleaning.provisional_from, now_s=now_s)

    stay_pos = np.flatnonzero(items.is_stay)
    s_start, s_end = items.starts[stay_pos], items.ends[stay_pos]
    s_lat, s_lon = stay_centres(sphere, s_start, s_end)
    stays = tuple(
        Stay(start=a, end=b, lat=la, lon=lo, t_start_s=ta, t_end_s=tb, complete=c)
        for a, b, la, lo, ta, tb, c in zip(
            s_start.tolist(),
            s_end.tolist(),
            s_lat.tolist(),
            s_lon.tolist(),
            t[s_start].tolist(),
            t[s_end - 1].tolist(),
            items.complete[stay_pos].tolist(),
            strict=True,
        )
    )

    rows = without_phantoms(
        trip_rows(items, params),
        t_s=t,
        lat=cleaned.lat,
        lon=cleaned.lon,
        stay_lat=np.asarray(s_lat),
        stay_lon=np.asarray(s_lon),
        params=params,
    )
    sec_start, sec_trip = section_starts(cleaned, sphere, rows.starts, rows.ends, params)
    impossible = impossible_trips(
        t, sphere, sec_start=sec_start, sec_trip=sec_trip, trip_ends=rows.ends, params=params
    )
    if bool(impossible.any()):
        # Sections are computed within each trip: the others' are unchanged, renumbered.
        rows = rows.where(~impossible)
        kept_section = ~impossible[sec_trip]
        renumber = np.cumsum(~impossible) - 1
        sec_start, sec_trip = sec_start[kept_section], renumber[sec_trip[kept_section]].astype(np.intp)
    sec_end = np.append(sec_start[1:], 0)
    last_of_trip = np.append(sec_trip[1:] != sec_trip[:-1], True) if sec_trip.size else sec_trip.astype(bool)
    sec_end = np.where(last_of_trip, rows.ends[sec_trip], sec_end)
    per_trip = np.searchsorted(sec_trip, np.arange(rows.starts.size + 1)).tolist()
    bounds = [
        SectionBounds(start=a, end=b) for a, b in zip(sec_start.tolist(), sec_end.tolist(), strict=True)
    ]
    trips = tuple(
        Trip(
            start=a,
            end=b,
            t_start_s=ta,
            t_end_s=tb,
            sections=tuple(bounds[per_trip[k] : per_trip[k + 1]]),
            origin_stay=None if o < 0 else o,
            destination_stay=None if d < 0 else d,
            complete=c,
        )
        for k, (a, b, ta, tb, o, d, c) in enumerate(
            zip(
                rows.starts.tolist(),
                rows.ends.tolist(),
                t[rows.starts].tolist(),
                t[rows.ends - 1].tolist(),
                rows.origin.tolist(),
                rows.destination.tolist(),
                rows.complete.tolist(),
                strict=True,
            )
        )
    )
    hops = gap_hops(cleaned, params)
    flights = flight_trips(cleaned, stays, flight_hops(hops, params), cleaning.provisional_from, params)
    rides = ride_trips(cleaned, stays, hops, cleaning.provisional_from, params)
    if flights or rides:
        # Fixes taken in the air between two hops are the flight's, not a trip of their own.
        aloft = [
            trip for trip in trips if not any(f.start < trip.start and trip.end < f.end for f in flights)
        ]
        trips = tuple(sorted((*aloft, *flights, *rides), key=lambda trip: (trip.start, trip.end)))
    return Segmentation(
        kept=cleaning.kept,
        cleaned=cleaned,
        stays=stays,
        trips=trips,
        complete_until_s=items.complete_until_s,
    )
