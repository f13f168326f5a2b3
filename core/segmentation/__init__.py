"""Segmentation: one user's fixes → cleaned fixes → stays → trips → sections (pure, vectorised)."""

from core.segmentation.params import DEFAULT_PARAMS, SegmentationParams
from core.segmentation.pipeline import segment
from core.segmentation.result import SectionBounds, Segmentation, Stay, Trip

__all__ = [
    "DEFAULT_PARAMS",
    "SectionBounds",
    "Segmentation",
    "SegmentationParams",
    "Stay",
    "Trip",
    "segment",
]
