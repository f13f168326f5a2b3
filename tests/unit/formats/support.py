"""Helpers shared by the format tests: sample payloads and views of a Decoded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from core.fixes import RawFix, Rejection
from ingest.formats import Decoded

DATA = Path(__file__).resolve().parents[2] / "data" / "formats"


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def utc(text: str) -> datetime:
    """``utc("2024-05-01T10:00:00")``: a UTC instant, written the way payloads write them."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fix_at(decoded: Decoded, index: int) -> RawFix:
    """The item at ``index``, which must be a fix (not a rejection)."""
    item = decoded.items[index]
    assert isinstance(item, RawFix), item
    return item


def fixes(decoded: Decoded) -> list[RawFix]:
    """The decoded fixes, asserting there is no rejection among them."""
    out = [item for item in decoded.items if isinstance(item, RawFix)]
    assert len(out) == len(decoded.items), reasons(decoded)
    return out


def only_fix(decoded: Decoded) -> RawFix:
    (one,) = fixes(decoded)
    return one


def reasons(decoded: Decoded) -> list[str]:
    return [item.reason for item in decoded.items if isinstance(item, Rejection)]
