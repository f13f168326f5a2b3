"""Bearer tokens: ``<device id hex>.<secret>``, 256 random bits, stored only as SHA-256.

The device id locates the row; the secret is then compared in constant time with
:func:`hmac.compare_digest`. A fast hash is right here: the secret is high-entropy, so there is
nothing for a slow password hash to protect against, and every request verifies one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

import msgspec

SECRET_BYTES = 32  # 256 bits (the issue asks for at least 128)


class IssuedToken(msgspec.Struct, frozen=True, kw_only=True):
    token: str  # shown once to the client
    secret_sha256: bytes  # stored


class ParsedToken(msgspec.Struct, frozen=True, kw_only=True):
    device_id: uuid.UUID
    secret: str


def issue(device_id: uuid.UUID) -> IssuedToken:
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return IssuedToken(token=f"{device_id.hex}.{secret}", secret_sha256=digest(secret))


def new_secret() -> tuple[str, bytes]:
    """A fresh secret and its digest, before the device id is known."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return secret, digest(secret)


def compose(device_id: uuid.UUID, secret: str) -> str:
    return f"{device_id.hex}.{secret}"


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def parse(token: str) -> ParsedToken | None:
    """Split a presented token; None when it cannot be one of ours."""
    device_hex, sep, secret = token.strip().partition(".")
    if not sep or len(device_hex) != 32 or not secret or len(secret) > 128:
        return None
    try:
        return ParsedToken(device_id=uuid.UUID(hex=device_hex), secret=secret)
    except ValueError:
        return None


def matches(secret: str, stored_sha256: bytes) -> bool:
    return hmac.compare_digest(digest(secret), stored_sha256)


def invite_code() -> str:
    """A campaign invite code: 10 characters from an unambiguous alphabet (~50 bits)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"
