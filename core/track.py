"""A columnar track: one user's fixes as numpy arrays, the input of segmentation and features.

Columns are parallel arrays sorted by time. ``t_s`` is seconds since the Unix epoch (UTC).
Missing optional values are NaN (floats) or ``ACTIVITY_CODES["unknown"]`` (activity). ``source``
numbers the trackers that sent the fixes (0, 1, ... in the alphabetical order of their names), or is
None when one tracker sent them all, as in simulated and imported tracks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.fixes import Activity, Fix

F64 = npt.NDArray[np.float64]
I8 = npt.NDArray[np.int8]

ACTIVITY_CODES: dict[Activity, int] = {a: i for i, a in enumerate(Activity)}


@dataclass(frozen=True, slots=True)
class Track:
    t_s: F64
    lat: F64
    lon: F64
    accuracy_m: F64
    speed_mps: F64
    activity: I8
    source: I8 | None = None

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    def take(self, index: npt.NDArray[np.intp] | slice) -> Track:
        return Track(
            t_s=self.t_s[index],
            lat=self.lat[index],
            lon=self.lon[index],
            accuracy_m=self.accuracy_m[index],
            speed_mps=self.speed_mps[index],
            activity=self.activity[index],
            source=None if self.source is None else self.source[index],
        )

    @staticmethod
    def from_fixes(fixes: Sequence[Fix], sources: Sequence[str] | None = None) -> Track:
        """Build a time-sorted track from fixes (duplicates in time are kept as given); ``sources``,
        parallel to ``fixes``, names the tracker that sent each one (a stored fix's ``source``)."""
        order = sorted(range(len(fixes)), key=lambda i: fixes[i].ts)
        source: I8 | None = None
        if sources is not None and len(set(sources)) > 1:
            codes = {name: code for code, name in enumerate(sorted(set(sources)))}
            source = np.array([codes[sources[i]] for i in order], dtype=np.int8)
        nan = float("nan")
        unknown = ACTIVITY_CODES[Activity.UNKNOWN]
        return Track(
            t_s=np.array([fixes[i].ts.timestamp() for i in order], dtype=np.float64),
            lat=np.array([fixes[i].lat for i in order], dtype=np.float64),
            lon=np.array([fixes[i].lon for i in order], dtype=np.float64),
            accuracy_m=np.array(
                [nan if fixes[i].accuracy_m is None else fixes[i].accuracy_m for i in order], dtype=np.float64
            ),
            speed_mps=np.array(
                [nan if fixes[i].speed_mps is None else fixes[i].speed_mps for i in order], dtype=np.float64
            ),
            activity=np.array(
                [unknown if fixes[i].activity is None else ACTIVITY_CODES[fixes[i].activity] for i in order],  # type: ignore[index]
                dtype=np.int8,
            ),
            source=source,
        )
