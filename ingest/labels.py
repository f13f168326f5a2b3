"""Exporting consenting testers' confirmed modes as training data for ``sillage models train --labels``.

Only testers whose ``research_labels`` consent is in force are read, each under their own role.
Testers appear as ``t1``, ``t2``... numbered for this export only (enough to split by user when
training, not linkable to anyone), and labels as ``l1``, ``l2``...; the file holds positions, so it
is for the deployment's own training, never for publication. Each label says which mode its
section showed when the tester answered, at what probability (empty when unknown), that
probability before calibration, the model version that gave it, and why the app asked (``asked``:
``unsure`` or ``audit``, with the ``audit_share`` in force; empty when it did not ask, or before
migration 0028). ``sillage models train --labels --weigh-agreements`` can weigh answers that only
agreed with it as the history does (``core.history.answer_weights``), and ``sillage models
calibrate --labels`` fits the probability shown on them (``core.calibration``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TextIO

import msgspec

from core.trips import LABELS_CSV_FIX, LABELS_CSV_SHOWN
from store import labels as labels_db
from store.partition import Conn, as_user
from store.rights import Actor, audit

COLUMNS = LABELS_CSV_FIX + LABELS_CSV_SHOWN


class LabelsExport(msgspec.Struct, frozen=True, kw_only=True):
    testers: int
    labels: int
    fixes: int


def _cell(value: float | None) -> str:
    return "" if value is None else repr(value)


def _rows(
    n_tester: int, fixes: list[labels_db.LabelledFix], label_numbers: dict[object, str]
) -> Iterator[list[str]]:
    for f in fixes:
        label = label_numbers.setdefault(f.label_id, f"l{len(label_numbers) + 1}")
        yield [
            label,
            f"t{n_tester}",
            f.ts.isoformat(),
            repr(f.lat),
            repr(f.lon),
            _cell(f.accuracy_m),
            _cell(f.speed_mps),
            f.activity or "",
            f.mode,
            f.shown_mode or "",
            _cell(f.shown_probability),
            _cell(f.shown_uncalibrated),
            f.shown_model_version or "",
            f.asked or "",
            _cell(f.audit_share),
        ]


async def export_labels(conn: Conn, out: TextIO, *, actor: Actor) -> LabelsExport:
    """Write the CSV that ``models.dataset.labels_dataset`` reads; audited as an operator action."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    label_numbers: dict[object, str] = {}
    testers = fixes = 0
    for _user_id, role in await labels_db.research_testers(conn):
        async with as_user(conn, role):
            rows = await labels_db.labelled_fixes(conn)
        if not rows:
            continue
        testers += 1
        fixes += len(rows)
        writer.writerows(_rows(testers, rows, label_numbers))
    async with conn.transaction():
        await audit(conn, actor, "labels.export", detail={"testers": testers, "labels": len(label_numbers)})
    return LabelsExport(testers=testers, labels=len(label_numbers), fixes=fixes)
