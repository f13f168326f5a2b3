"""Reading fix values from text (query strings, form fields, CSV cells, XML text).

Absent or empty values are ``None``; text that is not a number is an :class:`ItemError` naming the
field, so the whole element is rejected with a reason instead of being stored without it.
"""

from __future__ import annotations

from collections.abc import Mapping

from ingest.formats.decoded import ItemError


def number(text: str | None, *, name: str, decimal_comma: bool = False) -> float | None:
    """Parse a decimal number; ``decimal_comma`` also accepts ``48,15`` (French spreadsheets)."""
    if text is None:
        return None
    stripped = text.strip()
    if not stripped:
        return None
    if decimal_comma and stripped.count(",") == 1 and "." not in stripped:
        stripped = stripped.replace(",", ".")
    try:
        # float() also reads "nan" and "inf": those reach normalise, which rejects them by name.
        return float(stripped)
    except ValueError as exc:
        raise ItemError(f"{name} {stripped[:40]!r} is not a number") from exc


def first(params: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    """The first of ``names`` present with a non-empty value, as ``(name, value)``."""
    for name in names:
        value = params.get(name)
        if value is not None and value.strip():
            return name, value
    return None


def number_param(params: Mapping[str, str], *names: str) -> float | None:
    """The first present of ``names`` (aliases), parsed as a number."""
    found = first(params, *names)
    return None if found is None else number(found[1], name=found[0])
