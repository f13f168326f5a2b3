"""Proof of erasure: nothing in the database, nor in the app's log files, refers to the tester.

``sillage rights verify-erased USER_ID`` looks for the user id (as text and as 32 hex digits, the
latter also covering the role and schema name ``sillage_u_<hex>``) and for their audit pseudonym
in every row of every table it can read (shared tables, every tester's partition and chunks,
TimescaleDB's catalogue) and of the system catalogue's tables and views (roles, schemas,
privileges, function bodies, planner statistics through ``pg_stats``), and in every line of the
log files it is given. Run it as the schema owner (``SILLAGE_ADMIN_DATABASE_URL``), who can read
every partition.

It proves what SQL can see. Deleted rows remain in data files until vacuumed and in WAL and
backups until they rotate: the deployment's backup retention bounds how long an erased tester
can be restored from them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

import msgspec

from store import erasure as db
from store.partition import Conn, tester_role
from store.rights import pseudonym


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    where: str
    what: str


class Verification(msgspec.Struct, frozen=True, kw_only=True):
    findings: list[Finding]
    relations_scanned: int
    relations_unreadable: list[str]
    log_lines_scanned: int


def needles(user_id: uuid.UUID, user_pseudonym: str) -> list[str]:
    """What would refer to the tester: their id as text and hex (hence the role name) and pseudonym."""
    return [str(user_id), user_id.hex, user_pseudonym]


async def verify_erased(conn: Conn, user_id: uuid.UUID, *, log_files: Sequence[Path] = ()) -> Verification:
    """Everything that still refers to ``user_id`` (an empty ``findings`` proves the erasure)."""
    role = tester_role(user_id)
    wanted = needles(user_id, await pseudonym(conn, user_id))
    findings: list[Finding] = []
    if await db.role_exists(conn, role):
        findings.append(Finding(where="pg_roles", what=f"role {role} exists"))
    if await db.schema_exists(conn, role):
        findings.append(Finding(where="pg_namespace", what=f"schema {role} exists"))
    unreadable: list[str] = []
    targets = await db.scan_targets(conn)
    for target in targets:
        n = await db.count_mentions(conn, target, wanted)
        if n is None:
            unreadable.append(target.qualified)
        elif n:
            findings.append(Finding(where=target.qualified, what=f"{n} row(s) refer to the tester"))
    scanned = 0
    lowered = [w.lower() for w in wanted]
    for path in log_files:
        with path.open(encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, start=1):
                scanned += 1
                text = line.lower()
                if any(w in text for w in lowered):
                    findings.append(Finding(where=f"{path}:{number}", what="log line refers to the tester"))
    return Verification(
        findings=findings,
        relations_scanned=len(targets) - len(unreadable),
        relations_unreadable=unreadable,
        log_lines_scanned=scanned,
    )
