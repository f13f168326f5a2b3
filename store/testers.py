"""Typed access to campaigns, testers, devices and consents (``sql/testers.sql``)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
import msgspec

from core.errors import Conflict
from store.partition import Conn
from store.queries import queries


def _q(name: str) -> str:
    return queries("testers")[name]


class Campaign(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    name: str
    invite_code: str
    created_at: datetime


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who a request acts for: resolved from the token alone."""

    device_id: uuid.UUID
    user_id: uuid.UUID
    role: str
    paused: bool


class DeviceRow(msgspec.Struct, frozen=True, kw_only=True):
    device_id: uuid.UUID
    user_id: uuid.UUID
    secret_sha256: bytes
    revoked: bool
    last_seen_at: datetime | None
    role: str
    paused: bool


class Device(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    label: str
    created_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None


class Consent(msgspec.Struct, frozen=True, kw_only=True):
    purpose: str
    terms_version: str
    granted_at: datetime
    revoked_at: datetime | None


async def create_campaign(
    conn: Conn,
    name: str,
    invite_code: str,
    *,
    fixes_retention_days: int | None = None,
    trips_retention_days: int | None = None,
) -> Campaign:
    try:
        row = await conn.fetchrow(
            _q("create_campaign"), name, invite_code, fixes_retention_days, trips_retention_days
        )
    except asyncpg.UniqueViolationError as exc:
        raise Conflict(f"a campaign named {name!r} already exists") from exc
    assert row is not None
    return Campaign(
        id=row["id"], name=row["name"], invite_code=row["invite_code"], created_at=row["created_at"]
    )


async def campaign_for_invite(conn: Conn, invite_code: str) -> tuple[uuid.UUID, bool] | None:
    row = await conn.fetchrow(_q("campaign_by_invite"), invite_code)
    return None if row is None else (row["id"], row["enrolment_open"])


async def create_user(conn: Conn, user_id: uuid.UUID, campaign_id: uuid.UUID) -> str:
    """Provision the tester's role and partition, then record them; returns the role name."""
    role: str = await conn.fetchval(_q("provision_user"), user_id)
    await conn.execute(_q("insert_user"), user_id, campaign_id, role)
    return role


async def add_device(conn: Conn, user_id: uuid.UUID, secret_sha256: bytes, label: str) -> uuid.UUID:
    row = await conn.fetchrow(_q("insert_device"), user_id, secret_sha256, label)
    assert row is not None
    device_id: uuid.UUID = row["id"]
    return device_id


async def device(conn: Conn, device_id: uuid.UUID) -> DeviceRow | None:
    row = await conn.fetchrow(_q("device_principal"), device_id)
    if row is None:
        return None
    return DeviceRow(
        device_id=row["device_id"],
        user_id=row["user_id"],
        secret_sha256=bytes(row["secret_sha256"]),
        revoked=row["revoked_at"] is not None,
        last_seen_at=row["last_seen_at"],
        role=row["role_name"],
        paused=row["paused_at"] is not None,
    )


async def touch_device(conn: Conn, device_id: uuid.UUID) -> None:
    await conn.execute(_q("touch_device"), device_id)


async def list_devices(conn: Conn, user_id: uuid.UUID) -> list[Device]:
    rows = await conn.fetch(_q("list_devices"), user_id)
    return [
        Device(
            id=r["id"],
            label=r["label"],
            created_at=r["created_at"],
            last_seen_at=r["last_seen_at"],
            revoked_at=r["revoked_at"],
        )
        for r in rows
    ]


async def active_devices_for_update(conn: Conn, user_id: uuid.UUID) -> list[uuid.UUID]:
    """The tester's active (unrevoked) devices, their rows locked until the transaction ends."""
    return [r["id"] for r in await conn.fetch(_q("active_devices_for_update"), user_id)]


async def revoke_device(conn: Conn, device_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    return await conn.fetchval(_q("revoke_device"), device_id, user_id) is not None


async def grant_consent(
    conn: Conn, user_id: uuid.UUID, purpose: str, terms_version: str, at: datetime
) -> None:
    await conn.execute(_q("grant_consent"), user_id, purpose, terms_version, at)
    await conn.execute(_q("consent_event"), user_id, purpose, "grant", terms_version, at)


async def list_consents(conn: Conn, user_id: uuid.UUID) -> list[Consent]:
    rows = await conn.fetch(_q("list_consents"), user_id)
    return [
        Consent(
            purpose=r["purpose"],
            terms_version=r["terms_version"],
            granted_at=r["granted_at"],
            revoked_at=r["revoked_at"],
        )
        for r in rows
    ]
