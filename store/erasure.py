"""The erasure verifier's reads (``sql/rights.sql``): every readable relation, searched as text.

Each row is cast to text (``t::text``: every column, whatever its type) and matched against the
identifiers of the erased tester. Statements run one by one outside any transaction, so a
relation the verifier may not read (some catalogue views) is skipped without affecting the rest.
"""

from __future__ import annotations

import asyncpg
import msgspec

from store.export import quote_ident
from store.partition import Conn
from store.queries import queries


def _q(name: str) -> str:
    return queries("rights")[name]


class ScanTarget(msgspec.Struct, frozen=True, kw_only=True):
    schema: str
    name: str
    kind: str  # pg_class.relkind: r table, p partitioned, m materialised view, v view

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


async def scan_targets(conn: Conn) -> list[ScanTarget]:
    rows = await conn.fetch(_q("scan_relations"))
    return [ScanTarget(schema=r["schema"], name=r["name"], kind=r["kind"]) for r in rows]


async def count_mentions(conn: Conn, target: ScanTarget, needles: list[str]) -> int | None:
    """Rows of ``target`` whose text contains any of ``needles`` (None: not readable)."""
    only = "ONLY " if target.kind in {"r", "p"} else ""
    # Identifiers come from the catalogue and are quoted; the needles are parameters.
    relation = f"{only}{quote_ident(target.schema)}.{quote_ident(target.name)}"
    sql = f"SELECT count(*) FROM {relation} t WHERE t::text ILIKE ANY($1::text[])"  # noqa: S608
    patterns = [f"%{n}%" for n in needles]
    try:
        n: int = await conn.fetchval(sql, patterns)
    except (
        asyncpg.InsufficientPrivilegeError,
        asyncpg.FeatureNotSupportedError,
        asyncpg.ObjectNotInPrerequisiteStateError,
    ):
        return None
    return n


async def role_exists(conn: Conn, role: str) -> bool:
    return await conn.fetchval(_q("role_exists"), role) is not None


async def schema_exists(conn: Conn, schema: str) -> bool:
    return await conn.fetchval(_q("schema_exists"), schema) is not None
