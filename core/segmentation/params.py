"""The thresholds of segmentation, in one frozen Struct with units in every name.

Defaults follow published anchors: e-mission (accuracy filter at 200 m, jump smoothing at 100 m/s,
stays of 5 min / 100 m on Android), trackintel (`generate_staypoints` sliding: 100 m, 5 min, gaps of
15 min) and Zheng et al. 2008 for walk-based sections.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

Positive = Annotated[float, msgspec.Meta(gt=0)]
NonNegative = Annotated[float, msgspec.Meta(ge=0)]


class SegmentationParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Parameters of :func:`core.segmentation.segment`.

    Cleaning
        ``max_accuracy_m``: fixes whose reported accuracy is worse are dropped (unknown accuracy is
        kept). e-mission drops accuracy >= 200 m; we use 100 m because a fix whose error can exceed
        the stay radius can break a stay in two.
        ``max_speed_mps``: an implied speed above it between consecutive fixes is a *jump* (e-mission
        ``SmoothZigzag``: 100 m/s, above high-speed rail). ``max_outlier_run_fixes``: at most this
        many fixes between jumps form an excursion that can be dropped (see ``cleaning``).
        ``tracker_window_s``: where two trackers log the same time, the one with more fixes in each
        such window is kept, and the other's fixes within half a window of it are dropped.

    Stays and trips
        ``stay_radius_m`` / ``stay_dwell_s``: a stay is a run of fixes within the radius of its first
        fix for at least the dwell (Li et al. 2008; trackintel and e-mission Android: 100 m, 5 min;
        e-mission iOS 50 m, 10 min; Traccar 200 m, 180 s). ``gap_s``: no fix for longer than this ends
        a trip (trackintel's ``gap_threshold``, 15 min); it must be at least the dwell, so that a
        gap whose two sides are within the radius is a stay. ``min_trip_fixes``: shorter runs of
        moving fixes are not reported as trips (trackintel needs 2 for a line).

    Sections (Zheng et al. 2008, walk-based segmentation)
        ``speed_window_s``: speeds are displacements over this centred window, which averages GPS
        noise out (5 m noise over 30 s is 0.2 m/s). ``still_speed_mps``: below it a fix is *still*
        and takes the class of its neighbours (a bus at a stop is part of the bus leg).
        ``walk_max_speed_mps``: still-to-walk speeds mark walk points. ``regime_window_s`` and
        ``regime_bounds_mps``: the peak of the speed over the window puts a moving fix in a speed
        regime (bike-like below 7.5 m/s, road, fast rail above 40 m/s); a change of regime splits a
        section even without a walk between, once the new regime has held for
        ``regime_min_duration_s``. ``min_section_duration_s``: shorter runs are merged into the run
        before them (the one after, at the start of a trip). ``transfer_min_s``: a walk run between
        two vehicle runs of a trip is a transfer only if it lasts this long (or the phone reported
        walking); shorter, it is the vehicle crawling in traffic (see ``sections``). The last two
        were chosen on two evaluations that pull in opposite directions (GeoLife end to end, where
        over-splitting dominates, and simulated days, where every walk is labelled), within the
        range a transfer takes: alighting, a walk of 50-300 m and a wait.

    Flights (``flights``)
        A signal gap covering ``flight_min_distance_m`` at an average speed between
        ``flight_min_speed_mps`` and ``flight_max_speed_mps`` is a flight, kept as a trip of its own
        instead of vanishing between two trips (phones are in aeroplane mode in flight). A section
        faster on average than ``max_speed_mps`` is kept only when it flew so (``impossible``): else
        it is GPS jumps, and its trip is dropped.

    Rides across a gap (``rides``)
        A signal gap of at most ``gap_ride_max_s`` crossed at an average of at least
        ``gap_ride_min_speed_mps`` (and below ``flight_min_speed_mps``) is a ride, kept as a trip of
        its own: underground, or with the tracker stopped in a vehicle.
    """

    max_accuracy_m: Positive = 100.0
    max_speed_mps: Positive = 100.0
    max_outlier_run_fixes: Annotated[int, msgspec.Meta(ge=1)] = 3
    tracker_window_s: Positive = 120.0
    stay_radius_m: Positive = 100.0
    stay_dwell_s: Positive = 300.0
    gap_s: Positive = 900.0
    min_trip_fixes: Annotated[int, msgspec.Meta(ge=1)] = 2
    speed_window_s: Positive = 30.0
    still_speed_mps: NonNegative = 0.6
    walk_max_speed_mps: Positive = 2.5
    regime_window_s: Positive = 180.0
    regime_bounds_mps: tuple[float, ...] = (7.5, 40.0)
    regime_min_duration_s: NonNegative = 600.0
    min_section_duration_s: NonNegative = 90.0
    transfer_min_s: NonNegative = 240.0
    flight_min_distance_m: Positive = 100_000.0
    flight_min_speed_mps: Positive = 80.0
    flight_max_speed_mps: Positive = 350.0
    gap_ride_min_speed_mps: Positive = 2.5
    gap_ride_max_s: Positive = 7200.0

    def __post_init__(self) -> None:
        if self.gap_s < self.stay_dwell_s:
            raise ValueError("gap_s must be at least stay_dwell_s: a gap between close fixes is a stay")
        if self.still_speed_mps >= self.walk_max_speed_mps:
            raise ValueError("still_speed_mps must be below walk_max_speed_mps")
        if self.flight_min_speed_mps >= self.flight_max_speed_mps:
            raise ValueError("flight_min_speed_mps must be below flight_max_speed_mps")
        if self.gap_ride_min_speed_mps >= self.flight_min_speed_mps:
            raise ValueError("gap_ride_min_speed_mps must be below flight_min_speed_mps")
        if list(self.regime_bounds_mps) != sorted(set(self.regime_bounds_mps)):
            raise ValueError("regime_bounds_mps must be strictly increasing")


DEFAULT_PARAMS = SegmentationParams()
