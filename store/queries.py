"""SQL kept in ``store/sql/*.sql`` under ``-- name: <name>`` headers (the aiosql layout).

Each statement is written once, read by a DBA in its file, and executed by a small typed wrapper
in the module named after the file. Files under ``sql/partition/`` run inside a tester's
partition (their role and ``search_path``); the others against the shared ``sillage`` schema.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent / "sql"
_HEADER = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def parse(text: str) -> dict[str, str]:
    """Split a file into ``{name: statement}``; text before the first header is a comment."""
    parts = _HEADER.split(text)
    out: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in out:
            raise ValueError(f"duplicate query name {name!r}")
        out[name] = body.strip().rstrip(";")
    return out


@cache
def queries(name: str) -> dict[str, str]:
    """The statements of ``sql/<name>.sql`` (``name`` may be ``partition/fixes``)."""
    return parse((SQL_DIR / f"{name}.sql").read_text(encoding="utf-8"))


def all_files() -> list[str]:
    return sorted(str(p.relative_to(SQL_DIR).with_suffix("")) for p in SQL_DIR.rglob("*.sql"))
