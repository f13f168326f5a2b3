"""Use cases around testers: campaigns, enrolment with consent, devices, authentication."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from core import tokens
from core.errors import BadRequest, Conflict, NotFound, Unauthorized, Unprocessable
from store import testers as db
from store.partition import Conn
from store.rights import Actor, audit

PURPOSES = ("coaching", "share_aggregates", "research_labels", "carpool_matching")
REQUIRED_PURPOSES = ("coaching",)
CURRENT_TERMS = "2026-11"
TERMS_VERSION_MAX_CHARS = 50
LABEL_MAX_CHARS = 100  # a device's label
TOUCH_EVERY_S = 60.0  # a device's last_seen_at is written at most once a minute


# The lengths of the texts above, for the request bodies that carry them: in the schema, and a text
# out of them is the body's 400 naming its field. What msgspec cannot say (only blanks, U+0000) is
# checked by :func:`check_terms_version` and :func:`require_text`.
TermsVersion = Annotated[str, msgspec.Meta(min_length=1, max_length=TERMS_VERSION_MAX_CHARS)]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=LABEL_MAX_CHARS)]


class ConsentChoice(msgspec.Struct, frozen=True, kw_only=True):
    purpose: str
    terms_version: str = CURRENT_TERMS


class Enrolment(msgspec.Struct, frozen=True, kw_only=True):
    user_id: uuid.UUID
    device_id: uuid.UUID
    token: str


async def create_campaign(
    conn: Conn,
    name: str,
    *,
    actor: Actor,
    fixes_retention_days: int | None = None,
    trips_retention_days: int | None = None,
) -> db.Campaign:
    """Create a campaign with a fresh invite code; audited as an operator action."""
    async with conn.transaction():
        campaign = await db.create_campaign(
            conn,
            name,
            tokens.invite_code(),
            fixes_retention_days=fixes_retention_days,
            trips_retention_days=trips_retention_days,
        )
        await audit(conn, actor, "campaign.create", detail={"campaign": str(campaign.id)})
    return campaign


def check_terms_version(terms_version: str, *, key: str = "terms_version") -> None:
    """The one rule for the terms version a consent is given under, at enrolment and on every
    later change: it is stored with the consent and shown back, so 1 to 50 characters, not only
    blanks, and no U+0000 (which PostgreSQL's text cannot hold); a text out of these bounds is a 400,
    as the labels' (:func:`require_text`), naming the field ``key`` in its ``errors``."""
    if not terms_version.strip() or len(terms_version) > TERMS_VERSION_MAX_CHARS:
        raise invalid_text(key, f"must be 1 to {TERMS_VERSION_MAX_CHARS} characters, not only blanks")
    if "\x00" in terms_version:
        raise invalid_text(key, "must not contain U+0000")


def _check_consents(choices: list[ConsentChoice]) -> list[ConsentChoice]:
    for i, c in enumerate(choices):  # a text out of bounds (400) before a name unknown or repeated (422)
        check_terms_version(c.terms_version, key=f"consents[{i}].terms_version")
    seen: set[str] = set()
    for c in choices:
        if c.purpose not in PURPOSES:
            raise Unprocessable(f"unknown consent purpose {c.purpose!r}; known: {', '.join(PURPOSES)}")
        if c.purpose in seen:
            raise Unprocessable(f"consent purpose {c.purpose!r} given twice")
        seen.add(c.purpose)
    missing = [p for p in REQUIRED_PURPOSES if p not in seen]
    if missing:
        raise Unprocessable(f"consent to {', '.join(missing)} is required to take part")
    return choices


async def enrol(
    conn: Conn, invite_code: str, consents: list[ConsentChoice], *, device_label: str, now: datetime
) -> Enrolment:
    """Create a tester with their own partition, record consents and issue a first device token.

    One transaction: if the partition cannot be created, no tester, consent or token remains.
    """
    choices = _check_consents(consents)
    async with conn.transaction():
        found = await db.campaign_for_invite(conn, invite_code.strip().upper())
        if found is None:
            raise NotFound("no campaign has this invite code")
        campaign_id, is_open = found
        if not is_open:
            raise Conflict("enrolment in this campaign is closed")
        user_id = uuid.uuid4()
        await db.create_user(conn, user_id, campaign_id)
        for c in choices:
            await db.grant_consent(conn, user_id, c.purpose, c.terms_version, now)
        secret, digest = tokens.new_secret()
        device_id = await db.add_device(conn, user_id, digest, device_label)
        await audit(
            conn,
            Actor.tester(user_id),
            "account.enrol",
            subject=user_id,
            detail={"consents": ",".join(c.purpose for c in choices)},
        )
    return Enrolment(user_id=user_id, device_id=device_id, token=tokens.compose(device_id, secret))


async def add_device(conn: Conn, principal: db.Principal, label: str) -> tuple[uuid.UUID, str]:
    secret, digest = tokens.new_secret()
    device_id = await db.add_device(conn, principal.user_id, digest, label)
    return device_id, tokens.compose(device_id, secret)


LAST_DEVICE = (
    "this is your last active device: revoking it would leave no token to export or erase your data "
    "with; to stop taking part, leave with DELETE /v1/me, which erases everything"
)


async def revoke_device(conn: Conn, principal: db.Principal, device_id: uuid.UUID) -> None:
    """Revoke one of the tester's active devices, never the last one (409): without a token they
    could no longer export or erase their data. The tester's active device rows are locked first, so
    two revocations of their last two devices take turns and the second one is refused."""
    async with conn.transaction():
        active = await db.active_devices_for_update(conn, principal.user_id)
        if device_id not in active:
            raise NotFound("no such active device")
        if len(active) == 1:
            raise Conflict(LAST_DEVICE)
        await db.revoke_device(conn, device_id, principal.user_id)  # locked and active: it is revoked


async def authenticate(conn: Conn, token: str | None, *, now: datetime) -> db.Principal:
    """The principal a token stands for; the only way any endpoint learns whose data it touches."""
    parsed = presented(token)
    row = await db.device(conn, parsed.device_id)
    # Compare even when the device is unknown, so timing does not reveal which ids exist.
    stored = row.secret_sha256 if row is not None else bytes(32)
    ok = tokens.matches(parsed.secret, stored)
    if row is None or not ok or row.revoked:
        raise Unauthorized("invalid or revoked token")
    if row.last_seen_at is None or (now - row.last_seen_at).total_seconds() > TOUCH_EVERY_S:
        await db.touch_device(conn, row.device_id)
    return db.Principal(device_id=row.device_id, user_id=row.user_id, role=row.role, paused=row.paused)


def presented(token: str | None) -> tokens.ParsedToken:
    """The token as presented, or the 401 for none or for one that cannot be ours: the part of
    :func:`authenticate` that needs no database, which a route may check before reading its body."""
    if not token:
        raise Unauthorized("a device token is required (Authorization: Bearer <token>)")
    parsed = tokens.parse(token)
    if parsed is None:
        raise Unauthorized("malformed token")
    return parsed


def require_text(value: str, name: str, *, max_len: int = LABEL_MAX_CHARS) -> str:
    """A text a tester chose (a label, a name shown to a partner), without the blanks around it:
    1 to ``max_len`` characters, not only blanks, no U+0000 (PostgreSQL's text cannot hold it); else
    a 400 naming the body's field ``name`` in its ``errors``."""
    value = value.strip()
    if not value or len(value) > max_len:
        raise invalid_text(name, f"must be 1 to {max_len} characters, not only blanks")
    if "\x00" in value:
        raise invalid_text(name, "must not contain U+0000")
    return value


def invalid_text(key: str, rule: str) -> BadRequest:
    """The 400 for the body's text field ``key`` that breaks ``rule``, with the ``errors`` entry that
    names the field, as a field that fails its schema has."""
    return BadRequest(
        f"{key.rsplit('.', 1)[-1]} {rule}", errors=[{"message": rule, "key": key, "source": "body"}]
    )
