"""Restarting at a signal gap: when segmenting from the fix after a gap gives what one pass gives.

The pipeline processes a history in steps, each segmenting again from a point where one pass over
the whole history cuts too, so that what it rebuilds from there is one pass's and what lies before
stays as it was: the start of a stay that ended before the change. A history without stays (a
tracker that logs only when moving, off between far-apart places) has none, and a step whose window
could not reach past the trip under way read the same window again, then one fix in ten, and built
stays across gaps from those. The first fix after a signal gap is such a point too, when nothing on
one side of the gap changes the result on the other. Stage by stage:

- accuracy and repeated instants are judged fix by fix; the choice between trackers within a
  tracker window of each fix, shorter than a gap.
- the excursion rule (:mod:`.cleaning`) looks across a gap: a jump drops up to
  ``max_outlier_run_fixes`` fixes beside it, and whether the run of fixes between two jumps is
  short counts those on both sides (a phone waking 2 km off after a gap is a case it was written
  for). So no jump among the ``max_outlier_run_fixes + 1`` fixes either side of the gap, nor across
  it: the run around the gap is long both ways, the nearest jumps drop nothing beyond the fix
  before the gap, and from the fix after it on, every decision is made on the same fixes.
- windows (:mod:`.staypoints`): the fix after the gap opens a window if it lies beyond the stay
  radius of the anchor of the window before, which the fixes before it placed, from however far
  back (close to the fix before the gap, the gap may be a stay). That is not for these fixes to
  say but for what was stored: the fix after the gap began a stay, a trip or the open tail when
  it was first segmented with the fixes before it, which have not changed since.
- trips (:mod:`.trips`): a gap ends the item before it, and the trip after it has no origin stay,
  as the first trip of a step has none: the same rows (their ids come from start times).
- flights (:mod:`.flights`): a gap an aeroplane crosses is a trip from the fix before it, and hops
  with airborne fixes between are one flight; a gap crossed below ``flight_min_speed_mps`` is
  neither, nor a piece of one (short of a phone airborne on both sides of a slow gap).
- rides (:mod:`.rides`): a gap ridden underground or with the tracker stopped is a trip from the
  fix before it too, so no cut.
- sections and their classification are computed within a trip.

The pipeline restarts only where a stored stay or trip, or the open tail, began right after a
gap (so the windows cut there), reads the fixes around it (:func:`fixes_either_side` each side,
with a tracker context beyond them), asks :func:`gap_cut` where the item before the gap ends, and
checks that the rows it keeps before the gap end there (built before later fixes came, cleaning may
have set their last fixes aside).
"""

from __future__ import annotations

import numpy as np

from core.geodesy import haversine_m
from core.segmentation.cleaning import step_speeds, trusted
from core.segmentation.params import SegmentationParams
from core.segmentation.rides import is_gap_ride
from core.segmentation.sphere import Sphere
from core.track import Track


def fixes_either_side(params: SegmentationParams) -> int:
    """How many fixes either side of a gap :func:`gap_cut` judges: twice the run it needs, for the
    fixes cleaning may set aside (inaccurate, or another tracker's)."""
    return 2 * (params.max_outlier_run_fixes + 1)


def gap_cut(track: Track, start_s: float, params: SegmentationParams) -> float | None:
    """Where the item before a signal gap ends (the time of its last fix) when cleaning, flights and
    what follows give, from ``start_s`` (the first fix after the gap) on, what one pass gives
    (module docstring); None when that cannot be shown from these fixes. Whether the windows cut
    there is for the caller to know.

    ``track`` holds the :func:`fixes_either_side` fixes before ``start_s`` and from it on, and every
    fix within ``1.5 * tracker_window_s`` beyond them (what the choice between trackers reads).
    """
    t = track.t_s
    first = int(np.searchsorted(t, start_s, side="left"))
    side = fixes_either_side(params)
    judged = trusted(track, params)
    judged = judged[(judged >= first - side) & (judged < first + side)]
    after = int(np.searchsorted(t[judged], start_s, side="left"))
    need = params.max_outlier_run_fixes + 1
    if after < need or judged.size - after < need:
        return None
    run = judged[after - need : after + need]
    speeds = step_speeds(t, Sphere.of(track.lat, track.lon), run)
    before, first_after = int(run[need - 1]), int(run[need])
    if bool(np.any(speeds > params.max_speed_mps)) or speeds[need - 1] >= params.flight_min_speed_mps:
        return None
    crossing = float(t[first_after] - t[before])
    # The fix after the gap must be the one that began what follows (still kept: another tracker's
    # late fixes may have displaced it).
    if t[first_after] != start_s or crossing <= params.gap_s:
        return None
    apart = haversine_m(track.lat[before], track.lon[before], track.lat[first_after], track.lon[first_after])
    if is_gap_ride(np.asarray([apart], dtype=np.float64), np.asarray([crossing]), params)[0]:
        return None  # a ride across the gap is a trip from the fix before it, as a flight is
    return float(t[before])
