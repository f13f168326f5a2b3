"""Labelled feature matrices from the three allowed sources: simulator, consented labels, GeoLife.

Every source goes through :func:`core.features.features_matrix`, the function serving uses.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import msgspec
import numpy as np
import numpy.typing as npt

from core.errors import BadRequest
from core.features import FEATURE_NAMES, features_matrix
from core.fixes import Activity
from core.history import DEFAULT_HISTORY, Answered, answer_weights
from core.simulate import MODES as SIM_MODES
from core.simulate import simulate_leg_track
from core.track import ACTIVITY_CODES, Track

F64 = npt.NDArray[np.float64]


def matrix_sha256(x: F64, y: npt.NDArray[np.str_]) -> str:
    """A model card's ``matrix_sha256``: the float64 feature matrix's bytes, then the labels, one a
    line, in UTF-8."""
    digest = hashlib.sha256(np.ascontiguousarray(x, dtype=np.float64).tobytes())
    digest.update("\n".join(y.tolist()).encode())
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Dataset:
    """Feature rows ``X``, their modes ``y``, a group per row (user) for user-wise splits, and how
    much each row counts in training (``weights``; every row in full when ``None``)."""

    X: F64
    y: npt.NDArray[np.str_]
    groups: npt.NDArray[np.str_]
    weights: F64 | None = None

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def sha256(self) -> str:
        return matrix_sha256(self.X, self.y)

    def class_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.y.tolist()).items()))

    def subset(self, mask: npt.NDArray[np.bool_]) -> Dataset:
        weights = None if self.weights is None else self.weights[mask]
        return Dataset(X=self.X[mask], y=self.y[mask], groups=self.groups[mask], weights=weights)

    def row_weights(self) -> F64:
        """How much each row counts: its weight, or 1."""
        return np.ones(len(self)) if self.weights is None else self.weights

    @staticmethod
    def concat(parts: Iterable[Dataset]) -> Dataset:
        items = [p for p in parts if len(p)]
        if not items:
            return Dataset(
                X=np.empty((0, len(FEATURE_NAMES))),
                y=np.empty(0, dtype=np.str_),
                groups=np.empty(0, dtype=np.str_),
            )
        weighed = any(p.weights is not None for p in items)
        return Dataset(
            X=np.vstack([p.X for p in items]),
            y=np.concatenate([p.y for p in items]),
            groups=np.concatenate([p.groups for p in items]),
            weights=np.concatenate([p.row_weights() for p in items]) if weighed else None,
        )


class SyntheticParams(msgspec.Struct, frozen=True, kw_only=True):
    sections_per_mode: int = 400
    seed: int = 0
    modes: tuple[str, ...] = SIM_MODES
    crop_prob: float = 0.4  # share of sections cropped to a random sub-window (imperfect segmentation)
    min_fixes: int = 3  # legs observed with fewer fixes (metro fully in tunnels) are not sections


def synthetic_dataset(params: SyntheticParams) -> Dataset:
    """Simulated single-mode legs, ``sections_per_mode`` of each mode, reproducible from the seed."""
    rng = np.random.default_rng(params.seed)
    rows: list[F64] = []
    labels: list[str] = []
    groups: list[str] = []
    for mode in params.modes:
        made = 0
        attempts = 0
        while made < params.sections_per_mode and attempts < 5 * params.sections_per_mode:
            attempts += 1
            sim = simulate_leg_track(mode, rng)
            n = len(sim.track)
            if n < params.min_fixes:
                continue
            start, end = 0, n
            if rng.random() < params.crop_prob and n >= 10:
                keep = int(n * rng.uniform(0.3, 0.9))
                start = int(rng.integers(0, n - keep + 1))
                end = start + keep
            rows.append(features_matrix(sim.track, [(start, end)])[0])
            labels.append(mode)
            groups.append(f"sim-{mode}-{made}")
            made += 1
    return Dataset(
        X=np.vstack(rows), y=np.asarray(labels, dtype=np.str_), groups=np.asarray(groups, dtype=np.str_)
    )


_CSV_REQUIRED = ("section_id", "ts", "lat", "lon", "mode")


def _opt_float(text: str | None) -> float:
    if text is None or text.strip() == "":
        return float("nan")
    return float(text)


def _tester_then_time(item: tuple[str, list[dict[str, str]]]) -> tuple[str, str, str]:
    """Sections grouped by tester, each tester's in time order (as evaluation reads a tester's
    sections, :func:`core.history.own_mix`), then by id; the earliest ``ts`` as written (ISO 8601
    with the same offset sorts as time, and a malformed one is reported when the section is read)."""
    sid, fixes = item
    return (fixes[0].get("user") or sid, min(f["ts"] for f in fixes), sid)


def labels_dataset(
    path: Path,
    *,
    known_modes: tuple[str, ...],
    skipped: Counter[str] | None = None,
    weigh_agreements: bool = False,
) -> Dataset:
    """Sections confirmed by consenting users, as CSV: ``section_id, ts (ISO 8601 with offset), lat,
    lon, mode`` and optionally ``accuracy_m, speed_mps, activity, user, shown_mode,
    shown_probability``. One section per id; its fixes are sorted by time; the section's mode must
    be the same on all its rows. Rows come tester by tester, each tester's sections in time order.

    With ``weigh_agreements``, where the file says which mode each section showed when the tester
    answered (as ``sillage labels export`` writes it), a section that only agreed with it counts as
    much as the tester's answers show attention, as in the history
    (:func:`core.history.answer_weights`, over all of the tester's sections in the file): the
    dataset's ``weights``. Otherwise every section counts in full (``weights`` ``None``): on the
    GeoLife subset, retraining on a pilot's answers with a third of testers tapping "looks right"
    blind, weighing them changed nothing measurable (``sillage models evaluate
    --retrain-on-answers``, README). The shown columns are checked either way.

    A section of a mode outside ``known_modes`` is refused, or with ``skipped`` left out and
    counted there by mode: testers may confirm modes the model does not learn (ferry, plane), and
    ``sillage labels export`` writes them as they were confirmed."""
    sections = labelled_rows(path, _CSV_REQUIRED)
    rows: list[F64] = []
    labels: list[str] = []
    groups: list[str] = []
    weights: list[float] = []
    unknown = ACTIVITY_CODES[Activity.UNKNOWN]
    weight_of = section_answer_weights(path, sections)
    for sid, fixes in sorted(sections.items(), key=_tester_then_time):
        modes = {f["mode"].strip().lower() for f in fixes}
        if len(modes) != 1:
            raise BadRequest(f"{path}: section {sid} has several modes {sorted(modes)}")
        mode = modes.pop()
        if mode not in known_modes:
            if skipped is None:
                raise BadRequest(f"{path}: section {sid} has unknown mode {mode!r}")
            skipped[mode] += 1
            continue
        try:
            fixes.sort(key=lambda f: datetime.fromisoformat(f["ts"]).timestamp())
            acts = [f.get("activity") or "" for f in fixes]
            track = Track(
                t_s=np.asarray([datetime.fromisoformat(f["ts"]).timestamp() for f in fixes]),
                lat=np.asarray([float(f["lat"]) for f in fixes]),
                lon=np.asarray([float(f["lon"]) for f in fixes]),
                accuracy_m=np.asarray([_opt_float(f.get("accuracy_m")) for f in fixes]),
                speed_mps=np.asarray([_opt_float(f.get("speed_mps")) for f in fixes]),
                activity=np.asarray(
                    [
                        ACTIVITY_CODES[Activity(a)] if a in Activity.__members__.values() else unknown
                        for a in acts
                    ],
                    dtype=np.int8,
                ),
            )
        except ValueError as exc:
            raise BadRequest(f"{path}: section {sid}: {exc}") from exc
        rows.append(features_matrix(track, [(0, len(track))])[0])
        labels.append(mode)
        groups.append(f"labels-{fixes[0].get('user') or sid}")
        weights.append(weight_of[sid])
    if not rows:
        raise BadRequest(f"{path}: no labelled section")
    return Dataset(
        X=np.vstack(rows),
        y=np.asarray(labels, dtype=np.str_),
        groups=np.asarray(groups, dtype=np.str_),
        weights=np.asarray(weights, dtype=np.float64) if weigh_agreements else None,
    )


def labelled_rows(path: Path, required: Sequence[str], *, hint: str = "") -> dict[str, list[dict[str, str]]]:
    """The rows of a labels CSV by ``section_id``, in file order; a file without every column of
    ``required`` is refused (``hint`` says how to get a right one)."""
    sections: dict[str, list[dict[str, str]]] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise BadRequest(f"{path}: missing columns {missing}{hint}")
        for row in reader:
            sections.setdefault(row["section_id"], []).append(row)
    return sections


def section_answer_weights(path: Path, sections: dict[str, list[dict[str, str]]]) -> dict[str, float]:
    """Each section's weight (:func:`core.history.answer_weights`, tester by tester, with the
    history's pseudocount), from its first row's ``shown_mode`` and ``shown_probability`` (unknown
    when either is empty or missing)."""
    by_tester: dict[str, list[tuple[str, Answered]]] = {}
    for sid, fixes in sorted(sections.items(), key=_tester_then_time):
        first = fixes[0]
        shown = (first.get("shown_mode") or "").strip().lower() or None
        raw = (first.get("shown_probability") or "").strip()
        try:
            p = float(raw) if raw else None
        except ValueError:
            raise BadRequest(f"{path}: section {sid}: shown_probability {raw!r} is not a number") from None
        if p is not None and not 0.0 <= p <= 1.0:
            raise BadRequest(f"{path}: section {sid}: shown_probability {raw!r} is not between 0 and 1")
        answer = Answered(
            mode=first["mode"].strip().lower(),
            shown_mode=shown if p is not None else None,
            shown_probability=p if shown is not None else None,
        )
        by_tester.setdefault(first.get("user") or sid, []).append((sid, answer))
    out: dict[str, float] = {}
    for answers in by_tester.values():
        weights = answer_weights([a for _, a in answers], DEFAULT_HISTORY.agreement_pseudocount)
        out.update({sid: float(w) for (sid, _), w in zip(answers, weights, strict=True)})
    return out


def geolife_dataset(
    path: Path,
    *,
    cache_dir: Path | None = None,
    modes: tuple[str, ...] | None = None,
    every_s: float | None = None,
) -> Dataset:
    """GeoLife sections cut at the labelled intervals (mapped modes), grouped by user; with
    ``every_s``, from tracks thinned to a fix per that many seconds (``models.geolife.thinned``).

    For deployers holding the GeoLife licence; never commit a model trained on it.
    """
    from models.geolife import labelled_sections, read_geolife

    parts: list[Dataset] = []
    for user in read_geolife(path, cache_dir=cache_dir, every_s=every_s):
        sections = [s for s in labelled_sections(user) if modes is None or s.mode in modes]
        if not sections:
            continue
        parts.append(
            Dataset(
                X=features_matrix(user.track, [(s.start, s.end) for s in sections]),
                y=np.asarray([s.mode for s in sections], dtype=np.str_),
                groups=np.asarray([user.user] * len(sections), dtype=np.str_),
            )
        )
    return Dataset.concat(parts)
