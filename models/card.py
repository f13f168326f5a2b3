"""The model card: what an artifact is, what it learned from, how well it did, and its checksum.

Written next to ``model.skops`` as ``card.json`` (STYLE habit 7, after Mitchell et al. 2019,
"Model Cards for Model Reporting", FAT*). The loader refuses an artifact whose card does not
match the file (sha256), the serving features (names and order) or the installed scikit-learn.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import msgspec


class TrainingData(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    description: str
    n_sections: int
    class_counts: dict[str, int]
    matrix_sha256: str  # sha256 of the float64 feature matrix bytes followed by the labels, UTF-8


class ContextCard(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The trip-context model shipped beside the mode model (:mod:`models.context`)."""

    file_sha256: str
    feature_names: tuple[str, ...]
    classes: tuple[str, ...]
    training_data: TrainingData
    metrics: dict[str, Any]


class ModelCard(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    version: str
    created: str  # ISO 8601 UTC
    python_version: str
    sklearn_version: str
    numpy_version: str
    skops_version: str
    estimator: str
    feature_names: tuple[str, ...]
    classes: tuple[str, ...]
    training_data: TrainingData
    metrics: dict[str, Any]
    model_sha256: str
    intended_use: str
    limitations: str
    context: ContextCard | None = None  # cards before 1.3.0 have none


_ENCODER = msgspec.json.Encoder(order="deterministic")
_DECODER = msgspec.json.Decoder(ModelCard)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_card(path: Path, card: ModelCard) -> None:
    path.write_bytes(msgspec.json.format(_ENCODER.encode(card), indent=2) + b"\n")


def read_card(path: Path) -> ModelCard:
    """Decode ``card.json``; raises ``msgspec.ValidationError``/``DecodeError`` or ``OSError``."""
    return _DECODER.decode(path.read_bytes())
