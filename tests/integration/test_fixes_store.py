"""Storing a batch: the COPY lane writes all or nothing, and says which, under the tester's role."""

from datetime import UTC, datetime, timedelta

import asyncpg

from core.fixes import Activity, Fix
from ingest.testers import ConsentChoice, enrol
from store import fixes as fixes_db
from store.partition import as_user
from store.testers import device

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


async def _tester(conn: asyncpg.Connection, invite_code: str) -> tuple[str, object]:
    e = await enrol(conn, invite_code, [ConsentChoice(purpose="coaching")], device_label="t", now=T0)
    row = await device(conn, e.device_id)
    assert row is not None
    return row.role, e.user_id


def _fixes(start_s: int, n: int) -> list[Fix]:
    return [
        Fix(ts=T0 + timedelta(seconds=start_s + i), lat=46.1, lon=-1.15, accuracy_m=5.0) for i in range(n)
    ]


async def _stored(conn: asyncpg.Connection, role: str) -> list[datetime]:
    async with as_user(conn, role):
        return [
            f.ts for f in await fixes_db.fixes_between(conn, T0 - timedelta(days=1), T0 + timedelta(days=1))
        ]


async def test_append_stores_every_fix_and_marks_their_range(
    app_conn: asyncpg.Connection, invite_code: str
) -> None:
    role, user_id = await _tester(app_conn, invite_code)
    assert await fixes_db.append_fixes(app_conn, role, _fixes(0, 5), "test")
    assert await _stored(app_conn, role) == [T0 + timedelta(seconds=i) for i in range(5)]
    row = await app_conn.fetchrow(
        "SELECT from_ts, to_ts FROM sillage.pipeline_dirty WHERE user_id = $1", user_id
    )
    assert row is not None
    assert (row["from_ts"], row["to_ts"]) == (T0, T0 + timedelta(seconds=4))


async def test_append_meeting_a_stored_fix_writes_nothing_and_says_so(
    app_conn: asyncpg.Connection, invite_code: str
) -> None:
    role, user_id = await _tester(app_conn, invite_code)
    assert await fixes_db.append_fixes(app_conn, role, _fixes(0, 3), "test")
    before = await app_conn.fetchrow(
        "SELECT from_ts, to_ts FROM sillage.pipeline_dirty WHERE user_id = $1", user_id
    )
    assert not await fixes_db.append_fixes(app_conn, role, _fixes(-100, 101), "test")  # ends on a stored one
    assert len(await _stored(app_conn, role)) == 3
    after = await app_conn.fetchrow(
        "SELECT from_ts, to_ts FROM sillage.pipeline_dirty WHERE user_id = $1", user_id
    )
    assert after == before
    assert not app_conn.is_in_transaction()
    assert await app_conn.fetchval("SELECT current_user") == "sillage_app"


async def test_appended_rows_belong_to_the_testers_partition_only(
    app_conn: asyncpg.Connection, invite_code: str
) -> None:
    a, _ = await _tester(app_conn, invite_code)
    b, _ = await _tester(app_conn, invite_code)
    assert await fixes_db.append_fixes(app_conn, a, _fixes(0, 4), "test")
    assert await fixes_db.append_fixes(app_conn, b, _fixes(0, 2), "test")  # same times, other tester
    assert (len(await _stored(app_conn, a)), len(await _stored(app_conn, b))) == (4, 2)


async def test_the_statement_riding_with_begin_runs_under_the_testers_role(
    app_conn: asyncpg.Connection, invite_code: str
) -> None:
    role, _ = await _tester(app_conn, invite_code)
    async with as_user(app_conn, role, then="SELECT set_config('sillage.probe', current_user, true)"):
        assert await app_conn.fetchval("SELECT current_setting('sillage.probe')") == role
    assert await app_conn.fetchval("SELECT current_setting('sillage.probe', true)") in (None, "")
    assert await app_conn.fetchval("SELECT current_user") == "sillage_app"


async def test_the_copy_column_types_are_the_tables(app_conn: asyncpg.Connection, invite_code: str) -> None:
    role, _ = await _tester(app_conn, invite_code)
    async with as_user(app_conn, role):
        rows = await app_conn.fetch(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a "
            "WHERE a.attrelid = 'fixes'::regclass AND a.attnum > 0 AND NOT a.attisdropped"
        )
    table = {r["attname"]: r["type"] for r in rows}
    canonical = {"float8": "double precision", "real": "real", "text": "text"}
    canonical["timestamptz"] = "timestamp with time zone"
    assert [table[c] for c in fixes_db.COPY_COLUMNS] == [canonical[t] for t in fixes_db.COPY_TYPES]


async def test_every_field_survives_the_binary_copy(app_conn: asyncpg.Connection, invite_code: str) -> None:
    role, _ = await _tester(app_conn, invite_code)
    full = Fix(
        ts=T0 + timedelta(microseconds=123_457),
        lat=46.123456789,
        lon=-1.987654321,
        accuracy_m=4.25,
        altitude_m=12.5,
        speed_mps=3.75,
        bearing_deg=271.5,
        activity=Activity.BIKE,
        battery=0.5,
    )
    sparse = Fix(ts=T0 + timedelta(seconds=1), lat=-45.0, lon=179.5)
    assert await fixes_db.append_fixes(app_conn, role, [full, sparse], "test")
    async with as_user(app_conn, role):
        back = await fixes_db.fixes_between(app_conn, T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert back == [full, sparse]  # values chosen exact in float4


async def test_the_insert_marks_the_fixes_it_may_store_and_nothing_for_a_retried_batch(
    app_conn: asyncpg.Connection, invite_code: str
) -> None:
    # The insert lane marks before it writes (the lock order it shares with the COPY lane), from
    # what its snapshot shows stored: a retried batch queues no reprocessing, and a batch that adds
    # fixes on either side of stored ones queues just the span of the new ones.
    role, user_id = await _tester(app_conn, invite_code)

    async def insert(fixes: list[Fix], source: str = "test") -> list[datetime]:
        async with as_user(app_conn, role):
            return await fixes_db.insert_fixes(app_conn, fixes, source)

    async def queued() -> tuple[datetime, datetime] | None:
        row = await app_conn.fetchrow(
            "SELECT from_ts, to_ts FROM sillage.pipeline_dirty WHERE user_id = $1", user_id
        )
        return None if row is None else (row["from_ts"], row["to_ts"])

    assert len(await insert(_fixes(0, 10))) == 10
    assert await queued() == (T0, T0 + timedelta(seconds=9))
    await app_conn.execute("DELETE FROM sillage.pipeline_dirty WHERE user_id = $1", user_id)
    assert await insert(_fixes(0, 10)) == []
    assert await queued() is None
    assert await insert(_fixes(0, 10), source="zzz") == []  # another tracker, sorting after: kept out
    assert await queued() is None
    assert len(await insert(_fixes(5, 10))) == 5
    assert await queued() == (T0 + timedelta(seconds=10), T0 + timedelta(seconds=14))
    await app_conn.execute("DELETE FROM sillage.pipeline_dirty WHERE user_id = $1", user_id)
    assert len(await insert(_fixes(3, 2), source="a")) == 2  # sorting first: it replaces them
    # From a microsecond before the first fix replaced: what began at its instant began on another fix.
    assert await queued() == (T0 + timedelta(seconds=3, microseconds=-1), T0 + timedelta(seconds=4))
