"""The documented fallback when no trained artifact loads: speed bands with soft probabilities.

e-mission's production mode inference (``emission/analysis/classification/inference/mode/
rule_engine.py``) is a rule engine: the phone's motion activity for walk and bike, speed
thresholds, and matching to transit stops for bus and train. Sillage's server has no transit-stop
data at this layer, so the fallback keeps the speed part: each mode has a band of typical
85th-percentile section speeds (from the same published figures as the simulator, see
:mod:`core.simulate.profiles`), and a section's probabilities fall off with the log-distance of
its speed to each band. The phone's own walk/bike/vehicle activity, when sent, is blended in.
It is deliberately simple and honest about its uncertainty: probabilities are never above ~0.8.
"""

from __future__ import annotations

import math

import msgspec
import numpy as np
import numpy.typing as npt

from core.features import FEATURE_NAMES

F64 = npt.NDArray[np.float64]


class SpeedBand(msgspec.Struct, frozen=True, kw_only=True):
    """Typical range of a section's 85th-percentile speed for one mode, m/s."""

    low_mps: float
    high_mps: float


class HeuristicParams(msgspec.Struct, frozen=True, kw_only=True):
    bands: dict[str, SpeedBand] = msgspec.field(
        default_factory=lambda: {
            "walk": SpeedBand(low_mps=0.5, high_mps=2.2),
            "bike": SpeedBand(low_mps=2.8, high_mps=6.5),
            "bus": SpeedBand(low_mps=6.0, high_mps=12.0),
            "car": SpeedBand(low_mps=9.0, high_mps=25.0),
            "metro": SpeedBand(low_mps=12.0, high_mps=20.0),
            "train": SpeedBand(low_mps=22.0, high_mps=45.0),
        }
    )
    sharpness: float = 6.0  # how fast probability falls outside a band, per unit of log-speed
    activity_weight: float = 0.5  # weight of the phone's activity shares when present
    floor: float = 0.02  # every mode keeps some probability


_ACTIVITY_TO_MODE = {
    "activity_walk_share": "walk",
    "activity_run_share": "walk",
    "activity_bike_share": "bike",
}


class HeuristicClassifier:
    """Speed-band classifier with the same interface as the trained one."""

    version = "heuristic-1"

    def __init__(self, params: HeuristicParams | None = None) -> None:
        self.params = params or HeuristicParams()
        self.classes: tuple[str, ...] = tuple(self.params.bands)
        self._col = {name: i for i, name in enumerate(FEATURE_NAMES)}

    def _speed_scores(self, speed: float) -> F64:
        if not math.isfinite(speed):
            return np.full(len(self.classes), 1.0 / len(self.classes))
        log_v = math.log(max(speed, 0.05))
        dist = []
        for mode in self.classes:
            band = self.params.bands[mode]
            lo, hi = math.log(band.low_mps), math.log(band.high_mps)
            dist.append(max(lo - log_v, 0.0, log_v - hi) + 0.15 * abs(log_v - 0.5 * (lo + hi)))
        scores = np.exp(-self.params.sharpness * np.asarray(dist))
        return np.asarray(scores / scores.sum(), dtype=np.float64)

    def predict_proba(self, x: F64) -> F64:
        """Class probabilities, shape ``(n, len(classes))``; a row without speed percentiles (a ride
        across a signal gap has two fixes) is placed by its average speed, and a row with neither
        gets a uniform row."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        out = np.empty((x.shape[0], len(self.classes)))
        vehicle = [i for i, m in enumerate(self.classes) if m not in {"walk", "bike"}]
        for r, row in enumerate(x):
            speed = float(row[self._col["speed_p85_mps"]])
            if not math.isfinite(speed):  # two fixes across a signal gap: no speed but the average
                speed = float(row[self._col["avg_speed_mps"]])
            p = self._speed_scores(speed)
            known = float(row[self._col["activity_known_share"]])
            if math.isfinite(known) and known > 0:
                act = np.zeros(len(self.classes))
                for name, mode in _ACTIVITY_TO_MODE.items():
                    share = float(row[self._col[name]])
                    if math.isfinite(share) and mode in self.classes:
                        act[self.classes.index(mode)] += share
                veh = float(row[self._col["activity_vehicle_share"]])
                if math.isfinite(veh):
                    act[vehicle] += veh * p[vehicle] / max(float(p[vehicle].sum()), 1e-9)
                if act.sum() > 0:
                    w = self.params.activity_weight * known
                    p = (1.0 - w) * p + w * act / act.sum()
            p = np.maximum(p, self.params.floor)
            out[r] = p / p.sum()
        return out
