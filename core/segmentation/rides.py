"""Rides across a signal gap: a gap crossed faster than anyone walks is a trip of its own.

GPS is lost underground: a metro or suburban-rail ride through tunnels leaves the last fix at the
station entrance and the next one at the exit, twenty minutes and kilometres later. Phones also
stop their tracker in a moving vehicle (iOS suspends apps it judges idle; battery savers do the
same). Cut at the signal gap like any other (``gap_s``), such a ride would be in no trip at all, as a
flight would (:mod:`.flights`): the tester's day shows the walk to the station and the walk from
it, and the footprint misses the ride between. e-mission ends a trip at a signal gap only when
the speed across it is low (under its stay distance over its stay time) or the gap is longer than
twelve hours (``has_trip_ended`` in its dwell segmentation filters); otherwise the trip goes on
across the gap. Here the ride is kept, as a flight is, as a trip of its own from the last fix before
the gap to the first after it, with one section whose mode the classifier gives. The trips on either
side stay as they were; incremental processing never restarts at such a gap (:mod:`.restart`).

A gap hop is a ride when it lasts at most ``gap_ride_max_s`` and its average speed as the crow
flies is at least ``gap_ride_min_speed_mps`` (a brisk walk is ``walk_max_speed_mps``, 2.5 m/s:
nobody covers more on foot) and below ``flight_min_speed_mps`` (faster is a flight, or nothing). On
the GeoLife development subset, segmentation finds 244 such rides lasting 17 to 53 minutes (10th to
90th percentile); 138 lie inside a labelled interval: 78 metro (23 % of the metro labels), 43 bus,
10 car, 5 train, 2 bike. A longer gap is not taken for a ride: it may be a tracker off for hours,
through stays the gap hides, and its two ends tell that the person travelled, not when or how.
A stricter rule than e-mission's on both counts, on purpose: a ride claimed where someone walked, or
stayed, would add a vehicle trip to a footprint that had none.

The classifier reads a ride's average speed and nothing else, and calls the GeoLife rides metro or
train (66 of the 138 right: 63 metro, 3 train; no bus, no car). Tried and not adopted (2026-12-02):
giving a ride the probabilities of a motorised section that touches it (the vehicle seen before the
tracker stopped or after it started again, people walking between any two vehicle legs). It named
8 bus and 2 car rides right but lost 12 metro rides, whose walks in and out of the stations the model
reads as vehicles: 56 → 53 rides right (model arg-max without the user's own mix), end to end
main-mode macro-F1 0.522 → 0.523. Rides also cost end to end time accuracy 0.003 on the subset
(README): where cleaning dropped a car's fixes for over ``gap_s``, the ride between is called metro.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from core.segmentation.flights import GapHops, hop_trip, stay_lookup
from core.segmentation.params import SegmentationParams
from core.segmentation.result import Stay, Trip
from core.track import Track

F64 = npt.NDArray[np.float64]

# A ride's distance: its two ends as the crow flies, times the circuity of urban networks (the ratio
# of network to straight-line distance): about 1.2 between random points of a city (Newell 1980),
# 1.21 to 1.23 around transit stations (O'Sullivan 1996). Without it a ride's distance, and its CO2,
# would be a lower bound a fifth short. Flights are not corrected: they fly close to the great circle.
# On the GeoLife subset's labelled sections of 3-30 km logged densely (no gap over 2 min), path
# length over straight line has median 1.21 for bikes (226), 1.28 buses (325), 1.37 metros (99),
# 1.62 cars (371): GPS jitter and loops inflate these, so 1.2 errs low rather than high.
RIDE_CIRCUITY = 1.2


def is_gap_ride(distance_m: F64, duration_s: F64, params: SegmentationParams) -> npt.NDArray[np.bool_]:
    """Whether signal gaps (longer than ``gap_s``) of these lengths and durations were ridden."""
    speed = distance_m / np.maximum(duration_s, 1e-9)
    ridden = (speed >= params.gap_ride_min_speed_mps) & (speed < params.flight_min_speed_mps)
    out: npt.NDArray[np.bool_] = ridden & (duration_s <= params.gap_ride_max_s)
    return out


def ride_trips(
    track: Track, stays: tuple[Stay, ...], hops: GapHops, final_before: int, params: SegmentationParams
) -> list[Trip]:
    """A trip for each of ``hops`` (across a signal gap of ``track``, cleaned and time-sorted) that
    was ridden; complete once its arrival fix is final (before ``final_before``)."""
    ridden = hops.before[is_gap_ride(hops.distance_m, hops.duration_s, params)]
    if ridden.size == 0:
        return []
    stay_of = stay_lookup(stays)
    return [hop_trip(track, i, i + 1, stay_of, final_before) for i in ridden.tolist()]
