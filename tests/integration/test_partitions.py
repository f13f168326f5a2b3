"""Each tester's partition is protected by the database itself, not by application code."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from core.fixes import Fix
from ingest.testers import ConsentChoice, enrol
from store import fixes as fixes_db
from store.partition import as_user
from store.testers import device
from tests.support.database import mode_source_check

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


async def _tester(conn: asyncpg.Connection, invite_code: str) -> str:
    e = await enrol(conn, invite_code, [ConsentChoice(purpose="coaching")], device_label="t", now=T0)
    row = await device(conn, e.device_id)
    assert row is not None
    return row.role


def _fixes(n: int, lat: float) -> list[Fix]:
    return [Fix(ts=T0 + timedelta(seconds=10 * i), lat=lat, lon=-1.15) for i in range(n)]


async def test_two_testers_alternating_on_one_connection_never_see_each_other(
    app_conn: asyncpg.Connection, invite_code: str
) -> None:
    a = await _tester(app_conn, invite_code)
    b = await _tester(app_conn, invite_code)
    async with as_user(app_conn, a):
        await fixes_db.insert_fixes(app_conn, _fixes(5, 46.1), "test")
    async with as_user(app_conn, b):
        await fixes_db.insert_fixes(app_conn, _fixes(3, 46.2), "test")
    for _ in range(3):
        for role, n, lat in ((a, 5, 46.1), (b, 3, 46.2)):
            async with as_user(app_conn, role):
                rows = await fixes_db.fixes_between(app_conn, T0 - timedelta(days=1), T0 + timedelta(days=1))
                assert len(rows) == n
                assert {r.lat for r in rows} == {lat}
                other = b if role == a else a
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await app_conn.fetch(f'SELECT * FROM "{other}".fixes')


async def test_a_tester_role_cannot_read_the_others_chunks_directly(
    app_conn: asyncpg.Connection, invite_code: str
) -> None:
    a = await _tester(app_conn, invite_code)
    b = await _tester(app_conn, invite_code)
    async with as_user(app_conn, b):
        await fixes_db.insert_fixes(app_conn, _fixes(3, 46.2), "test")
    chunks = await app_conn.fetch(
        "SELECT chunk_schema, chunk_name FROM timescaledb_information.chunks WHERE hypertable_schema = $1", b
    )
    assert chunks, "the hypertable has chunks"
    for c in chunks:
        assert c["chunk_schema"] == b  # chunks live in the tester's own schema
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with as_user(app_conn, a):
                await app_conn.fetch(f'SELECT * FROM "{c["chunk_schema"]}"."{c["chunk_name"]}"')


async def test_the_api_login_alone_reads_no_partition(app_conn: asyncpg.Connection, invite_code: str) -> None:
    a = await _tester(app_conn, invite_code)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_conn.fetch(f'SELECT * FROM "{a}".fixes')


async def test_the_role_ends_with_the_transaction(app_conn: asyncpg.Connection, invite_code: str) -> None:
    a = await _tester(app_conn, invite_code)

    async def fail_inside() -> None:
        async with as_user(app_conn, a):
            assert await app_conn.fetchval("SELECT current_user") == a
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail_inside()
    assert await app_conn.fetchval("SELECT current_user") == "sillage_app"


async def test_enrolment_is_atomic_with_the_partition(app_conn: asyncpg.Connection, invite_code: str) -> None:
    role = await _tester(app_conn, invite_code)
    user_id = uuid.UUID(hex=role.removeprefix("sillage_u_"))
    assert await app_conn.fetchval("SELECT count(*) FROM sillage.users WHERE id = $1", user_id) == 1
    assert await app_conn.fetchval("SELECT count(*) FROM pg_namespace WHERE nspname = $1", role) == 1
    assert await app_conn.fetchval("SELECT count(*) FROM pg_roles WHERE rolname = $1", role) == 1


async def test_a_tester_role_can_widen_only_its_own_dirty_range(
    app_conn: asyncpg.Connection, invite_code: str
) -> None:
    a = await _tester(app_conn, invite_code)
    b = await _tester(app_conn, invite_code)
    b_id = uuid.UUID(hex=b.removeprefix("sillage_u_"))
    async with as_user(app_conn, b):
        await fixes_db.mark_my_dirty(app_conn, T0, T0 + timedelta(hours=1))
    async with as_user(app_conn, a):
        await fixes_db.mark_my_dirty(app_conn, T0 - timedelta(days=9), T0)
        assert (
            await app_conn.fetchval("SELECT count(*) FROM sillage.pipeline_dirty") == 1
        )  # sees only its own
        await app_conn.execute(
            "UPDATE sillage.pipeline_dirty SET from_ts = '2001-01-01' WHERE user_id = $1", b_id
        )
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app_conn.execute(
                "INSERT INTO sillage.pipeline_dirty (user_id, from_ts, to_ts) VALUES ($1, now(), now())"
                " ON CONFLICT DO NOTHING",
                uuid.uuid4(),
            )
    row = await app_conn.fetchrow("SELECT from_ts FROM sillage.pipeline_dirty WHERE user_id = $1", b_id)
    assert row is not None
    assert row["from_ts"] == T0  # b's range was not touched by a


async def test_a_partition_step_reaches_new_testers_at_once_and_existing_ones_in_batches(
    admin_conn: asyncpg.Connection, invite_code: str
) -> None:
    before = await _tester(admin_conn, invite_code)
    await admin_conn.execute(
        "SELECT sillage.add_partition_step('test_notes', 999,"
        " 'CREATE TABLE IF NOT EXISTS %1$I.notes (x int); GRANT SELECT ON %1$I.notes TO %2$I')"
    )
    has_notes = "SELECT to_regclass($1) IS NOT NULL"
    assert not await admin_conn.fetchval(has_notes, f"{before}.notes")  # recorded, not applied
    after = await _tester(admin_conn, invite_code)
    assert await admin_conn.fetchval(has_notes, f"{after}.notes")  # enrolment applies every step
    behind = await admin_conn.fetchval("SELECT count(*) FROM sillage.partition_state WHERE position < 999")
    assert behind >= 1
    assert await admin_conn.fetchval("SELECT sillage.apply_partition_steps(1)") == 1  # one batch of one
    done = 1
    while n := await admin_conn.fetchval("SELECT sillage.apply_partition_steps(50)"):
        done += n
    assert done == behind
    assert await admin_conn.fetchval(has_notes, f"{before}.notes")
    with pytest.raises(asyncpg.RaiseError, match="must come after"):
        await admin_conn.execute("SELECT sillage.add_partition_step('too_early', 5, 'SELECT 1')")


async def test_a_nested_partition_block_gives_the_callers_role_back(
    app_conn: asyncpg.Connection, invite_code: str
) -> None:
    a = await _tester(app_conn, invite_code)
    async with app_conn.transaction():
        async with as_user(app_conn, a):
            assert await app_conn.fetchval("SELECT current_user") == a
        assert await app_conn.fetchval("SELECT current_user") == "sillage_app"
        assert "sillage_u_" not in await app_conn.fetchval("SELECT current_setting('search_path')")


async def test_labels_confirmed_before_the_history_step_take_their_ends_from_the_fixes(
    admin_conn: asyncpg.Connection, invite_code: str
) -> None:
    role = await _tester(admin_conn, invite_code)
    await admin_conn.executemany(
        f'INSERT INTO "{role}".fixes (ts, lat, lon, source) VALUES ($1, $2, $3, $4)',
        [(f.ts, 46.10 + 0.001 * i, f.lon, "test") for i, f in enumerate(_fixes(30, 46.1))],
    )
    # As a label was stored before migration 0012: no ends.
    await admin_conn.execute(
        f'INSERT INTO "{role}".labels (started_at, ended_at, mode) VALUES ($1, $2, $3)',
        T0 + timedelta(seconds=50),
        T0 + timedelta(seconds=200),
        "bus",
    )
    await admin_conn.execute("SELECT sillage.ensure_partition($1, $1)", role)  # steps run again
    row = await admin_conn.fetchrow(f'SELECT start_lat, start_lon, end_lat, end_lon FROM "{role}".labels')
    assert row is not None
    assert row["start_lat"] == pytest.approx(46.105)  # the fix at 50 s
    assert row["end_lat"] == pytest.approx(46.120)  # the fix at 200 s
    assert row["start_lon"] == row["end_lon"] == pytest.approx(-1.15)
    assert "'history'" in await mode_source_check(admin_conn, role)


async def test_labels_confirmed_before_paths_were_kept_take_the_path_of_their_section(
    admin_conn: asyncpg.Connection, invite_code: str
) -> None:
    role = await _tester(admin_conn, invite_code)
    trip, section, gone = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    path = [[-1.15, 46.1], [-1.14, 46.1], [-1.14, 46.11]]
    end = T0 + timedelta(minutes=10)
    await admin_conn.execute(
        f'INSERT INTO "{role}".trips (id, started_at, ended_at, origin_lat, origin_lon, destination_lat, '
        "destination_lon, distance_m) VALUES ($1, $2, $3, 46.1, -1.15, 46.11, -1.14, 1900)",
        trip,
        T0,
        end,
    )
    await admin_conn.execute(
        f'INSERT INTO "{role}".sections (id, trip_id, seq, started_at, ended_at, distance_m, n_fixes, mode, '
        "probabilities, mode_source, model_version, geometry) "
        "VALUES ($1, $2, 0, $3, $4, 1900, 60, 'bus', '{}', 'model', 't', $5::jsonb)",
        section,
        trip,
        T0,
        end,
        json.dumps({"type": "LineString", "coordinates": path}),
    )
    # Fixes an hour later, 500 of them: a long ride whose section is gone.
    later = T0 + timedelta(hours=1)
    await admin_conn.executemany(
        f'INSERT INTO "{role}".fixes (ts, lat, lon, source) VALUES ($1, $2, $3, $4)',
        [(later + timedelta(seconds=2 * i), 46.1 + 1e-5 * i, -1.15, "test") for i in range(500)],
    )
    # As labels were stored before migration 0014: no path. The tram's section is still there; the
    # bike's is gone but its fixes are not; the car's has neither.
    await admin_conn.executemany(
        f'INSERT INTO "{role}".labels (started_at, ended_at, mode, section_id) VALUES ($1, $2, $3, $4)',
        [
            (T0, end, "tram", section),
            (later, later + timedelta(seconds=998), "bike", gone),
            (T0 + timedelta(days=1), T0 + timedelta(days=1, minutes=5), "car", None),
        ],
    )
    await admin_conn.execute("SELECT sillage.ensure_partition($1, $1)", role)  # steps run again
    rows = await admin_conn.fetch(f'SELECT mode, path::text FROM "{role}".labels ORDER BY mode')
    paths = {r["mode"]: r["path"] and json.loads(r["path"]) for r in rows}
    assert paths["tram"] == path
    assert paths["car"] is None
    bike = paths["bike"]
    assert 150 <= len(bike) <= 201  # every third fix, and the last
    assert bike[0] == [-1.15, 46.1]
    assert bike[-1] == [-1.15, pytest.approx(46.1 + 1e-5 * 499)]


async def test_no_planner_statistics_keep_tester_role_names_of_the_partition_state(
    owner_conn: asyncpg.Connection, invite_code: str
) -> None:
    await _tester(owner_conn, invite_code)
    await owner_conn.execute("ANALYZE sillage.partition_state")
    kept = await owner_conn.fetchval(
        "SELECT count(*) FROM pg_stats WHERE schemaname = 'sillage' AND tablename = 'partition_state'"
        " AND attname = 'role_name'"
    )
    assert kept == 0
