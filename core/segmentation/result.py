"""What segmentation returns: stays, trips and their sections, as index ranges into the cleaned track.

Vocabulary after trackintel: positionfixes → staypoints (:class:`Stay`) → triplegs (here the
sections of a :class:`Trip`) → trips. All ranges are ``[start, end)`` indices into
:attr:`Segmentation.cleaned`, so features are computed on slices without copying.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import msgspec
import numpy as np
import numpy.typing as npt

from core.track import Track


class Stay(msgspec.Struct, frozen=True, kw_only=True):
    """A staypoint: fixes ``[start, end)`` within the stay radius of the first for the dwell time.

    ``lat``/``lon`` is the spherical mean of its fixes; ``t_start_s`` and ``t_end_s`` are the times of
    its first and last fix. ``complete`` is False for a stay still going on at the end of the track
    (its end will move when later fixes arrive).
    """

    start: int
    end: int
    lat: float
    lon: float
    t_start_s: float
    t_end_s: float
    complete: bool = True


class SectionBounds(msgspec.Struct, frozen=True, kw_only=True):
    """One section of a trip, fixes ``[start, end)``: one transport mode is assumed throughout."""

    start: int
    end: int


class Trip(msgspec.Struct, frozen=True, kw_only=True):
    """Fixes ``[start, end)`` between two stays (or a stay and a signal gap), cut into sections.

    ``origin_stay`` and ``destination_stay`` index :attr:`Segmentation.stays`; they are None where
    the trip begins or ends at a signal gap or at an edge of the track. ``complete`` is False for
    the trip still in progress at the end of the track. ``across_gap``: a flight or a ride across a
    signal gap (:mod:`.flights`, :mod:`.rides`), one section whose two fixes are all that was seen.
    """

    start: int
    end: int
    t_start_s: float
    t_end_s: float
    sections: tuple[SectionBounds, ...]
    origin_stay: int | None
    destination_stay: int | None
    complete: bool = True
    across_gap: bool = False

    def section_times(self, t_s: npt.NDArray[np.float64]) -> list[tuple[float, float]]:
        """When each section began and ended (``t_s``: the cleaned track's times): from its first
        fix to the next section's first, the last to its own last fix. The hop between two
        sections belongs to the one before, as its distance does (:mod:`core.trips`): a metro ride
        without signal is the one fix before the gap and the gap, not a section of 0 s."""
        last = len(self.sections) - 1
        return [
            (float(t_s[b.start]), float(t_s[b.end if k < last else b.end - 1]))
            for k, b in enumerate(self.sections)
        ]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Segmentation:
    """The result of :func:`core.segmentation.segment`.

    ``kept`` is the cleaning mask over the input track and ``cleaned`` the kept fixes; every index
    in ``stays`` and ``trips`` points into ``cleaned``.

    ``complete_until_s`` tells an incremental caller what is final: every item marked complete
    ends before it, and re-running :func:`segment` on the fixes at or after it (with any new ones)
    reproduces the incomplete items. It is the time of the first fix of the open tail, ``-inf`` for
    an empty track, and just after the last fix when a closing gap was observed (``now_s``).
    """

    kept: npt.NDArray[np.bool_]
    cleaned: Track
    stays: tuple[Stay, ...]
    trips: tuple[Trip, ...]
    complete_until_s: float = -math.inf

    @property
    def open_tail(self) -> bool:
        """Something at the end is not final yet: a later fix, or a signal gap, will tell."""
        return bool(self.cleaned.t_s.size) and self.complete_until_s <= float(self.cleaned.t_s[-1])
