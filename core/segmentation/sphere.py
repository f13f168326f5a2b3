"""Fixes as unit vectors, computed once per call and shared by every step of segmentation.

Four trigonometric passes over the track replace the haversine's eight at every distance; the
distances are the same great-circle distances (see :func:`core.geodesy.unit_vectors`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.geodesy import distance_from_chord2_m, unit_vectors

F64 = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class Sphere:
    x: F64
    y: F64
    z: F64

    @staticmethod
    def of(lat: F64, lon: F64) -> Sphere:
        x, y, z = unit_vectors(lat, lon)
        return Sphere(x=x, y=y, z=z)

    def take(self, index: IntArray) -> Sphere:
        return Sphere(x=self.x[index], y=self.y[index], z=self.z[index])

    def chord2(self, i: IntArray, j: IntArray) -> F64:
        """Squared chords between points ``i`` and ``j`` (index arrays of equal shape)."""
        out: F64 = (self.x[j] - self.x[i]) ** 2 + (self.y[j] - self.y[i]) ** 2 + (self.z[j] - self.z[i]) ** 2
        return out

    def distance_m(self, i: IntArray, j: IntArray) -> F64:
        return distance_from_chord2_m(self.chord2(i, j))

    def steps_m(self) -> F64:
        """Distance from each point to the next (length ``n - 1``)."""
        x, y, z = self.x, self.y, self.z
        return distance_from_chord2_m((x[1:] - x[:-1]) ** 2 + (y[1:] - y[:-1]) ** 2 + (z[1:] - z[:-1]) ** 2)
