"""The rest of the OpenPATH / e-mission phone protocol, beside ``/usercache/put``.

The apps call these at start-up and after each sync; answering them keeps an unmodified app working
against Sillage. The token is the body's ``user`` field, as in ``usercache/put``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, post
from litestar.datastructures import State

from api.deps import DbConn, identify, token_from_headers
from api.openapi import DEVICE_TOKEN, own_problems
from ingest.formats.emission import decode_user
from store import trips as trips_db
from store.partition import as_user


def _user(body: bytes) -> str | None:
    return decode_user(body)  # as usercache/put reads it: 400 malformed, 422 of another shape


class ServerToPhone(msgspec.Struct, frozen=True, kw_only=True):
    server_to_phone: list[Any]


class CompleteTs(msgspec.Struct, frozen=True, kw_only=True):
    complete_ts: float | None


@post(
    "/usercache/get",
    tags=["ingestion"],
    status_code=200,
    security=[DEVICE_TOKEN],
    operation_id="getEmissionUsercache",
    opt=own_problems(422),  # a body of another shape, as usercache/put's
)
async def usercache_get(request: Request[Any, Any, State], conn: DbConn) -> ServerToPhone:
    """Documents the server pushes to the phone: none (Sillage's coaching has its own API)."""
    await identify(request, conn, token_from_headers(request) or _user(await request.body()))
    return ServerToPhone(server_to_phone=[])


@post(
    "/pipeline/get_complete_ts",
    tags=["ingestion"],
    status_code=200,
    security=[DEVICE_TOKEN],
    operation_id="getEmissionCompleteTs",
    opt=own_problems(422),
)
async def get_complete_ts(request: Request[Any, Any, State], conn: DbConn) -> CompleteTs:
    """Until when the tester's trips are final (epoch seconds), so the app can drop older local data."""
    principal = await identify(request, conn, token_from_headers(request) or _user(await request.body()))
    async with as_user(conn, principal.role):
        state = await trips_db.pipeline_state(conn)
    until = None if state is None or state.complete_until is None else state.complete_until.timestamp()
    return CompleteTs(complete_ts=until)


ROUTES = [usercache_get, get_complete_ts]
