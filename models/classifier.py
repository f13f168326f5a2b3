"""Loading the mode classifier: a verified skops artifact, or the documented heuristic fallback.

Artifacts live in ``models/artifacts/mode/<version>/`` as ``model.skops`` and ``card.json``.
:func:`load_classifier` takes the highest version (or the directory given), checks the card
against the file and the running code, and loads the pipeline with skops restricted to an explicit
list of trusted types (skops refuses anything else, so a tampered file cannot run code). Any
failure is logged with its reason and the heuristic of :mod:`models.heuristic` is returned, so
serving never stops for want of a model.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import msgspec
import numpy as np
import numpy.typing as npt

from core.features import FEATURE_NAMES
from models.card import ContextCard, ModelCard, read_card, sha256_file
from models.heuristic import HeuristicClassifier
from models.trees import FlatTrees, NotFlattenable

log = logging.getLogger(__name__)

F64 = npt.NDArray[np.float64]

# Every mode Sillage can output; a given model may know a subset (its card lists them).
MODES: tuple[str, ...] = ("walk", "bike", "ebike", "bus", "tram", "metro", "train", "car", "motorbike")
ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts" / "mode"
MODEL_FILE = "model.skops"
CARD_FILE = "card.json"
CONTEXT_FILE = "context.skops"  # the trip-context model (models.context), when the card lists one

# The only types skops may instantiate: the pipeline and gradient-boosting internals we train.
TRUSTED_TYPES: tuple[str, ...] = (
    "builtins.getattr",
    "collections.OrderedDict",
    "numpy.dtype",
    "numpy.ndarray",
    "numpy.random._pcg64.PCG64",
    "numpy.random.bit_generator.__pyx_unpickle_SeedSequence",
    "numpy.random.mtrand.RandomState",
    "sklearn._loss._loss.CyHalfMultinomialLoss",
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.MultinomialLogit",
    "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._label.LabelEncoder",
)


class ModeClassifier(Protocol):
    """What serving needs: the class order and calibrated-enough probabilities."""

    @property
    def classes(self) -> tuple[str, ...]: ...

    @property
    def version(self) -> str: ...

    def predict_proba(self, x: F64) -> F64: ...


# Batches up to this many rows run scikit-learn on one OpenMP thread: their parallel regions cost
# more than they save, and far more when other processes hold the cores.
SMALL_BATCH_ROWS = 2048


@functools.cache
def _threadpools() -> Any:
    """The process's thread pools, inspected once (each inspection walks the loaded libraries)."""
    from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]  # ships with scikit-learn, untyped

    return ThreadpoolController()


@dataclass(frozen=True, slots=True)
class ContextModel:
    """The loaded trip-context model (:mod:`models.context`): class probabilities of rows of
    :data:`models.context.CONTEXT_FEATURE_NAMES`."""

    pipeline: Any
    classes: tuple[str, ...]
    flat: FlatTrees | None = None

    def predict_proba(self, x: F64) -> F64:
        return _predict(self.pipeline, self.flat, len(self.classes), x, one_thread_rows=math.inf)


def _predict(pipeline: Any, flat: FlatTrees | None, n_classes: int, x: F64, *, one_thread_rows: float) -> F64:
    """Class probabilities of the rows of ``x``: from the flattened trees when there are, else from
    scikit-learn, on one thread for batches of at most ``one_thread_rows`` rows."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if x.shape[0] == 0:
        return np.empty((0, n_classes))
    if x.shape[0] == 1:
        # A lone row is both C- and F-contiguous, and scikit-learn's softmax then sums it in another
        # order than a row of a batch: its last bits differed from the same row's among others, so
        # the stored probabilities depended on how a step batched the sections (found by fuzzing
        # incremental steps). Predicted as a batch of two, it gets a batch's bits.
        return _predict(pipeline, flat, n_classes, np.vstack([x, x]), one_thread_rows=one_thread_rows)[:1]
    if flat is not None:
        return flat.predict_proba(x)
    if x.shape[0] <= one_thread_rows:
        with _threadpools().limit(limits=1, user_api="openmp"):
            return np.asarray(pipeline.predict_proba(x), dtype=np.float64)
    return np.asarray(pipeline.predict_proba(x), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class SklearnModeClassifier:
    """A loaded, verified artifact.

    ``flat`` is the same model flattened by :func:`flatten` (bit-identical probabilities, checked
    at load), which serving uses: it predicts a tester's few sections in about 1 ms instead of the
    ~5 ms scikit-learn spends walking its trees one call at a time. Without it, scikit-learn
    predicts, on one thread for small batches. ``context`` is the trip-context model shipped
    with it, if its card lists one (:func:`models.sections.classify` weighs by it).
    """

    pipeline: Any
    card: ModelCard
    flat: FlatTrees | None = None
    context: ContextModel | None = None

    @property
    def classes(self) -> tuple[str, ...]:
        return self.card.classes

    @property
    def version(self) -> str:
        return self.card.version

    def predict_proba(self, x: F64) -> F64:
        return _predict(self.pipeline, self.flat, len(self.classes), x, one_thread_rows=SMALL_BATCH_ROWS)


def flatten(pipeline: Any) -> FlatTrees | None:
    """``pipeline``'s gradient-boosting model as :class:`FlatTrees` when that reproduces its
    probabilities exactly on probe rows; otherwise None (logged), and scikit-learn serves."""
    steps = getattr(pipeline, "steps", None)
    if not steps or any(step not in {None, "passthrough"} for _, step in steps[:-1]):
        log.info("mode classifier: pipeline has preprocessing steps, served by scikit-learn")
        return None
    try:
        flat = FlatTrees.of(steps[-1][1])
    except NotFlattenable as exc:
        log.info("mode classifier: %s, served by scikit-learn", exc)
        return None
    if not flat.matches(pipeline, flat.probe()):
        log.warning("mode classifier: flattened trees disagree with scikit-learn, served by scikit-learn")
        return None
    return flat


class ArtifactError(Exception):
    """An artifact that must not be served; the message says why."""


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", name))


def latest_artifact(root: Path = ARTIFACTS_DIR) -> Path | None:
    """The artifact directory with the highest numeric version under ``root``, if any."""
    if not root.is_dir():
        return None
    found = [p for p in root.iterdir() if p.is_dir() and (p / CARD_FILE).exists()]
    return max(found, key=lambda p: _version_key(p.name)) if found else None


def _minor(version: str) -> tuple[int, ...]:
    return _version_key(version)[:2]


def verify_and_load(directory: Path) -> SklearnModeClassifier:
    """Load ``directory`` or raise :class:`ArtifactError` saying which check failed."""
    import sklearn

    try:
        card = read_card(directory / CARD_FILE)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ArtifactError(f"card.json unreadable: {exc}") from exc
    model_path = directory / MODEL_FILE
    _check_sha256(model_path, card.model_sha256, "model")
    if tuple(card.feature_names) != FEATURE_NAMES:
        raise ArtifactError("feature names differ from core.features.FEATURE_NAMES: retrain the model")
    if _minor(card.sklearn_version) != _minor(sklearn.__version__):
        raise ArtifactError(
            f"trained with scikit-learn {card.sklearn_version}, running {sklearn.__version__} (minor differs)"
        )
    pipeline = _load_trusted(model_path, "model")
    model_classes = tuple(str(c) for c in getattr(pipeline, "classes_", ()))
    if model_classes != tuple(card.classes):
        raise ArtifactError(f"model classes {model_classes} differ from the card's {card.classes}")
    context = _load_context(directory, card.context) if card.context is not None else None
    return SklearnModeClassifier(pipeline=pipeline, card=card, flat=flatten(pipeline), context=context)


def _check_sha256(path: Path, expected: str, what: str) -> None:
    """Raise :class:`ArtifactError` unless ``path`` reads and has the sha256 its card gives."""
    try:
        digest = sha256_file(path)
    except OSError as exc:
        raise ArtifactError(f"{what} file unreadable: {exc}") from exc
    if digest != expected:
        raise ArtifactError(f"{what} sha256 mismatch: card says {expected[:12]}, file is {digest[:12]}")


def _load_trusted(path: Path, what: str) -> Any:
    import skops.io as sio

    try:
        untrusted = set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES)
        if untrusted:
            raise ArtifactError(f"{what} holds untrusted types: {sorted(untrusted)}")
        return sio.load(path, trusted=list(TRUSTED_TYPES))
    except ArtifactError:
        raise
    except Exception as exc:  # skops raises many kinds (UntrustedTypesFoundException, ValueError...)
        raise ArtifactError(f"skops could not load the {what}: {type(exc).__name__}: {exc}") from exc


def _load_context(directory: Path, card: ContextCard) -> ContextModel:
    """The trip-context model the card lists (``card``: its part of the card), checked as the mode
    model is."""
    from models.context import CONTEXT_FEATURE_NAMES

    path = directory / CONTEXT_FILE
    _check_sha256(path, card.file_sha256, "context")
    if tuple(card.feature_names) != CONTEXT_FEATURE_NAMES:
        raise ArtifactError(
            "context feature names differ from models.context.CONTEXT_FEATURE_NAMES: retrain it"
        )
    pipeline = _load_trusted(path, "context model")
    classes = tuple(str(c) for c in getattr(pipeline, "classes_", ()))
    if classes != tuple(card.classes):
        raise ArtifactError(f"context classes {classes} differ from the card's {card.classes}")
    return ContextModel(pipeline=pipeline, classes=classes, flat=flatten(pipeline))


def load_classifier(path: Path | None = None) -> ModeClassifier:
    """The artifact at ``path`` (or the latest shipped one), else the heuristic fallback.

    Never raises: a missing, corrupt, tampered or incompatible artifact is logged at WARNING with
    the reason and :class:`models.heuristic.HeuristicClassifier` is returned.
    """
    directory = path if path is not None else latest_artifact()
    if directory is None:
        log.warning("mode classifier: no artifact under %s, using the speed heuristic", ARTIFACTS_DIR)
        return HeuristicClassifier()
    try:
        model = verify_and_load(directory)
    except ArtifactError as exc:
        log.warning("mode classifier: artifact %s rejected (%s), using the speed heuristic", directory, exc)
        return HeuristicClassifier()
    log.info("mode classifier: loaded %s version %s", directory, model.version)
    return model
