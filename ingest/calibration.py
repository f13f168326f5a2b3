"""Showing every section's probability as the deployment's calibration says: ``sillage pipeline
recalibrate``.

The pipeline calibrates the sections it builds (:mod:`core.calibration`, ``SILLAGE_CALIBRATION``);
sections built before a calibration was installed, or under an earlier one, keep what they showed
until reprocessed, so a tester's week would mix calibrated and uncalibrated figures. This maps them
again, tester by tester, each in its own transaction (waiting for a pipeline step that holds the
tester, as a confirmation does): each section's probabilities before calibration are recovered
from what it shows and ``sections.uncalibrated`` (:func:`core.calibration.uncalibrated`), then
calibrated if it was built by the model the calibration was fitted for, else left uncalibrated.
Without a calibration it takes every section back to what the model gave. The modes, and so the
footprints, never change; sections the tester confirmed are left alone. Running it again gives the
same figures (to the 4 decimals stored), and rewrites only the sections whose figures change.

A pass records the calibration it mapped with once every tester is done (migration 0029), and
the API process's pipeline worker, started with a calibration other than the recorded one, runs
one in the background (:func:`recalibrate_if_changed`): installing a calibration and restarting
is enough. One pass at a time across processes (an advisory lock); a pass cut short records
nothing, and the next start maps again.
"""

from __future__ import annotations

import msgspec
import numpy as np

from core import calibration
from core.calibration import ConfidenceCalibration
from core.history import ASK_BELOW
from core.trips import shown_probabilities
from store import coaching as coaching_db
from store import pipeline as pipeline_db
from store import trips as trips_db
from store.partition import Conn, as_user, exists


class Recalibrated(msgspec.Struct, frozen=True, kw_only=True):
    testers: int
    sections: int  # sections whose probabilities the pipeline gave
    calibrated: int  # of them, now shown calibrated (the calibration's model built them)
    # What the calibration does to the questions the app asks (sections to confirm): of those
    # sections, how many have their mode below ``ask_below`` as the model gave it and as now shown,
    # and the ``ask_below`` that asks about the same sections of the calibration's model as the
    # model's own figures did (core.calibration.ask_below_for_same_sections).
    ask_below: float
    below_uncalibrated: int
    below_shown: int
    ask_below_for_same_sections: float


def _mapped(
    rows: list[trips_db.ShownSection], fitted: ConfidenceCalibration | None
) -> list[tuple[trips_db.ShownSection, dict[str, float], float | None]]:
    """Each section with the probabilities it is to show, and its mode's before calibration (None
    when it is shown uncalibrated). Sections with the same modes are mapped together (one matrix)."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for k, s in enumerate(rows):
        groups.setdefault(tuple(s.probabilities), []).append(k)
    out: dict[int, tuple[trips_db.ShownSection, dict[str, float], float | None]] = {}
    for names, members in groups.items():
        shown = np.asarray([[rows[k].probabilities[n] for n in names] for k in members], dtype=np.float64)
        before = [rows[k].uncalibrated for k in members]
        raw = calibration.uncalibrated(shown, np.asarray([np.nan if u is None else u for u in before]))
        mine = np.asarray(
            [fitted is not None and rows[k].model_version == fitted.model_version for k in members],
            dtype=np.bool_,
        )
        mapped = (
            raw
            if fitted is None or not mine.any()
            else calibration.calibrate(raw, fitted.slope, fitted.intercept)
        )
        tops = raw.max(axis=1, initial=0.0)
        for j, k in enumerate(members):
            row, top = (mapped[j], float(tops[j])) if mine[j] else (raw[j], None)
            out[k] = (rows[k], shown_probabilities(names, row), top)
    return [out[k] for k in range(len(rows))]


def _moved(new: float | None, old: float | None) -> bool:
    """Whether a section's probability before calibration changes (stored as ``real``: to 1e-6)."""
    if new is None or old is None:
        return new is not old
    return abs(new - old) > 1e-6


async def recalibrate(
    conn: Conn, fitted: ConfidenceCalibration | None, *, ask_below: float = ASK_BELOW
) -> Recalibrated:
    """Show every tester's sections as ``fitted`` says, and record it (module docstring); waits for
    a pass another process is running. ``ask_below``: the deployment's, for the figures on
    questions."""
    async with pipeline_db.recalibrate_lock(conn, wait=True):
        return await _recalibrate(conn, fitted, ask_below)


def shows(recorded: tuple[str, float, float] | None, fitted: ConfidenceCalibration | None) -> bool:
    """Whether the stored sections, last mapped with ``recorded`` (:func:`store.pipeline.shown_calibration`),
    show ``fitted``."""
    if fitted is None:
        return recorded is None
    return recorded == (fitted.model_version, fitted.slope, fitted.intercept)


async def recalibrate_if_changed(
    conn: Conn, fitted: ConfidenceCalibration | None, *, ask_below: float = ASK_BELOW
) -> Recalibrated | None:
    """:func:`recalibrate`, unless the stored sections already show ``fitted`` or another process is
    mapping them (None: nothing done)."""
    async with pipeline_db.recalibrate_lock(conn, wait=False) as taken:
        if not taken or shows(await pipeline_db.shown_calibration(conn), fitted):
            return None
        return await _recalibrate(conn, fitted, ask_below)


async def _recalibrate(conn: Conn, fitted: ConfidenceCalibration | None, ask_below: float) -> Recalibrated:
    testers = sections = calibrated = below_uncalibrated = below_shown = 0
    for t in await coaching_db.all_testers(conn):
        async with conn.transaction():
            await coaching_db.hold_tester_queue(conn, t.user_id)
            if not await exists(conn, t.role):  # erased since the list was read: nothing to show
                continue
            async with as_user(conn, t.role):
                mapped = _mapped(await trips_db.shown_sections(conn), fitted)
                changed = [
                    (s.id, shown, before)
                    for s, shown, before in mapped
                    if shown != s.probabilities or _moved(before, s.uncalibrated)
                ]
                await trips_db.set_shown_probabilities(conn, changed)
        testers += 1
        sections += len(mapped)
        calibrated += sum(u is not None for _, _, u in mapped)
        shown_top = [max(p.values(), default=0.0) for _, p, _ in mapped]
        below_shown += sum(p < ask_below for p in shown_top)
        below_uncalibrated += sum(
            (p if u is None else u) < ask_below for (_, _, u), p in zip(mapped, shown_top, strict=True)
        )
    await pipeline_db.set_shown_calibration(conn, fitted)
    return Recalibrated(
        testers=testers,
        sections=sections,
        calibrated=calibrated,
        ask_below=ask_below,
        below_uncalibrated=below_uncalibrated,
        below_shown=below_shown,
        ask_below_for_same_sections=ask_below
        if fitted is None
        else calibration.ask_below_for_same_sections(ask_below, fitted.slope, fitted.intercept),
    )


def described(done: Recalibrated, fitted: ConfidenceCalibration | None) -> str:
    """What the pass did, for the operator (the command prints it, the API logs it)."""
    if fitted is None:
        return (
            f"{done.sections} sections of {done.testers} testers shown as the model gave them"
            " (no SILLAGE_CALIBRATION)"
        )
    return (
        f"{done.sections} sections of {done.testers} testers: {done.calibrated} shown calibrated"
        f" for model {fitted.model_version}, the others as their model gave them"
    )


def questions_line(done: Recalibrated) -> str:
    """What the pass did to the questions the app asks, for the operator."""
    if done.sections == 0:
        return "no section to ask about yet"
    share = 100.0 / done.sections
    line = (
        f"below ask_below {done.ask_below:g}: {done.below_uncalibrated * share:.1f} % of those sections"
        f" as their model gave them, {done.below_shown * share:.1f} % as now shown"
    )
    if done.calibrated == 0:
        return line
    return (
        f"{line} (SILLAGE_ASK_BELOW={done.ask_below_for_same_sections:.3f} would ask about the same"
        " sections of the calibration's model as its own figures did)"
    )
