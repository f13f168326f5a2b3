"""Trips no vehicle could make: a section faster than anything on the ground that did not fly.

Cleaning drops a GPS jump by judging it against the longer segments on either side of it
(:mod:`.cleaning`). A track made only of jumps has none to judge by: a phone whose fixes alternate
between two places kilometres apart, a second apart, with no stay before or after. Cleaning keeps
it all (sustained fast travel is a series of jumps too), and the trip it makes ran 211 km in 19 s,
or 50 km in 270 s in a "car" with its 7 kg of CO2 in the tester's footprint. Nothing that short can
be judged by the fixes alone: a lone fix 11 km off after a jump may be the first one seen from a
plane. So the speed is checked where it is counted, on sections.

A section whose path, over its fixes and on to the next section's first (the distance the trip
stores for it, :mod:`core.trips`, short of the hops to the stays), is faster on average than
``max_speed_mps`` (the cleaning's jump, above any train) is possible only in the air. It is kept
when it flew as a flight across a signal gap does (:mod:`.flights`): from its first fix to its
last, at least ``flight_min_distance_m`` at an average of at least ``flight_min_speed_mps``, no
faster along its path than ``flight_max_speed_mps``, and close to straight (its path at most
:data:`FLIGHT_MAX_CIRCUITY` times as long as the straight line: a flight flies close to the great
circle, GPS jumps go out and come back). Otherwise its trip is dropped, as a phantom trip is
(:func:`.trips.without_phantoms`): what it holds besides the jumps is no trip anyone can tell (the
whole trip, not the section: cut around the jumps, a trip would begin or end where nobody was). A
shorter run of fixes in the air is left out, as a shorter flight is, rather than guessed: between
two signal gaps it belongs to the flight across them anyway.

A high-speed train (90 m/s at most, sampled every minute or every second) never averages more
than ``max_speed_mps`` over a section, and a flight across a signal gap is a trip of its own
(:mod:`.flights`), never judged here. The rule reads only the fixes of each trip, so one pass and
incremental steps (which rebuild whole trips) drop the same trips.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from core.segmentation.flights import flight_pace
from core.segmentation.params import SegmentationParams
from core.segmentation.sphere import Sphere

F64 = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

# A flight seen from the air flies close to the great circle: even half an hour in a holding
# pattern adds about half to an hour's flight. A zigzag of GPS jumps, out and back, is at least
# three times its straight line (four fixes, two places) or infinitely more (back where it began).
FLIGHT_MAX_CIRCUITY = 2.0


def impossible_trips(
    t_s: F64,
    sphere: Sphere,
    *,
    sec_start: IntArray,
    sec_trip: IntArray,
    trip_ends: IntArray,
    params: SegmentationParams,
) -> BoolArray:
    """Mask over the trips (``trip_ends[k]``: the end of trip ``k``) of those with a section no
    vehicle could make (module docstring). ``sec_start`` and ``sec_trip`` are the first fix and trip
    number of every section, in order (:func:`.sections.section_starts`); indices into the cleaned
    track that ``t_s`` and ``sphere`` hold."""
    bad = np.zeros(trip_ends.size, dtype=np.bool_)
    if sec_start.size == 0:
        return bad
    # A section runs to the next one's first fix, the last of a trip to the trip's last fix.
    last_of_trip = np.append(sec_trip[1:] != sec_trip[:-1], True)
    lo = sec_start
    hi = np.where(last_of_trip, trip_ends[sec_trip] - 1, np.append(sec_start[1:], 0))
    path = np.concatenate(([0.0], np.cumsum(sphere.steps_m())))
    travelled = path[hi] - path[lo]
    duration = t_s[hi] - t_s[lo]
    straight = sphere.distance_m(lo, hi)
    too_fast = travelled > params.max_speed_mps * duration
    # A flight's pace from its first fix to its last, and no faster along its path, nearly straight.
    flew = (
        flight_pace(straight, duration, params)
        & (travelled <= params.flight_max_speed_mps * duration)
        & (travelled <= FLIGHT_MAX_CIRCUITY * straight)
    )
    bad[sec_trip[too_fast & ~flew]] = True
    return bad
