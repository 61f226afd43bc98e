"""Operator commands: `hubbub admin | user | registration-token | api-key |
capability | org`.

They work on the configured database directly (`--database-url`, or SQLite
in `--data-dir`), offline or while nodes run: each builds the same core
services a node has, over its own engine and writer, applies migrations if
the database is new, does one thing and exits. What they change is read by
running nodes on their next request (roles and keys are never cached).
Operators act with `actor=None` in the audit log (`via: cli`).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from hubbub.bus.inprocess import InProcessBus
from hubbub.clock import SystemClock
from hubbub.config import Settings
from hubbub.core.accounts import Accounts
from hubbub.core.admin import Admin
from hubbub.core.apikeys import ApiKeys
from hubbub.core.audit import Audit
from hubbub.core.capabilities import CAPABILITIES, Capabilities
from hubbub.core.model import User
from hubbub.core.publisher import Publisher
from hubbub.core.tenants import ORG_ROLES, Tenants
from hubbub.errors import HubbubError, NotFound
from hubbub.store.sql.engine import create_engine
from hubbub.store.sql.migrate import migrate
from hubbub.store.sql.stores import SqlStores
from hubbub.store.sql.writer import GroupCommitWriter

__all__ = ["OPERATOR_COMMANDS", "add_operator_commands", "run_operator_command"]

OPERATOR_COMMANDS = ("admin", "user", "registration-token", "api-key", "capability", "org")


@dataclass
class Console:
    stores: SqlStores
    accounts: Accounts
    audit: Audit
    admin: Admin
    apikeys: ApiKeys
    tenants: Tenants
    capabilities: Capabilities


@asynccontextmanager
async def console(settings: Settings) -> AsyncIterator[Console]:
    engine = create_engine(settings.resolved_database_url, pool_size=2)
    writer = GroupCommitWriter(engine)
    try:
        await migrate(engine)
        writer.start()
        clock = SystemClock()
        st = SqlStores.build(engine, writer, clock.now_ms)
        publisher = Publisher(InProcessBus())
        accounts = Accounts(
            st.accounts,
            publisher,
            clock,
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
        )
        audit = Audit(st.audit, clock)
        admin = Admin(accounts, st.admin, st.registration, audit, clock)
        apikeys = ApiKeys(st.apikeys, publisher, audit, clock)
        tenants = Tenants(st.tenants, st.accounts, admin, audit, clock)
        capabilities = Capabilities(st.capabilities, st.accounts, admin, audit, clock)
        yield Console(st, accounts, audit, admin, apikeys, tenants, capabilities)
        await accounts.close()
    finally:
        await writer.close()
        await engine.dispose()


def add_operator_commands(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    add_settings: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Register the operator commands; `add_settings(parser)` adds the
    database flags (every setting, as for `serve`)."""
    admin = sub.add_parser("admin", help="grant, revoke or list server admins")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    for name, help_ in (("grant", "make USERNAME a server admin"), ("revoke", "remove the role")):
        p = admin_sub.add_parser(name, help=help_)
        p.add_argument("username")
        add_settings(p)
    add_settings(admin_sub.add_parser("list", help="list server admins"))

    user = sub.add_parser("user", help="create accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    create = user_sub.add_parser("create", help="create an account (any registration policy)")
    create.add_argument("username")
    create.add_argument("--admin", action="store_true", help="make it a server admin")
    kind = create.add_mutually_exclusive_group()  # the account's kind: a person by default
    for flag, what in (
        ("agent", "an AI agent"),
        ("service", "a service (another system calling the API)"),
        ("bot", "a bot"),
    ):
        kind.add_argument(
            f"--{flag}",
            dest="kind",
            action="store_const",
            const=flag,
            help=f"an account of kind {flag}: {what}",
        )
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create.add_argument("--display-name", default=None)
    create.add_argument("--email", default=None, help="its email (Symbia signs in by email)")
    add_settings(create)

    reg = sub.add_parser("registration-token", help="registration tokens for --registration token")
    reg_sub = reg.add_subparsers(dest="token_command", required=True)
    mk = reg_sub.add_parser("create", help="print a new registration token (shown once)")
    mk.add_argument("--uses", type=int, default=1, help="registrations allowed (0 = unlimited)")
    mk.add_argument(
        "--expires-in-s", type=int, default=7 * 24 * 3600, help="lifetime (0 = never expires)"
    )
    add_settings(mk)

    keys = sub.add_parser("api-key", help="API keys")
    keys_sub = keys.add_subparsers(dest="key_command", required=True)
    kc = keys_sub.add_parser("create", help="print a new API key of USERNAME (shown once)")
    kc.add_argument("username")
    kc.add_argument("--name", default="cli", help="a label for the key")
    kc.add_argument("--read-only", action="store_true", help="it may only read")
    add_settings(kc)

    cap = sub.add_parser("capability", help="grant or revoke messaging.interrupt / messaging.route")
    cap_sub = cap.add_subparsers(dest="cap_command", required=True)
    for name in ("grant", "revoke"):
        p = cap_sub.add_parser(name, help=f"{name} CAPABILITY for USERNAME")
        p.add_argument("username")
        p.add_argument("capability", choices=CAPABILITIES)
        add_settings(p)

    org = sub.add_parser("org", help="organizations (Symbia tenants)")
    org_sub = org.add_subparsers(dest="org_command", required=True)
    oc = org_sub.add_parser("create", help="create an organization; prints its id")
    oc.add_argument("name")
    oc.add_argument("--id", default=None, help="its id (default: a new UUID)")
    add_settings(oc)
    oa = org_sub.add_parser("add", help="add USERNAME to organization ORG_ID")
    oa.add_argument("org_id")
    oa.add_argument("username")
    oa.add_argument("--role", choices=ORG_ROLES, default="member")
    add_settings(oa)
    orm = org_sub.add_parser("remove", help="remove USERNAME from organization ORG_ID")
    orm.add_argument("org_id")
    orm.add_argument("username")
    add_settings(orm)


def _password(ns: argparse.Namespace) -> str:
    if ns.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise SystemExit("no terminal to ask for a password: use --password-stdin")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("passwords differ")
    return first


async def _find(c: Console, username: str) -> User:
    user = await c.accounts.find_by_username(username)
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


async def run_operator_command(ns: argparse.Namespace, settings: Settings) -> None:
    password = _password(ns) if ns.command == "user" else ""
    async with console(settings) as c:
        try:
            await _dispatch(c, ns, password)
        except HubbubError as exc:
            where = f" ({exc.path})" if exc.path else ""
            raise SystemExit(f"{exc.code}: {exc.message}{where}") from None


async def _dispatch(c: Console, ns: argparse.Namespace, password: str) -> None:
    if ns.command == "admin":
        if ns.admin_command == "list":
            for u in await c.admin.list_users(None, admins_only=True, limit=200):
                state = " (deactivated)" if u.deactivated_at is not None else ""
                print(f"{u.username}\t{u.id}{state}")
            return
        user = await _find(c, ns.username)
        await c.admin.set_admin(None, user.id, ns.admin_command == "grant")
        print(
            f"{user.username} is {'now' if ns.admin_command == 'grant' else 'no longer'} "
            "a server admin"
        )
    elif ns.command == "user":
        user = await c.admin.create_user(
            None,
            ns.username,
            password,
            display_name=ns.display_name,
            email=ns.email,
            admin=ns.admin,
            kind=ns.kind or "user",
            via="cli",
        )
        print(user.id)
    elif ns.command == "registration-token":
        made = await c.admin.create_invite(
            None,
            uses_allowed=ns.uses or None,
            expires_in_ms=ns.expires_in_s * 1000 if ns.expires_in_s else None,
        )
        print(made.token)
    elif ns.command == "api-key":
        user = await _find(c, ns.username)
        key, _record = await c.apikeys.create(user.id, ns.name, read_only=ns.read_only)
        print(key)
    elif ns.command == "capability":
        user = await _find(c, ns.username)
        if ns.cap_command == "grant":
            await c.capabilities.grant(None, user.id, ns.capability)
        else:
            await c.capabilities.revoke(None, user.id, ns.capability)
        print(f"{user.username}: {ns.capability} {ns.cap_command}ed")
    elif ns.command == "org":
        if ns.org_command == "create":
            print((await c.tenants.create_org(None, ns.name, ns.id)).id)
            return
        user = await _find(c, ns.username)
        if ns.org_command == "add":
            await c.tenants.add_member(None, ns.org_id, user.id, ns.role)
        else:
            await c.tenants.remove_member(None, ns.org_id, user.id)
        print(f"{user.username}: {ns.org_command} {ns.org_id}")
