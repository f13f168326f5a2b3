"""The README of a zip export: every file, every column, its meaning and its unit.

Tables and columns are described from :mod:`store.export_columns`; one that a later feature adds
without a line there is described by its catalogue comment (``COMMENT ON TABLE/COLUMN``, which a
partition step can set), and a column with neither is listed without a description (a test of the
export fails for it).
"""

from __future__ import annotations

from datetime import datetime

from store.export import AUDIT_RELATION, Account, Column, Relation
from store.export_columns import ACCOUNT_JSON, TABLES


def describe(table: str, column: Column) -> str:
    """A column's meaning, unit and what an empty cell means: from the table of descriptions, else
    its catalogue comment; empty when neither says."""
    known = TABLES.get(table)
    return (known.columns.get(column.name) if known else None) or column.comment or ""


def _columns(rel: Relation) -> list[str]:
    out = []
    for c in rel.columns:
        kind = f"{c.type}, UTC" if c.type == "timestamp with time zone" else c.type
        text = describe(rel.name, c)
        out.append(f"  - `{c.name}` ({kind}){': ' + text if text else ''}")
    return out


def readme(
    account: Account, shared: list[tuple[str, Relation]], partition: list[Relation], now: datetime
) -> str:
    """The README.md of a zip export for ``account`` taken at ``now``."""
    lines = [
        "# Your Sillage data",
        "",
        f"Everything Sillage held about you (tester `{account.user_id}`, campaign"
        f" {account.campaign!r}) on {now:%Y-%m-%d %H:%M:%S} UTC, as one consistent snapshot.",
        "",
        "## Conventions",
        "",
        "- CSV files: RFC 4180, UTF-8, comma-separated, one header row. An empty cell means no value;",
        '  text, JSON and lists are always quoted (an empty text is `""`); numbers, booleans',
        "  (`true`, `false`) and times are not.",
        "- Times: UTC, ISO 8601 (`2026-09-14T07:00:00.000000Z`).",
        "- Units are in the column names: `_m` metres, `_s` seconds, `_mps` metres per second, `_deg`",
        "  degrees, `_kg` kilograms (CO2-equivalent for footprints), `_days` days; `lat`/`lon` are",
        "  WGS 84 degrees.",
        "- JSON columns hold JSON text; geometries are GeoJSON (RFC 7946, longitude first).",
        "",
        "## Files",
        "",
        "- `account.json`: your account, and what your answers count for.",
        *(f"  - `{key}`: {text}" for key, text in ACCOUNT_JSON.items()),
        "",
    ]
    entries = [*shared, ("account/audit_log.csv", AUDIT_RELATION)]
    entries += [(f"data/{rel.name}.csv", rel) for rel in partition]
    for name, rel in entries:
        known = TABLES.get(rel.name)
        about = known.about if known else rel.comment or "Data kept about you by a Sillage feature."
        lines += [f"- `{name}`: {about}", *_columns(rel), ""]
    lines += [
        "Released aggregates (statistics shared with the city, if you consented) are anonymous and",
        "are not part of this export: nothing in them refers to you.",
        "",
    ]
    return "\n".join(lines)
