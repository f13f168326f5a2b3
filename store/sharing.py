"""Typed access for sharing (``sql/sharing.sql``, ``sql/partition/sharing.sql``).

The dashboard reads released aggregates inside :func:`as_team`: a transaction under the
``sillage_team`` role, which can read the ``released`` schema and nothing else, so a bug in a
dashboard query cannot reach a personal partition or ``sillage.*``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import msgspec

from core.privacy.contribution import SectionRecord, TripRecord
from store.locks import advisory_lock
from store.partition import Conn
from store.queries import queries

_dec = msgspec.json.Decoder()


def _q(name: str) -> str:
    return queries("sharing")[name]


def _p(name: str) -> str:
    return queries("partition/sharing")[name]


class ConsentRow(msgspec.Struct, frozen=True, kw_only=True):
    purpose: str
    terms_version: str
    granted_at: datetime
    revoked_at: datetime | None


class ConsentEvent(msgspec.Struct, frozen=True, kw_only=True):
    purpose: str
    action: str
    terms_version: str
    at: datetime


class Sharer(msgspec.Struct, frozen=True, kw_only=True):
    user_id: uuid.UUID
    role: str
    # Since a revocation, when the consent was granted again: no trip before it is read.
    shares_since: datetime | None = None


class CellRow(msgspec.Struct, frozen=True, kw_only=True):
    table: str
    dim_a: str
    dim_b: str
    dim_c: str  # the time band of carpool cells, else ""
    value: float


class ZoneRow(msgspec.Struct, frozen=True, kw_only=True):
    zone_id: str
    name: str
    geometry: dict[str, Any]
    centroid: tuple[float, float]  # (lat, lon)


class CampaignRef(msgspec.Struct, frozen=True, kw_only=True):
    """A campaign a release or a team account is scoped to."""

    id: uuid.UUID
    name: str


class NewRelease(msgspec.Struct, frozen=True, kw_only=True):
    period_kind: str
    period_start: datetime
    period_end: datetime
    released_at: datetime
    epsilon: float
    k: int
    participants: str
    caps: dict[str, Any]
    tables: list[dict[str, Any]]
    zones_source: str
    mechanism: str
    campaign: CampaignRef | None = None  # None: the testers of every campaign, pooled


class ReleaseRow(NewRelease, frozen=True, kw_only=True):
    """A stored release: what was published, with its id."""

    id: uuid.UUID


class CampaignStats(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    name: str
    invite_code: str
    enrolment_open: bool
    created_at: datetime
    enrolments: int
    active_devices: int
    last_upload: datetime | None


class TeamAccount(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    email: str
    role: str
    password_hash: str
    campaign_id: uuid.UUID | None = None  # None: every campaign's releases
    campaign_name: str | None = None  # that campaign's name, shown in the dashboard's header


class TeamSession(msgspec.Struct, frozen=True, kw_only=True):
    account_id: uuid.UUID
    email: str
    role: str
    csrf_token: str
    campaign_id: uuid.UUID | None = None  # the account's scope (None: every campaign)
    campaign_name: str | None = None  # its name (the campaign's current one)


# --- consents ---------------------------------------------------------------------------------


async def consents_for_update(conn: Conn, user_id: uuid.UUID) -> list[ConsentRow]:
    rows = await conn.fetch(_q("consents_for_update"), user_id)
    return [
        ConsentRow(
            purpose=r["purpose"],
            terms_version=r["terms_version"],
            granted_at=r["granted_at"],
            revoked_at=r["revoked_at"],
        )
        for r in rows
    ]


async def revoke_consent(conn: Conn, user_id: uuid.UUID, purpose: str, at: datetime) -> bool:
    """Revoke and record the event; False if the purpose was not in force."""
    return await conn.fetchval(_q("revoke_consent"), user_id, purpose, at) is not None


async def consent_history(conn: Conn, user_id: uuid.UUID) -> list[ConsentEvent]:
    rows = await conn.fetch(_q("consent_history"), user_id)
    return [
        ConsentEvent(purpose=r["purpose"], action=r["action"], terms_version=r["terms_version"], at=r["at"])
        for r in rows
    ]


# --- the release job --------------------------------------------------------------------------


@asynccontextmanager
async def release_lock(conn: Conn) -> AsyncIterator[None]:
    """The advisory lock serialising release jobs across processes (budgets and the once-per-period
    rule are checked under it); waits for it."""
    async with advisory_lock(conn, "sillage.release", wait=True):
        yield


async def sharing_testers(
    conn: Conn, period_end: datetime, campaign_id: uuid.UUID | None = None
) -> list[Sharer]:
    """Who may be in a release of the period ending at ``period_end``: of one campaign, or of
    every campaign (None)."""
    rows = await conn.fetch(_q("sharing_testers"), period_end, campaign_id)
    return [Sharer(user_id=r["id"], role=r["role_name"], shares_since=r["shares_since"]) for r in rows]


async def still_sharing(conn: Conn, user_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    return {r["user_id"] for r in await conn.fetch(_q("still_sharing"), list(user_ids))}


async def still_carpooling(conn: Conn, user_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Of ``user_ids``, those still consenting to carpool matching (rows locked until commit)."""
    return {r["user_id"] for r in await conn.fetch(_q("still_carpooling"), list(user_ids))}


async def budget_spent(conn: Conn, user_ids: Sequence[uuid.UUID], since: datetime) -> dict[uuid.UUID, float]:
    rows = await conn.fetch(_q("budget_spent"), list(user_ids), since)
    return {r["user_id"]: float(r["spent"]) for r in rows}


async def release_exists(
    conn: Conn, period_kind: str, period_start: datetime, campaign_id: uuid.UUID | None = None
) -> bool:
    """Whether the period was released for that scope (a campaign; None: every campaign pooled)."""
    found = await conn.fetchval(_q("release_exists"), period_kind, period_start, campaign_id)
    return found is not None


async def released_in_other_scope(
    conn: Conn, period_kind: str, period_start: datetime, *, pooled: bool
) -> bool:
    """Whether the period has a release per campaign (``pooled``), or a pooled one (not ``pooled``)."""
    return await conn.fetchval(_q("released_in_other_scope"), period_kind, period_start, pooled) is not None


async def period_trips(conn: Conn, start: datetime, end: datetime) -> list[TripRecord]:
    """Inside a tester's partition: their not-hidden trips starting in [start, end)."""
    rows = await conn.fetch(_p("period_trips"), start, end)
    return [
        TripRecord(
            id=str(r["id"]),
            started_at=r["started_at"],
            origin=(r["origin_lat"], r["origin_lon"]),
            destination=(r["destination_lat"], r["destination_lon"]),
            distance_m=r["distance_m"],
            sections=[
                SectionRecord(mode=m, distance_m=float(d), co2_kg=None if c is None else float(c))
                for m, d, c in _dec.decode(r["sections"])
            ],
        )
        for r in rows
    ]


async def insert_release(
    conn: Conn,
    release: NewRelease,
    cells: Sequence[tuple[str, str, str, str, float]],
    zones: Sequence[ZoneRow],
    contributors: Sequence[uuid.UUID],
) -> uuid.UUID:
    """Store a release, its cells and zones, and charge each contributor's budget (call inside one
    transaction: all of it or nothing)."""
    enc = msgspec.json.Encoder()
    release_id: uuid.UUID = await conn.fetchval(
        _q("insert_release"),
        release.period_kind,
        release.period_start,
        release.period_end,
        release.released_at,
        release.epsilon,
        release.k,
        release.participants,
        enc.encode(release.caps).decode(),
        enc.encode(release.tables).decode(),
        release.zones_source,
        release.mechanism,
        None if release.campaign is None else release.campaign.id,
        None if release.campaign is None else release.campaign.name,
    )
    if cells:
        await conn.executemany(_q("insert_cell"), [(release_id, *c) for c in cells])
    if zones:
        await conn.executemany(
            _q("insert_zone"),
            [
                (release_id, z.zone_id, z.name, enc.encode(z.geometry).decode(), z.centroid[0], z.centroid[1])
                for z in zones
            ],
        )
    if contributors:
        await conn.executemany(
            _q("insert_ledger"),
            [(u, release_id, release.epsilon, release.released_at) for u in contributors],
        )
    return release_id


async def ledger_users(conn: Conn, release_id: uuid.UUID) -> list[uuid.UUID]:
    return [r["user_id"] for r in await conn.fetch(_q("ledger_users"), release_id)]


async def last_release_start(
    conn: Conn, period_kind: str, campaign_id: uuid.UUID | None = None
) -> datetime | None:
    start: datetime | None = await conn.fetchval(_q("last_release_start"), period_kind, campaign_id)
    return start


# --- what the team reads (inside as_team) -----------------------------------------------------


@asynccontextmanager
async def as_team(conn: Conn, campaign_id: uuid.UUID | None) -> AsyncIterator[Conn]:
    """A read-only transaction as ``sillage_team`` (released tables only), seeing the releases of
    one campaign, or every release (None: an account of every campaign). Row-level security
    enforces it (migration 0032): outside this, the team role sees no release at all."""
    async with conn.transaction(readonly=True):
        scope = "*" if campaign_id is None else str(campaign_id)
        await conn.execute(_q("set_team_scope"), scope)
        await conn.execute("SET LOCAL ROLE sillage_team; SET LOCAL search_path = released")
        yield conn


def _release_row(r: Any) -> ReleaseRow:
    return ReleaseRow(
        id=r["id"],
        period_kind=r["period_kind"],
        period_start=r["period_start"],
        period_end=r["period_end"],
        released_at=r["released_at"],
        epsilon=r["epsilon"],
        k=r["k"],
        participants=r["participants"],
        caps=_dec.decode(r["caps"]),
        tables=_dec.decode(r["tables"]),
        zones_source=r["zones_source"],
        mechanism=r["mechanism"],
        campaign=None
        if r["campaign_id"] is None
        else CampaignRef(id=r["campaign_id"], name=r["campaign_name"]),
    )


async def release_by_id(conn: Conn, release_id: uuid.UUID) -> ReleaseRow | None:
    r = await conn.fetchrow(_q("release_by_id"), release_id)
    return None if r is None else _release_row(r)


async def list_releases(conn: Conn, period_kind: str | None, limit: int) -> list[ReleaseRow]:
    rows = await conn.fetch(_q("list_releases"), period_kind, limit)
    return [_release_row(r) for r in rows]


async def release_cells(conn: Conn, release_id: uuid.UUID, table: str | None = None) -> list[CellRow]:
    rows = await conn.fetch(_q("release_cells"), release_id, table)
    return [
        CellRow(table=r["table_name"], dim_a=r["dim_a"], dim_b=r["dim_b"], dim_c=r["dim_c"], value=r["value"])
        for r in rows
    ]


async def release_zones(conn: Conn, release_id: uuid.UUID) -> list[ZoneRow]:
    rows = await conn.fetch(_q("release_zones"), release_id)
    return [
        ZoneRow(
            zone_id=r["zone_id"],
            name=r["name"],
            geometry=_dec.decode(r["geometry"]),
            centroid=(r["centroid_lat"], r["centroid_lon"]),
        )
        for r in rows
    ]


async def co2_trend(
    conn: Conn, period_kind: str, limit: int, campaign_id: uuid.UUID | None
) -> list[tuple[datetime, float | None]]:
    """The newest ``limit`` releases' CO2 (kg, None when all withheld) of one scope (a campaign;
    None: every campaign pooled), oldest first."""
    rows = await conn.fetch(_q("co2_trend"), period_kind, limit, campaign_id)
    return [(r["period_start"], None if r["co2_kg"] is None else float(r["co2_kg"])) for r in rows]


# --- admin: campaigns (as sillage_app; aggregate per campaign only) ----------------------------


async def campaign_stats(conn: Conn, campaign_id: uuid.UUID | None) -> list[CampaignStats]:
    """One campaign's figures, or every campaign's (None)."""
    rows = await conn.fetch(_q("campaign_stats"), campaign_id)
    return [
        CampaignStats(
            id=r["id"],
            name=r["name"],
            invite_code=r["invite_code"],
            enrolment_open=r["enrolment_open"],
            created_at=r["created_at"],
            enrolments=r["enrolments"],
            active_devices=r["active_devices"],
            last_upload=r["last_upload"],
        )
        for r in rows
    ]


# --- team accounts and sessions ---------------------------------------------------------------


class UpsertedAccount(msgspec.Struct, frozen=True, kw_only=True):
    created: bool
    campaign: str | None  # the account's scope now (None: every campaign)


async def upsert_team_account(
    conn: Conn,
    email: str,
    role: str,
    password_hash: str,
    campaign_id: uuid.UUID | None = None,
    *,
    set_scope: bool = True,
) -> UpsertedAccount:
    """Create the account, or reset its role and password, and its campaign with ``set_scope``
    (else an existing account keeps its own)."""
    row = await conn.fetchrow(_q("insert_team_account"), email, role, password_hash, campaign_id, set_scope)
    assert row is not None
    return UpsertedAccount(created=bool(row["created"]), campaign=row["campaign"])


async def scope_team_account(conn: Conn, email: str, campaign_id: uuid.UUID | None) -> bool:
    """Set the account's campaign (None: every campaign); False if there is no such account."""
    return await conn.fetchval(_q("scope_team_account"), email, campaign_id) is not None


async def team_account(conn: Conn, email: str) -> TeamAccount | None:
    r = await conn.fetchrow(_q("team_account_by_email"), email)
    if r is None:
        return None
    return TeamAccount(
        id=r["id"],
        email=r["email"],
        role=r["role"],
        password_hash=r["password_hash"],
        campaign_id=r["campaign_id"],
        campaign_name=r["campaign_name"],
    )


class TeamAccountListing(msgspec.Struct, frozen=True, kw_only=True):
    email: str
    role: str
    created_at: datetime
    disabled_at: datetime | None
    open_sessions: int
    campaign: str | None = None  # None: every campaign


async def disable_team_account(conn: Conn, email: str, now: datetime) -> bool:
    """Disable an active account and end its sessions; False if there was no active account."""
    return await conn.fetchval(_q("disable_team_account"), email, now) is not None


async def list_team_accounts(conn: Conn, now: datetime) -> list[TeamAccountListing]:
    return [
        TeamAccountListing(
            email=r["email"],
            role=r["role"],
            created_at=r["created_at"],
            disabled_at=r["disabled_at"],
            open_sessions=r["open_sessions"],
            campaign=r["campaign"],
        )
        for r in await conn.fetch(_q("list_team_accounts"), now)
    ]


async def rehash_team_password(conn: Conn, account_id: uuid.UUID, password_hash: str) -> None:
    await conn.execute(_q("rehash_team_password"), account_id, password_hash)


async def insert_team_session(
    conn: Conn, token_sha256: bytes, account_id: uuid.UUID, csrf_token: str, expires_at: datetime
) -> None:
    await conn.execute(_q("insert_team_session"), token_sha256, account_id, csrf_token, expires_at)


async def team_session(conn: Conn, token_sha256: bytes, now: datetime) -> TeamSession | None:
    r = await conn.fetchrow(_q("team_session"), token_sha256, now)
    if r is None:
        return None
    return TeamSession(
        account_id=r["id"],
        email=r["email"],
        role=r["role"],
        csrf_token=r["csrf_token"],
        campaign_id=r["campaign_id"],
        campaign_name=r["campaign_name"],
    )


async def delete_team_session(conn: Conn, token_sha256: bytes, now: datetime) -> None:
    """End this session (and sweep expired ones)."""
    await conn.execute(_q("delete_team_session"), token_sha256, now)


async def take_login_token(
    conn: Conn, key_sha256: bytes, capacity: float, per_s: float, now: datetime
) -> tuple[bool, float]:
    """Take one token from the login bucket ``key_sha256``: (refused, tokens left)."""
    r = await conn.fetchrow(_q("take_login_token"), key_sha256, capacity, per_s, now)
    assert r is not None
    return bool(r["refused"]), float(r["tokens"])


async def give_back_login_token(conn: Conn, key_sha256: bytes, capacity: float) -> None:
    await conn.execute(_q("give_back_login_token"), key_sha256, capacity)


async def sweep_login_throttle(conn: Conn, before: datetime) -> None:
    await conn.execute(_q("sweep_login_throttle"), before)


# --- campaigns by name (the operator's commands, the scheduler) ---------------------------------


async def campaign_by_name(conn: Conn, name: str) -> CampaignRef | None:
    r = await conn.fetchrow(_q("campaign_by_name"), name)
    return None if r is None else CampaignRef(id=r["id"], name=r["name"])


async def campaigns(conn: Conn) -> list[CampaignRef]:
    return [CampaignRef(id=r["id"], name=r["name"]) for r in await conn.fetch(_q("campaigns"))]
