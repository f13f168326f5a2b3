"""The mobility team's accounts and dashboard sessions.

Passwords are hashed with argon2id (RFC 9106) by argon2-cffi with its default parameters, and
re-hashed at login when those defaults change. A session is a random 256-bit cookie token of
which only the SHA-256 is stored, with a per-session CSRF token (synchroniser-token pattern,
OWASP CSRF Prevention Cheat Sheet) that every state-changing form must echo.

Hashing is deliberately slow (about a quarter of a second of CPU with the default parameters):
run on the event loop, every login would stall every other request of the process for that long.
It runs in worker threads instead (argon2-cffi releases the GIL while it hashes), at most
``HASH_THREADS`` at once per process so that a flood of logins cannot take every core; logins
beyond that wait their turn without holding a database connection.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import cache
from typing import TypeVar

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import NotFound, Unauthorized, Unprocessable
from store import sharing as db
from store.partition import Conn
from store.pool import Database

ROLES = ("admin", "analyst")
SESSION_TTL = timedelta(hours=8)
MIN_PASSWORD_CHARS = 12
HASH_THREADS = 2
# No whitespace or control character anywhere (U+0000 in particular, which PostgreSQL's text
# cannot hold).
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")

T = TypeVar("T")


class Session(msgspec.Struct, frozen=True, kw_only=True):
    token: str  # the cookie value (shown once, never stored)
    csrf_token: str


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def _hash_threads() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="sillage-argon2")


async def _off_loop(fn: Callable[..., T], *args: str) -> T:
    """``fn(*args)`` in one of the hashing threads (one pool per process, whatever the event loop)."""
    return await asyncio.get_running_loop().run_in_executor(_hash_threads(), fn, *args)


def normalise_email(email: str) -> str:
    e = email.strip().lower()
    if len(e) > 254 or _EMAIL.match(e) is None:
        raise Unprocessable(f"not an e-mail address: {email!r}")
    return e


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def add_member(
    conn: Conn,
    email: str,
    role: str,
    password: str,
    campaign: str | None = None,
    *,
    every_campaign: bool = False,
) -> db.UpsertedAccount:
    """Create a team account, or reset an existing one's role and password; says whether it was
    created, and the account's campaign.

    ``campaign`` (a campaign's name) scopes the account: it reads that campaign's releases only,
    and an admin sees that campaign only; ``every_campaign`` reads every release (a national
    team). With neither, a new account reads every release and an existing one keeps its scope (a
    password reset does not widen a city's account). A reset ends the account's open sessions:
    whoever logged in with the old password (the reason for a reset, often) is logged out, as
    ``disable_member`` does.
    """
    if campaign is not None and every_campaign:
        raise Unprocessable("an account reads one campaign or every campaign, not both")
    if role not in ROLES:
        raise Unprocessable(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_CHARS:
        raise Unprocessable(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    address = normalise_email(email)
    scope = None if campaign is None else await campaign_named(conn, campaign)
    password_hash = await _off_loop(_hasher().hash, password)
    return await db.upsert_team_account(
        conn,
        address,
        role,
        password_hash,
        None if scope is None else scope.id,
        set_scope=campaign is not None or every_campaign,
    )


async def scope_member(conn: Conn, email: str, campaign: str | None) -> None:
    """Scope an account to the campaign named ``campaign`` (None: every campaign), its password and
    sessions kept; :class:`NotFound` if there is no such account."""
    scope = None if campaign is None else await campaign_named(conn, campaign)
    if not await db.scope_team_account(conn, normalise_email(email), None if scope is None else scope.id):
        raise NotFound(f"no account {email.strip().lower()}")


async def campaign_named(conn: Conn, name: str) -> db.CampaignRef:
    """The campaign of that name (:class:`NotFound` if none)."""
    found = await db.campaign_by_name(conn, name)
    if found is None:
        raise NotFound(f"no campaign is named {name!r}")
    return found


async def disable_member(conn: Conn, email: str, *, now: datetime) -> bool:
    """Disable an account: it can no longer log in and its open sessions end now.

    False when no active account has this address. ``team add`` with the same address enables
    it again, with the password given then.
    """
    return await db.disable_team_account(conn, normalise_email(email), now)


async def members(conn: Conn, *, now: datetime) -> list[db.TeamAccountListing]:
    return await db.list_team_accounts(conn, now)


# A valid hash to verify against when the account does not exist, so the response time does not
# reveal which e-mail addresses have accounts.
@cache
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_urlsafe(16))


def _verify(password_hash: str, password: str) -> None:
    """argon2's check, against the dummy hash when there is no account (``password_hash`` "")."""
    _hasher().verify(password_hash or _dummy_hash(), password)


async def login(
    database: Database, email: str, password: str, *, now: datetime
) -> tuple[Session, db.TeamSession]:
    """Check the password and open a session; one vague error for every kind of failure.

    Takes the database rather than a connection: the password is checked, off the event loop,
    between two short uses of a pooled connection, so that logins waiting for a hashing thread
    cannot empty the pool.
    """
    refused = Unauthorized("wrong e-mail address or password")
    try:
        address = normalise_email(email)
    except Unprocessable:
        address = ""
    account = None
    if address:
        async with database.connection() as conn:
            account = await db.team_account(conn, address)
    try:
        await _off_loop(_verify, account.password_hash if account else "", password)
    except (VerificationError, InvalidHashError) as exc:
        raise refused from exc
    if account is None:
        raise refused
    new_hash = None
    if _hasher().check_needs_rehash(account.password_hash):
        new_hash = await _off_loop(_hasher().hash, password)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    async with database.connection() as conn:
        if new_hash is not None:
            await db.rehash_team_password(conn, account.id, new_hash)
        await db.insert_team_session(conn, digest(token), account.id, csrf, now + SESSION_TTL)
    return Session(token=token, csrf_token=csrf), db.TeamSession(
        account_id=account.id,
        email=account.email,
        role=account.role,
        csrf_token=csrf,
        campaign_id=account.campaign_id,
        campaign_name=account.campaign_name,
    )


async def session(conn: Conn, token: str | None, *, now: datetime) -> db.TeamSession | None:
    if not token:
        return None
    return await db.team_session(conn, digest(token), now)


async def logout(conn: Conn, token: str, *, now: datetime) -> None:
    await db.delete_team_session(conn, digest(token), now)


def csrf_ok(expected: str, given: str | None) -> bool:
    return given is not None and secrets.compare_digest(expected.encode(), given.encode())
