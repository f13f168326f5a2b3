"""The mobility team's accounts and dashboard sessions.

Passwords are hashed with argon2id (RFC 9106) by argon2-cffi with its default parameters, and
re-hashed at login when those defaults change. A session is a random 256-bit cookie token of
which only the SHA-256 is stored, with a per-session CSRF token (synchroniser-token pattern,
OWASP CSRF Prevention Cheat Sheet) that every state-changing form must echo.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from functools import cache

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import Unauthorized, Unprocessable
from store import sharing as db
from store.partition import Conn

ROLES = ("admin", "analyst")
SESSION_TTL = timedelta(hours=8)
MIN_PASSWORD_CHARS = 12
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Session(msgspec.Struct, frozen=True, kw_only=True):
    token: str  # the cookie value (shown once, never stored)
    csrf_token: str


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def normalise_email(email: str) -> str:
    e = email.strip().lower()
    if len(e) > 254 or _EMAIL.match(e) is None:
        raise Unprocessable(f"not an e-mail address: {email!r}")
    return e


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def add_member(conn: Conn, email: str, role: str, password: str) -> bool:
    """Create a team account (True), or reset an existing one's role and password (False)."""
    if role not in ROLES:
        raise Unprocessable(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_CHARS:
        raise Unprocessable(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    return await db.upsert_team_account(conn, normalise_email(email), role, _hasher().hash(password))


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


async def login(conn: Conn, email: str, password: str, *, now: datetime) -> tuple[Session, db.TeamSession]:
    """Check the password and open a session; one vague error for every kind of failure."""
    refused = Unauthorized("wrong e-mail address or password")
    try:
        address = normalise_email(email)
    except Unprocessable:
        address = ""
    account = await db.team_account(conn, address) if address else None
    try:
        _hasher().verify(account.password_hash if account else _dummy_hash(), password)
    except (VerificationError, InvalidHashError) as exc:
        raise refused from exc
    if account is None:
        raise refused
    if _hasher().check_needs_rehash(account.password_hash):
        await db.rehash_team_password(conn, account.id, _hasher().hash(password))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    await db.insert_team_session(conn, digest(token), account.id, csrf, now + SESSION_TTL)
    return Session(token=token, csrf_token=csrf), db.TeamSession(
        account_id=account.id, email=account.email, role=account.role, csrf_token=csrf
    )


async def session(conn: Conn, token: str | None, *, now: datetime) -> db.TeamSession | None:
    if not token:
        return None
    return await db.team_session(conn, digest(token), now)


async def logout(conn: Conn, token: str, *, now: datetime) -> None:
    await db.delete_team_session(conn, digest(token), now)


def csrf_ok(expected: str, given: str | None) -> bool:
    return given is not None and secrets.compare_digest(expected.encode(), given.encode())
