"""Every SQL statement in store/sql prepares against the migrated database."""

from datetime import UTC, datetime

import asyncpg
import pytest

from ingest.testers import ConsentChoice, enrol
from store.partition import enter
from store.queries import all_files, queries
from store.testers import device

STATEMENTS = [(f, name) for f in all_files() for name in queries(f)]


@pytest.mark.parametrize(("file", "name"), STATEMENTS, ids=[f"{f}:{n}" for f, n in STATEMENTS])
async def test_statement_prepares(
    app_conn: asyncpg.Connection, invite_code: str, file: str, name: str
) -> None:
    sql = queries(file)[name]
    tx = app_conn.transaction()
    await tx.start()
    try:
        if file.startswith("partition/"):
            e = await enrol(
                app_conn,
                invite_code,
                [ConsentChoice(purpose="coaching")],
                device_label="q",
                now=datetime.now(UTC),
            )
            row = await device(app_conn, e.device_id)
            assert row is not None
            await enter(app_conn, row.role)
        await app_conn.prepare(sql)
    finally:
        await tx.rollback()
