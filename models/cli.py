"""``sillage simulate`` and ``sillage models train|evaluate|calibrate``: argparse wiring for api/cli.py.

:func:`register` adds the sub-commands to the main parser's sub-parsers; each handler has the
``(args, settings) -> exit code`` shape of ``api.cli`` and ignores the settings (no database).
Results go to stdout (JSON for evaluate), progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from core.errors import BadRequest, ConfigurationError

ARTIFACTS_ROOT = Path(__file__).resolve().parent / "artifacts"


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_simulate(args: argparse.Namespace, _settings: object = None) -> int:
    """Write simulated, labelled days as CSV or GPX (one file per user when ``--users`` > 1)."""
    from core.simulate import simulate_days
    from core.simulate.days import SimulatedTrack
    from core.simulate.formats import to_csv, to_gpx

    out: Path = args.out
    fmt = args.format or ("gpx" if out.suffix.lower() == ".gpx" else "csv")
    per_user: dict[int, list[SimulatedTrack]] = {}
    for day in simulate_days(users=args.users, days=args.days, seed=args.seed):
        per_user.setdefault(day.user, []).append(day.sim)
    for user, sims in per_user.items():
        merged = _merge(sims)
        path = out if args.users == 1 else out.with_name(f"{out.stem}-user{user}{out.suffix or '.' + fmt}")
        text = to_gpx(merged, name=f"sillage simulation user {user}") if fmt == "gpx" else to_csv(merged)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        _progress(f"wrote {path} ({len(merged.track)} fixes, {len(merged.legs)} legs)")
    return 0


def _merge(sims: list[Any]) -> Any:
    import numpy as np

    from core.simulate.days import SimulatedLeg, SimulatedTrack
    from core.track import Track

    offset = 0
    legs: list[SimulatedLeg] = []
    for sim in sims:
        legs.extend(
            SimulatedLeg(start=leg.start + offset, end=leg.end + offset, mode=leg.mode) for leg in sim.legs
        )
        offset += len(sim.track)
    cols = {
        name: np.concatenate([getattr(s.track, name) for s in sims])
        for name in ("t_s", "lat", "lon", "accuracy_m", "speed_mps", "activity")
    }
    return SimulatedTrack(
        track=Track(**cols), labels=np.concatenate([s.labels for s in sims]), legs=tuple(legs)
    )


def _is_inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def _labels_part(path: Path, modes: tuple[str, ...], *, weigh_agreements: bool) -> tuple[Any, str]:
    """The labels file at ``path`` as training data (modes outside ``modes`` left out, and said;
    answers that only agreed with the mode shown weighed with ``weigh_agreements``), and how the
    model card names it."""
    from models.dataset import labels_dataset

    skipped: Counter[str] = Counter()
    labelled = labels_dataset(path, known_modes=modes, skipped=skipped, weigh_agreements=weigh_agreements)
    source = f"user-confirmed labels from {path.name}"
    light = labelled.row_weights() < 1.0
    if light.any():
        source += " (answers that only agreed with the mode shown weighed by attention)"
        _progress(
            f"{int(light.sum())} labelled sections only agreed with the mode shown, from testers who"
            f" rarely correct it: they weigh {float(labelled.row_weights()[light].mean()):.2f} on average"
        )
    if skipped:
        left = ", ".join(f"{mode}: {n}" for mode, n in sorted(skipped.items()))
        _progress(
            f"left out {sum(skipped.values())} labelled sections of modes the model does not learn ({left})"
        )
    return labelled, source


def cmd_train(args: argparse.Namespace, _settings: object = None) -> int:
    """Train on synthetic sections (+ consented labels, + GeoLife for licence holders) and write the
    artifact to ``--out``; held-out synthetic metrics (and GeoLife ones with ``--eval-geolife``) go
    in the card."""
    from models.classifier import SklearnModeClassifier
    from models.dataset import Dataset, SyntheticParams, geolife_dataset, synthetic_dataset
    from models.evaluate import evaluate_classifier, predict_labels
    from models.metrics import classification_report
    from models.train import FitParams, fit_pipeline, write_artifact

    out: Path = args.out
    if args.geolife is not None and _is_inside(out, ARTIFACTS_ROOT):
        raise ConfigurationError(
            "a model trained on GeoLife (research licence) must not be written under models/artifacts: "
            "choose an --out outside the repository"
        )
    sim_params = SyntheticParams(sections_per_mode=args.synthetic, seed=args.seed)
    parts = []
    sources = []
    if args.synthetic > 0:
        _progress(f"simulating {args.synthetic} sections per mode (seed {args.seed})")
        parts.append(synthetic_dataset(sim_params))
        sources.append(f"{args.synthetic} simulated sections per mode from core.simulate (seed {args.seed})")
    if args.labels is not None:
        labelled, source = _labels_part(args.labels, sim_params.modes, weigh_agreements=args.weigh_agreements)
        parts.append(labelled)
        sources.append(source)
    if args.geolife is not None:
        parts.append(geolife_dataset(args.geolife, cache_dir=args.cache))
        sources.append("GeoLife 1.3 labelled intervals (Microsoft Research licence, non-commercial)")
    data = Dataset.concat(parts)
    if len(data) == 0:
        raise BadRequest("no training data: give --synthetic N > 0, --labels or --geolife")
    _progress(f"fitting on {len(data)} sections {data.class_counts()}")
    pipeline = fit_pipeline(data, FitParams(seed=args.seed))
    metrics: dict[str, Any] = {}
    if args.synthetic > 0:
        held = synthetic_dataset(
            SyntheticParams(sections_per_mode=max(args.synthetic // 4, 20), seed=args.seed + 1)
        )
        pred = predict_labels(_Fitted(pipeline), held.X)
        metrics["held_out_synthetic"] = classification_report(held.y, pred, labels=sim_params.modes)
    version = args.version or out.name
    limitations = (
        "Trained on simulated kinematics calibrated on published speeds (mostly French cities), with "
        "spreads widened and receivers' pauses while standing still modelled after comparing per-mode "
        "aggregate feature medians with the GeoLife development subset (no GeoLife trajectory or label "
        "is in the training data). Real traces differ (congestion, "
        "GPS quality, duty cycling): on GeoLife users the section macro-F1 is about 0.5 (see metrics), "
        "far below the held-out synthetic figure. Modes with similar kinematics (bus/tram/metro, "
        "bike/e-bike, car/motorbike/train) are often confused; metro in tunnels is hard. No map or "
        "transit-stop data is used."
    )
    card = write_artifact(
        pipeline,
        out,
        version=version,
        training=data,
        description="; ".join(sources),
        metrics=metrics,
        limitations=limitations,
    )
    if args.eval_geolife is not None:
        from models.card import sha256_file, write_card
        from models.classifier import MODEL_FILE

        gl = geolife_dataset(args.eval_geolife, cache_dir=args.cache)
        report = evaluate_classifier(SklearnModeClassifier(pipeline=pipeline, card=card), gl)
        metrics["geolife_sections"] = report
        card = type(card)(
            **{
                **{f: getattr(card, f) for f in card.__struct_fields__},
                "metrics": metrics,
                "model_sha256": sha256_file(out / MODEL_FILE),
            }
        )
        write_card(out / "card.json", card)
    print(json.dumps({"artifact": str(out), "version": card.version, "metrics": _summary(metrics)}, indent=2))
    return 0


class _Fitted:
    """A just-fitted pipeline seen through the classifier protocol (for held-out metrics)."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        self.classes: tuple[str, ...] = tuple(str(c) for c in pipeline.classes_)
        self.version = "unsaved"

    def predict_proba(self, x: Any) -> Any:
        return self.pipeline.predict_proba(x)


def _summary(metrics: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, m in metrics.items():
        if "accuracy" in m:
            out[name] = {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"]}
        else:
            out[name] = {
                k: {"accuracy": v["accuracy"], "macro_f1": v["macro_f1"]}
                for k, v in m.items()
                if isinstance(v, dict) and "macro_f1" in v
            }
    return out


CONTEXT_LIMITATIONS = (
    " Trip context (context.skops, models/context.py): each section is weighed by the mode model's"
    " view of the sections before and after it in its trip, as learnt on simulated whole days: what"
    " it knows of trips (transit between walks, cars and bikes door to door, how often a ride is"
    " alone in its trip) is the simulator's. On GeoLife, where signal gaps often leave a ride alone in"
    " its trip, it raised end-to-end figures but lowers train and walk slightly; it has no effect on"
    " a section cut out of its trip (the per-section figures above)."
)


def cmd_train_context(args: argparse.Namespace, _settings: object = None) -> int:
    """Fit the trip-context model (:mod:`models.context`) for the mode model at ``--model`` on
    simulated whole days, and write both as a new artifact at ``--out`` (the mode model copied
    byte for byte, its card with the context model's); held-out simulated days (``--seed`` + 1)
    give the card's metrics."""
    import platform
    import shutil
    import zipfile
    from datetime import UTC, datetime

    import msgspec
    import numpy as np
    import skops.io as sio

    from models.card import ContextCard, TrainingData, sha256_file, write_card
    from models.classifier import CARD_FILE, CONTEXT_FILE, MODEL_FILE, ArtifactError, verify_and_load
    from models.context import CONTEXT_FEATURE_NAMES, fit_context, simulated_context, weigh
    from models.dataset import matrix_sha256
    from models.metrics import brief, classification_report

    out: Path = args.out
    if out.resolve() == args.model.resolve():
        raise BadRequest("--out must be a new artifact directory, not --model")
    try:
        mode = verify_and_load(args.model)
    except ArtifactError as exc:
        raise ConfigurationError(f"{args.model}: {exc}") from exc
    _progress(f"simulating {args.users} users x {args.days} days (seed {args.seed}), segmenting, classifying")
    data = simulated_context(mode, users=args.users, days=args.days, seed=args.seed)
    _progress(f"fitting the context model on {len(data.y)} sections")
    pipeline = fit_context(data, seed=args.seed)
    classes = tuple(str(c) for c in pipeline.classes_)
    held = simulated_context(mode, users=max(args.users // 2, 1), days=args.days, seed=args.seed + 1)
    names = np.asarray(held.classes)
    weighed = weigh(held.proba, held.classes, pipeline.predict_proba(held.X), classes)
    modes = tuple(m for m in classes if (held.y == m).any())
    metrics: dict[str, Any] = {
        "held_out_simulated_days": {
            "sections": len(held.y),
            "mode_model": brief(
                classification_report(held.y, names[np.argmax(held.proba, axis=1)], labels=modes)
            ),
            "with_context": brief(
                classification_report(held.y, names[np.argmax(weighed, axis=1)], labels=modes)
            ),
        }
    }
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.model / MODEL_FILE, out / MODEL_FILE)
    sio.dump(pipeline, out / CONTEXT_FILE, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    context = ContextCard(
        file_sha256=sha256_file(out / CONTEXT_FILE),
        feature_names=CONTEXT_FEATURE_NAMES,
        classes=classes,
        training_data=TrainingData(
            description=(
                f"{args.users} users x {args.days} simulated whole days from core.simulate.simulate_days "
                f"(seed {args.seed}), segmented by core.segmentation.segment and classified by mode model "
                f"{mode.version}; label: the majority simulated mode of each section"
            ),
            n_sections=len(data.y),
            class_counts={m: int((data.y == m).sum()) for m in classes},
            matrix_sha256=matrix_sha256(data.X, data.y),
        ),
        metrics=metrics,
    )
    card = msgspec.structs.replace(
        mode.card,
        version=args.version or out.name,
        created=datetime.now(UTC).replace(microsecond=0).isoformat(),
        python_version=platform.python_version(),
        context=context,
        # A mode artifact that already ships a context (rebuilding 1.3.0) says so once, not twice.
        limitations=mode.card.limitations.removesuffix(CONTEXT_LIMITATIONS) + CONTEXT_LIMITATIONS,
    )
    write_card(out / CARD_FILE, card)
    print(json.dumps({"artifact": str(out), "version": card.version, "metrics": metrics}, indent=2))
    return 0


def cmd_evaluate(args: argparse.Namespace, _settings: object = None) -> int:
    """Print one JSON object: ``classifier``, ``calibration``, ``end_to_end``, ``personal_history``,
    ``asking`` and, with
    ``--cv-users K``, ``user_cv``; with ``--cv-random K``, ``random_cv``; with ``--transit-proxy``,
    ``transit_proxy``; with ``--retrain-on-answers N``, ``retraining_on_answers``. With ``--labels
    CSV`` instead of ``--geolife``: the model on the sections testers confirmed
    (:func:`models.evaluate.evaluate_labels`)."""
    from models.classifier import load_classifier
    from models.dataset import SyntheticParams, geolife_dataset, synthetic_dataset
    from models.evaluate import (
        cross_validate_random,
        cross_validate_users,
        evaluate_asking,
        evaluate_calibration,
        evaluate_classifier,
        evaluate_end_to_end,
        evaluate_labels,
        evaluate_retraining,
        evaluate_transit_proxy,
        evaluate_with_history,
    )
    from models.geolife import read_geolife

    modes = tuple(m.strip() for m in args.cv_synthetic_modes.split(",") if m.strip())
    unknown = sorted(set(modes) - set(SyntheticParams().modes))
    if unknown:
        raise BadRequest(f"--cv-synthetic-modes: unknown modes {unknown}")
    model = load_classifier(args.model)
    if args.labels is not None:
        print(json.dumps(evaluate_labels(model, args.labels), indent=2))
        return 0
    if args.every is not None and not args.every > 0:
        raise BadRequest(f"--every: a positive number of seconds, not {args.every}")
    data = geolife_dataset(args.geolife, cache_dir=args.cache, every_s=args.every)
    if len(data) == 0:
        raise BadRequest(f"{args.geolife}: no labelled GeoLife section (expected .../Data/<user>/labels.txt)")
    result: dict[str, Any] = {
        "dataset": str(args.geolife),
        "every_s": args.every,
        "classifier": evaluate_classifier(model, data),
        "calibration": evaluate_calibration(model, data),
    }
    if args.skip_end_to_end:
        result["end_to_end"] = {"available": False, "reason": "skipped (--skip-end-to-end)"}
    else:
        result["end_to_end"] = evaluate_end_to_end(
            model, read_geolife(args.geolife, cache_dir=args.cache, every_s=args.every)
        )
    shares = {"every_trip_confirmed": 1.0, "one_trip_in_four_confirmed": 0.25}
    with_history = evaluate_with_history(
        model,
        read_geolife(args.geolife, cache_dir=args.cache, every_s=args.every),
        shares=tuple(shares.values()),
        seed=args.seed,
        end_to_end=not args.skip_end_to_end,
    )
    result["personal_history"] = dict(zip(shares, with_history, strict=True))
    result["asking"] = evaluate_asking(
        model,
        read_geolife(args.geolife, cache_dir=args.cache, every_s=args.every),
        seed=args.seed,
        end_to_end=not args.skip_end_to_end,
    )
    if args.transit_proxy:
        users = read_geolife(args.geolife, cache_dir=args.cache, every_s=args.every)
        result["transit_proxy"] = evaluate_transit_proxy(model, users, end_to_end=not args.skip_end_to_end)
    if args.retrain_on_answers:
        _progress(f"simulating {args.retrain_on_answers} sections per mode (seed 0) to retrain with answers")
        result["retraining_on_answers"] = evaluate_retraining(
            model,
            read_geolife(args.geolife, cache_dir=args.cache, every_s=args.every),
            synthetic_dataset(SyntheticParams(sections_per_mode=args.retrain_on_answers, seed=0)),
            seed=args.seed,
        )
    if args.cv_random:
        result["random_cv"] = cross_validate_random(data, folds=args.cv_random, seed=args.seed)
    if args.cv_users:
        result["user_cv"] = cross_validate_users(data, folds=args.cv_users)
        if args.cv_synthetic > 0:
            extra = synthetic_dataset(
                SyntheticParams(sections_per_mode=args.cv_synthetic, seed=args.seed, modes=modes)
            )
            result["user_cv_with_synthetic"] = cross_validate_users(
                data, folds=args.cv_users, extra_training=extra
            )
    print(json.dumps(result, indent=2))
    return 0


def cmd_calibrate(args: argparse.Namespace, _settings: object = None) -> int:
    """Fit :mod:`core.calibration`'s map on the answers of ``--labels`` about the sections the model
    (``--model``, default the latest shipped) showed; print the report (JSON) and, with ``--out``,
    write the calibration that ``SILLAGE_CALIBRATION`` reads."""
    import msgspec

    from models.calibrate import ENOUGH_ANSWERS, calibration_report, read_answers
    from models.classifier import load_classifier

    version = args.model_version or load_classifier(args.model).version
    answers = read_answers(args.labels, model_version=version)
    fitted, report = calibration_report(answers, version)
    if not report["enough"]:
        _progress(
            f"warning: {fitted.answers} answers from {fitted.testers} testers: too few to trust the fit "
            f"(at least {ENOUGH_ANSWERS} from two testers or more); check held_out before serving it"
        )
    if args.out is not None:
        args.out.write_bytes(msgspec.json.format(msgspec.json.encode(fitted), indent=2) + b"\n")
        _progress(f"wrote {args.out}: set SILLAGE_CALIBRATION={args.out.resolve()} and restart the service")
    print(json.dumps(report, indent=2))
    return 0


def register(subparsers: Any) -> None:
    """Add ``simulate`` and ``models {train,evaluate,calibrate}`` to an argparse sub-parsers object."""
    sim = subparsers.add_parser("simulate", help="write simulated, labelled days (CSV or GPX)")
    sim.add_argument("--users", type=int, default=1)
    sim.add_argument("--days", type=int, default=1)
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--format", choices=("csv", "gpx"), help="default: from the --out suffix")
    sim.add_argument("--out", type=Path, required=True, help="output file (per-user suffix when --users > 1)")
    sim.set_defaults(func=cmd_simulate)

    models = subparsers.add_parser("models", help="train and evaluate the transport-mode classifier")
    msub = models.add_subparsers(dest="models_command", required=True)
    train = msub.add_parser("train", help="train an artifact (synthetic data, consented labels, GeoLife)")
    train.add_argument("--synthetic", type=int, default=2000, metavar="N", help="simulated sections per mode")
    train.add_argument(
        "--labels", type=Path, help="CSV of user-confirmed sections (section_id,ts,lat,lon,mode...)"
    )
    train.add_argument(
        "--weigh-agreements",
        action="store_true",
        help="with --labels: labels that only agreed with the mode shown count as much as their tester's "
        "answers show attention, as in the history (not shown to help a retrained model: README)",
    )
    train.add_argument("--geolife", type=Path, help="GeoLife 1.3 zip or folder (licence holders only)")
    train.add_argument("--eval-geolife", type=Path, help="score on GeoLife and record it in the card")
    train.add_argument("--cache", type=Path, help="cache parsed GeoLife here (outside the repository)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--version", help="default: the --out directory name")
    train.add_argument("--out", type=Path, required=True, help="artifact directory to write")
    train.set_defaults(func=cmd_train)

    ctx = msub.add_parser(
        "train-context",
        help="fit the trip-context model for a mode model on simulated days; write both as a new artifact",
    )
    ctx.add_argument("--model", type=Path, required=True, help="mode artifact directory to read")
    ctx.add_argument("--out", type=Path, required=True, help="new artifact directory to write")
    ctx.add_argument("--users", type=int, default=200, help="simulated users")
    ctx.add_argument("--days", type=int, default=5, help="simulated days per user")
    ctx.add_argument("--seed", type=int, default=11)
    ctx.add_argument("--version", help="default: the --out directory name")
    ctx.set_defaults(func=cmd_train_context)

    ev = msub.add_parser(
        "evaluate", help="score a model on GeoLife, or on testers' confirmed sections; prints one JSON object"
    )
    source = ev.add_mutually_exclusive_group(required=True)
    source.add_argument("--geolife", type=Path, help="GeoLife zip or folder, or a collection in its format")
    source.add_argument(
        "--labels",
        type=Path,
        metavar="CSV",
        help="sections testers confirmed (sillage labels export): the model on the deployment's own "
        "traces; keep out of it any label the model was trained on",
    )
    ev.add_argument("--model", type=Path, help="artifact directory (default: latest shipped)")
    ev.add_argument("--cache", type=Path, help="cache parsed GeoLife here (outside the repository)")
    ev.add_argument("--cv-users", type=int, default=0, metavar="K", help="also K-fold CV grouped by user")
    ev.add_argument(
        "--cv-random",
        type=int,
        default=0,
        metavar="K",
        help="also K-fold CV over shuffled sections, users on both sides: the published protocol, "
        "for comparison only",
    )
    ev.add_argument(
        "--cv-synthetic",
        type=int,
        default=0,
        metavar="N",
        help="with --cv-users: also CV with N simulated sections per mode added to training",
    )
    ev.add_argument(
        "--cv-synthetic-modes",
        default="walk,bike,bus,car,train,metro",
        help="with --cv-synthetic: the simulated modes added (comma-separated), e.g. 'walk' alone to "
        "teach walk when the only user with walk labels is held out",
    )
    ev.add_argument(
        "--every",
        type=float,
        metavar="S",
        help="score traces thinned to one fix per S seconds, as a sparser tracker logs them (e-mission "
        "on Android: 30)",
    )
    ev.add_argument(
        "--retrain-on-answers",
        type=int,
        default=0,
        metavar="N",
        help="also score models retrained on N simulated sections per mode (2000 for the shipped one) "
        "plus the answers of the other users asked as a pilot's testers, a third tapping 'looks right' "
        "without looking, user-wise 6-fold (minutes per fold)",
    )
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--skip-end-to-end", action="store_true")
    ev.add_argument(
        "--transit-proxy",
        action="store_true",
        help="also score the transit-network evidence with stops learnt from the other users' sections",
    )
    ev.set_defaults(func=cmd_evaluate)
    _register_calibrate(msub)


def _register_calibrate(msub: Any) -> None:
    cal = msub.add_parser(
        "calibrate",
        help="fit the probability shown on testers' answers (core.calibration)",
        description="Fit the map that makes the probability shown for a section's mode mean what it "
        "says, on the answers in a `sillage labels export` file about the sections a model showed.",
    )
    cal.add_argument("--labels", type=Path, required=True, help="CSV written by sillage labels export")
    which = cal.add_mutually_exclusive_group()
    which.add_argument("--model", type=Path, help="artifact directory (default: latest shipped)")
    which.add_argument("--model-version", help="the version of the model that showed the modes")
    cal.add_argument("--out", type=Path, help="write the calibration here (for SILLAGE_CALIBRATION)")
    cal.set_defaults(func=cmd_calibrate)
