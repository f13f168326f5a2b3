"""Every SQL statement in store/sql prepares against the migrated database."""

import json
from datetime import UTC, datetime

import asyncpg
import numpy as np
import pytest

from core.history import unsure
from ingest.testers import ConsentChoice, enrol
from store.partition import enter
from store.queries import all_files, queries
from store.testers import device

STATEMENTS = [(f, name) for f in all_files() for name in queries(f)]


async def enter_a_new_testers_partition(app_conn: asyncpg.Connection, invite_code: str) -> None:
    """Enrol a tester and take their role and partition, in the caller's transaction."""
    e = await enrol(
        app_conn, invite_code, [ConsentChoice(purpose="coaching")], device_label="q", now=datetime.now(UTC)
    )
    row = await device(app_conn, e.device_id)
    assert row is not None
    await enter(app_conn, row.role)


@pytest.mark.parametrize(("file", "name"), STATEMENTS, ids=[f"{f}:{n}" for f, n in STATEMENTS])
async def test_statement_prepares(
    app_conn: asyncpg.Connection, invite_code: str, file: str, name: str
) -> None:
    sql = queries(file)[name]
    tx = app_conn.transaction()
    await tx.start()
    try:
        if file.startswith("partition/"):
            await enter_a_new_testers_partition(app_conn, invite_code)
        await app_conn.prepare(sql)
    finally:
        await tx.rollback()


async def test_section_to_confirm_says_what_core_history_unsure_says_under_a_testers_role(
    app_conn: asyncpg.Connection, invite_code: str
) -> None:
    rng = np.random.default_rng(4)
    modes = ("walk", "bike", "bus", "car", "metro")
    proba = rng.dirichlet(np.full(len(modes), 0.6), size=200).round(4)
    rows = [
        (json.dumps(dict(zip(modes, map(float, p), strict=True))), modes[int(np.argmax(p))]) for p in proba
    ]
    tx = app_conn.transaction()
    await tx.start()
    try:
        await enter_a_new_testers_partition(app_conn, invite_code)
        ask = "SELECT sillage.section_to_confirm($1, $2::jsonb, $3, $4)"
        for threshold in (0.0, 0.6, 0.8, 1.0):
            said = [await app_conn.fetchval(ask, "model", p, m, threshold) for p, m in rows]
            assert said == unsure(proba, threshold).tolist()
            # A section the tester confirmed is never asked about again.
            assert not any([await app_conn.fetchval(ask, "user", p, m, threshold) for p, m in rows])
        assert await app_conn.fetchval(ask, "model", rows[0][0], rows[0][1], None) is False
        # A mode the probabilities do not name counts as probability 0.
        assert await app_conn.fetchval(ask, "history", "{}", "ferry", 0.5) is True
    finally:
        await tx.rollback()
