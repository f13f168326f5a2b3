"""``sillage team add|disable|list``: accounts of the city's mobility team."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import UTC, datetime
from typing import Any

from api.commands import connected, require_url
from core.errors import Unprocessable
from core.settings import Settings


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    try:
        first = getpass.getpass("password: ")
        again = getpass.getpass("again: ")
    except EOFError as exc:  # input piped or closed: getpass has nothing to read
        raise Unprocessable("no password was typed: to pipe one in, add --password-stdin") from exc
    if again != first:
        raise Unprocessable("the two passwords differ")
    return first


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:

    from ingest.sharing.team import add_member, campaign_named

    url = require_url(settings.database_url)

    async def known_campaign() -> None:
        async with connected(url) as conn:
            await campaign_named(conn, args.campaign)

    if args.campaign is not None:  # an unknown campaign is said before the password is asked twice
        asyncio.run(known_campaign())
    password = _password(args)

    async def go() -> int:
        async with connected(url) as conn:
            done = await add_member(
                conn, args.email, args.role, password, args.campaign, every_campaign=args.every_campaign
            )
        scope = "every campaign" if done.campaign is None else f"the campaign {done.campaign!r}"
        print(
            f"{'created' if done.created else 'updated'} {args.role} account {args.email.strip().lower()} "
            f"reading {scope}"
        )
        return 0

    return asyncio.run(go())


def cmd_disable(args: argparse.Namespace, settings: Settings) -> int:

    from ingest.sharing.team import disable_member

    url = require_url(settings.database_url)

    async def go() -> int:
        async with connected(url) as conn:
            done = await disable_member(conn, args.email, now=datetime.now(UTC))
        if not done:
            print(f"no active account {args.email.strip().lower()}", file=sys.stderr)
            return 1
        print(f"disabled {args.email.strip().lower()}; its sessions are closed")
        return 0

    return asyncio.run(go())


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:

    from ingest.sharing.team import members

    url = require_url(settings.database_url)

    async def go() -> int:
        async with connected(url) as conn:
            accounts = await members(conn, now=datetime.now(UTC))
        for a in accounts:
            state = (
                f"disabled {a.disabled_at:%Y-%m-%d}"
                if a.disabled_at
                else f"{a.open_sessions} open session(s)"
            )
            scope = "every campaign" if a.campaign is None else a.campaign
            print(f"{a.email}\t{a.role}\t{scope}\tcreated {a.created_at:%Y-%m-%d}\t{state}")
        return 0

    return asyncio.run(go())


def cmd_scope(args: argparse.Namespace, settings: Settings) -> int:

    from ingest.sharing.team import scope_member

    url = require_url(settings.database_url)

    async def go() -> int:
        async with connected(url) as conn:
            await scope_member(conn, args.email, args.campaign)
        scope = "every campaign" if args.campaign is None else f"the campaign {args.campaign!r}"
        print(f"{args.email.strip().lower()} now reads {scope}")
        return 0

    return asyncio.run(go())


def _scope_arguments(parser: argparse.ArgumentParser, default: str, *, required: bool = False) -> None:
    scope = parser.add_mutually_exclusive_group(required=required)
    scope.add_argument(
        "--campaign", default=None, help=f"the campaign (by name) whose releases the account reads; {default}"
    )
    scope.add_argument(
        "--every-campaign", action="store_true", help="the account reads every campaign's releases"
    )


def register(sub: Any) -> None:
    team = sub.add_parser("team", help="the mobility team's dashboard accounts")
    tsub = team.add_subparsers(dest="team_command", required=True)
    add = tsub.add_parser("add", help="create an account (or reset its role and password)")
    add.add_argument("email")
    add.add_argument("--role", choices=("admin", "analyst"), required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    _scope_arguments(add, "default: every campaign's for a new account; an existing account keeps its own")
    add.set_defaults(func=cmd_add)
    disable = tsub.add_parser("disable", help="disable an account and close its sessions now")
    disable.add_argument("email")
    disable.set_defaults(func=cmd_disable)
    scope = tsub.add_parser("scope", help="change the campaign an account reads (password and sessions kept)")
    scope.add_argument("email")
    _scope_arguments(scope, "or --every-campaign", required=True)
    scope.set_defaults(func=cmd_scope)
    listing = tsub.add_parser("list", help="the accounts, their roles and whether they are active")
    listing.set_defaults(func=cmd_list)
