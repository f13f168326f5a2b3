"""Trips between stays, signal gaps, and which part of the result is final.

As trackintel's ``generate_triplegs(method="between_staypoints")`` and ``generate_trips``: the fixes
between two stays form a trip, and a signal gap longer than ``gap_s`` ends it (the fixes after the
gap start a new one). A gap inside a stay window does not (its two sides are within the radius).

The track is cut into *items*, stays and trips, each starting at an anchor of the sliding windows.
An item is final once the fix that closed it is final: cleaning may still drop the last fixes
(``provisional_from``), and the item running at the end of the track is open until a later fix,
or ``now_s`` beyond a gap, closes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.geodesy import haversine_m
from core.segmentation.params import SegmentationParams
from core.segmentation.staypoints import Windows

F64 = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Items:
    """Consecutive items ``[starts[k], ends[k])``; ``gap_before`` marks those a signal gap precedes."""

    starts: IntArray
    ends: IntArray
    is_stay: BoolArray
    gap_before: BoolArray
    complete: BoolArray
    complete_until_s: float


def items_from_windows(
    t_s: F64,
    windows: Windows,
    params: SegmentationParams,
    *,
    provisional_from: int,
    now_s: float | None,
) -> Items:
    """Group windows into stays and trips and mark which are final (see the module docstring)."""
    n = t_s.size
    k = windows.starts.size
    if k == 0:
        empty = np.zeros(0, dtype=np.intp)
        no = np.zeros(0, dtype=np.bool_)
        return Items(
            starts=empty, ends=empty, is_stay=no, gap_before=no, complete=no, complete_until_s=-math.inf
        )
    gap = np.zeros(k, dtype=np.bool_)
    gap[1:] = (t_s[windows.starts[1:]] - t_s[windows.starts[1:] - 1]) > params.gap_s
    new_item = np.ones(k, dtype=np.bool_)
    new_item[1:] = windows.is_stay[1:] | windows.is_stay[:-1] | gap[1:]
    first_window = np.flatnonzero(new_item)
    starts = windows.starts[first_window]
    ends = np.append(starts[1:], n).astype(np.intp)
    closed = now_s is not None and now_s - float(t_s[-1]) > params.gap_s
    if closed:
        complete = np.ones(starts.size, dtype=np.bool_)
        until = math.nextafter(float(t_s[-1]), math.inf)
    else:
        # The closing fix of an item is the first fix of the next one; the last item has none.
        complete = ends < min(provisional_from, n)
        open_items = np.flatnonzero(~complete)
        until = float(t_s[starts[open_items[0]]])
    return Items(
        starts=starts,
        ends=ends,
        is_stay=windows.is_stay[first_window],
        gap_before=gap[first_window],
        complete=complete,
        complete_until_s=until,
    )


# A "trip" back to the stay it left, never farther than this many stay radii from it and shorter
# than a stay's dwell, is GPS noise inside the stay (an indoor fix 150 m off), not a trip.
PHANTOM_REACH_RADII = 2.5


@dataclass(frozen=True, slots=True)
class TripRows:
    """The trips among the items, with the stay numbers they link (-1 for none)."""

    starts: IntArray
    ends: IntArray
    origin: IntArray
    destination: IntArray
    complete: BoolArray

    def where(self, keep: BoolArray) -> TripRows:
        """The rows ``keep`` marks."""
        return TripRows(
            starts=self.starts[keep],
            ends=self.ends[keep],
            origin=self.origin[keep],
            destination=self.destination[keep],
            complete=self.complete[keep],
        )


def trip_rows(items: Items, params: SegmentationParams) -> TripRows:
    """Trips are the non-stay items with at least ``min_trip_fixes`` fixes; a trip is linked to the
    stay right before (after) it unless a signal gap separates them."""
    stay_number = np.cumsum(items.is_stay) - 1
    count = items.starts.size
    pos = np.flatnonzero(~items.is_stay & ((items.ends - items.starts) >= params.min_trip_fixes))
    prev = pos - 1
    nxt = pos + 1
    has_origin = (prev >= 0) & ~items.gap_before[pos]
    has_origin &= items.is_stay[np.maximum(prev, 0)]
    nxt_ok = nxt < count
    nxt_c = np.minimum(nxt, count - 1) if count else nxt
    has_destination = nxt_ok & items.is_stay[nxt_c] & ~items.gap_before[nxt_c]
    return TripRows(
        starts=items.starts[pos],
        ends=items.ends[pos],
        origin=np.where(has_origin, stay_number[np.maximum(prev, 0)], -1).astype(np.intp),
        destination=np.where(has_destination, stay_number[nxt_c], -1).astype(np.intp),
        complete=items.complete[pos],
    )


def without_phantoms(
    rows: TripRows,
    *,
    t_s: F64,
    lat: F64,
    lon: F64,
    stay_lat: F64,
    stay_lon: F64,
    params: SegmentationParams,
) -> TripRows:
    """``rows`` without the trips that return to the stay they left (its centre within the stay
    radius of the next stay's) in less than ``stay_dwell_s`` without ever going farther than
    :data:`PHANTOM_REACH_RADII` stay radii from it: a fix or two thrown off by the walls of a
    building break a stay in two with a "trip" of no length between (the stays stay apart)."""
    keep = np.ones(rows.starts.size, dtype=np.bool_)
    for k in np.flatnonzero((rows.origin >= 0) & (rows.destination >= 0)).tolist():
        o, d = int(rows.origin[k]), int(rows.destination[k])
        a, b = int(rows.starts[k]), int(rows.ends[k])
        if haversine_m(stay_lat[o], stay_lon[o], stay_lat[d], stay_lon[d]) > params.stay_radius_m:
            continue
        if t_s[b - 1] - t_s[a] >= params.stay_dwell_s:
            continue
        reach = haversine_m(stay_lat[o], stay_lon[o], lat[a:b], lon[a:b])
        keep[k] = bool(np.max(reach) > PHANTOM_REACH_RADII * params.stay_radius_m)
    return rows.where(keep)
