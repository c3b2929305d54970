"""``chiffon user ...`` and ``chiffon token ...``: accounts and API tokens from a shell.

Whoever can run these on the Chiffon host can read its database anyway, so they need no
sign-in. Passwords are read from standard input (``--password-stdin``, for scripts) or typed
twice at a prompt, never taken as an argument (that would land in shell history and ``ps``).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from chiffon._cli_base import CommandError, command_settings, run_with_services

if TYPE_CHECKING:
    from chiffon.app import Services

__all__ = ["ACCOUNT_COMMANDS", "add_account_commands"]

ROLES = ("viewer", "operator", "admin")


def add_account_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = commands.add_parser("user", help="people who sign in, and their roles")
    actions = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add an account (the first one should be an admin)")
    add.add_argument("name", help="the account name, e.g. ada")
    add.add_argument("--role", choices=ROLES, default="operator", help="default operator")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    listing = actions.add_parser("list", help="list the accounts")
    listing.add_argument("--json", action="store_true", help="print a JSON list")
    role = actions.add_parser("role", help="give an account another role")
    role.add_argument("name")
    role.add_argument("role", choices=ROLES)
    password = actions.add_parser("password", help="set an account's password")
    password.add_argument("name")
    password.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    remove = actions.add_parser("remove", help="remove an account, its sessions and tokens")
    remove.add_argument("name")

    token = commands.add_parser("token", help="API tokens for scripts (Authorization: Bearer)")
    token_actions = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_actions.add_parser("create", help="create a token and print it (once)")
    create.add_argument("--user", required=True, help="the account the token acts as")
    create.add_argument("--name", default="", help="what it is for, e.g. backup-script")
    tokens = token_actions.add_parser("list", help="list tokens (never their values)")
    tokens.add_argument("--user", help="only this account's")
    tokens.add_argument("--json", action="store_true", help="print a JSON list")
    revoke = token_actions.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id", type=int)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask for the password: pass --password-stdin")
    first = getpass.getpass(f"Password for {args.name}: ")
    if getpass.getpass("The same password again: ") != first:
        raise CommandError("the two passwords differ: nothing was changed")
    return first


def cmd_user(args: argparse.Namespace) -> int:
    from chiffon.web.accounts import AccountError, Role

    password = _password(args) if args.user_command in ("add", "password") else ""

    async def work(services: Services) -> int:
        accounts = services.accounts
        try:
            if args.user_command == "add":
                user = await accounts.add_user(args.name, Role.parse(args.role), password)
                print(f"added {user.name} ({user.role}); they can sign in now")
            elif args.user_command == "list":
                users = await accounts.users()
                if args.json:
                    print(json.dumps([u.to_json() for u in users], indent=2, default=str))
                for user in [] if args.json else users:
                    print(f"{user.name:<32} {user.role:<9} since {user.created_at:%Y-%m-%d}")
                if not users and not args.json:
                    print("no accounts yet: chiffon user add NAME --role admin")
            elif args.user_command == "role":
                user = await accounts.set_role(args.name, Role.parse(args.role))
                print(f"{user.name} is now {user.role}")
            elif args.user_command == "password":
                await accounts.set_password(args.name, password)
                print(f"{args.name} has a new password; their browser sessions ended")
            else:
                await accounts.remove_user(args.name)
                print(f"removed {args.name} with their sessions and API tokens")
        except AccountError as error:
            raise CommandError(str(error)) from None
        return 0

    return run_with_services(command_settings(args), work, scan=False)


def cmd_token(args: argparse.Namespace) -> int:
    from chiffon.web.accounts import AccountError

    async def work(services: Services) -> int:
        accounts = services.accounts
        try:
            if args.token_command == "create":
                token, view = await accounts.create_token(args.user, args.name)
                print(token)
                print(
                    f"token {view.id} acts as {view.user}: send 'Authorization: Bearer TOKEN' "
                    "(shown once; Chiffon keeps only its hash)",
                    file=sys.stderr,
                )
            elif args.token_command == "list":
                tokens = await accounts.tokens(args.user)
                if args.json:
                    print(json.dumps([t.to_json() for t in tokens], indent=2, default=str))
                    return 0
                for t in tokens:
                    state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
                    print(f"{t.id:>5}  {t.user:<24} {t.name:<24} {state}")
            else:
                await accounts.revoke_token(args.token_id)
                print(f"revoked API token {args.token_id}")
        except AccountError as error:
            raise CommandError(str(error)) from None
        return 0

    return run_with_services(command_settings(args), work, scan=False)


ACCOUNT_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "user": cmd_user,
    "token": cmd_token,
}
