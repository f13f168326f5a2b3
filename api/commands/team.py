"""``sillage team add EMAIL --role admin|analyst``: accounts of the city's mobility team."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any

from core.errors import ConfigurationError, Unprocessable
from core.settings import Settings


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise Unprocessable("the two passwords differ")
    return first


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    import asyncpg

    from ingest.sharing.team import add_member

    if not settings.database_url:
        raise ConfigurationError("SILLAGE_DATABASE_URL is not set (run through `make` or infra/db.sh exec)")
    password = _password(args)

    async def go() -> int:
        conn = await asyncpg.connect(settings.database_url)
        try:
            created = await add_member(conn, args.email, args.role, password)
        finally:
            await conn.close()
        print(f"{'created' if created else 'updated'} {args.role} account {args.email.strip().lower()}")
        return 0

    return asyncio.run(go())


def register(sub: Any) -> None:
    team = sub.add_parser("team", help="the mobility team's dashboard accounts")
    tsub = team.add_subparsers(dest="team_command", required=True)
    add = tsub.add_parser("add", help="create an account (or reset its role and password)")
    add.add_argument("email")
    add.add_argument("--role", choices=("admin", "analyst"), required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=cmd_add)
