"""What every decoder returns: one item per fix-like element of the payload, in payload order.

A decoder only reads; it never validates values (``core.fixes.normalise`` does that afterwards).
An element that cannot even be read as a fix (a ``lat`` that is a string, a time that is not a
time) becomes a :class:`~core.fixes.Rejection` in place, so the caller can report per item and one
bad element never fails its batch. Elements that are deliberately not fixes (other message types,
trip summaries, waypoints) are only counted in ``skipped``.
"""

from __future__ import annotations

import msgspec

from core.fixes import RawFix, Rejection


class ItemError(ValueError):
    """One element of a payload is structurally unusable; its message becomes the rejection reason."""


class Decoded(msgspec.Struct, frozen=True, kw_only=True):
    """The decoded fixes of one payload.

    ``positions[i]`` is the 0-based index, in the payload's own list (fixes, entries, features,
    messages, track points, data rows), of the element that produced ``items[i]``; skipped elements
    keep their index, so positions can jump.
    """

    items: list[RawFix | Rejection]
    skipped: int = 0
    positions: list[int] = msgspec.field(default_factory=list)


class DecodedBuilder:
    """Accumulates items and their positions while a decoder walks a payload."""

    __slots__ = ("_items", "_positions", "_skipped")

    def __init__(self) -> None:
        self._items: list[RawFix | Rejection] = []
        self._positions: list[int] = []
        self._skipped = 0

    def add(self, position: int, item: RawFix | Rejection) -> None:
        self._items.append(item)
        self._positions.append(position)

    def reject(self, position: int, reason: str) -> None:
        self.add(position, Rejection(reason=reason))

    def skip(self, count: int = 1) -> None:
        self._skipped += count

    def build(self) -> Decoded:
        return Decoded(items=self._items, skipped=self._skipped, positions=self._positions)


# Named in every "unrecognised upload" error, so the client learns what would have worked.
ACCEPTED_UPLOADS = (
    "GPX 1.0/1.1 (trkpt, rtept), GeoJSON (Point features with a time property, or LineStrings with "
    "coordTimes), CSV with a header row (time, lat, lon columns), GeoLife .plt"
)
