"""``./gateway keys``: issue, list and revoke API keys, straight in the key table (an operator's AWS rights).

The first admin key of a tenant can only come from here; later ones may also come from ``POST /v1/keys``
with an admin key. Locally (``make run``) the table lives in the stack's moto server: set
``AWS_ENDPOINT_URL`` or pass ``--local``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from datetime import UTC, datetime
from typing import Any

from tools.cli.client import CliError

ROLES = ("submitter", "compliance", "regulator", "admin")
LIST_ROW = "{:20}  {:10}  {:14}  {:24}  {:25}  {}"


def _gateway(args: argparse.Namespace) -> Any:
    from tools.local.stack import LocalStack

    if args.local:
        return LocalStack(moto_port=int(os.environ.get("MOTO_PORT", "5000"))).gateway()
    from chalicelib.bootstrap import bootstrap

    return bootstrap()


def _operator() -> str:
    return f"cli:{os.environ.get('GATEWAY_OPERATOR') or getpass.getuser()}"


def _storage(call: Any) -> Any:
    from chalicelib.domain.access import AccessError, AlreadyRevokedError
    from chalicelib.domain.errors import ConflictError, NotFoundError, StorageUnavailableError

    try:
        return call()
    except AccessError as exc:
        raise CliError(f"{exc.field}: {exc}") from None
    except NotFoundError as exc:
        raise CliError(f"no such key in this tenant: {exc}") from None
    except AlreadyRevokedError:
        raise CliError("this key was revoked before") from None
    except ConflictError as exc:
        raise CliError(str(exc)) from None
    except StorageUnavailableError as exc:
        raise CliError(f"the key table could not be reached ({exc}): is `make run` up, or AWS configured?") from None


def cmd_keys_create(args: argparse.Namespace) -> int:
    from chalicelib.domain.access import Role
    from chalicelib.services import keys

    g = _gateway(args)
    issued = _storage(
        lambda: keys.issue_key(
            g.keys,
            g.deps,
            datetime.now(UTC),
            tenant=args.tenant,
            role=Role(args.role),
            agency=args.agency,
            name=args.name,
            created_by=_operator(),
        )
    )
    print(json.dumps({**issued.record, "key": issued.key}))
    print("the key is shown once: store it now; only its hash is kept", file=sys.stderr)
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    from chalicelib.services import keys

    g = _gateway(args)
    records = _storage(lambda: keys.list_keys(g.keys, args.tenant))
    if args.json:
        for record in records:
            print(json.dumps(record))
        return 0
    print(LIST_ROW.format("key id", "role", "agency", "name", "created", "revoked"))
    for r in records:
        cells = (r["key_id"], r["role"], r["agency"] or "-", r["name"] or "-", r["created_at"][:25])
        print(LIST_ROW.format(*cells, r["revoked_at"] or "-"))
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    from chalicelib.services import keys

    g = _gateway(args)
    now = datetime.now(UTC)
    revoked = _storage(
        lambda: keys.revoke_key(g.keys, g.deps, now, tenant=args.tenant, key_id=args.key_id, by=_operator())
    )
    print(json.dumps(revoked))
    return 0


def add_commands(sub: Any) -> None:
    group = sub.add_parser("keys", help="API keys: create, list, revoke (in the key table directly)")
    commands = group.add_subparsers(dest="keys_command", required=True)
    create = commands.add_parser("create", help="issue a key; it is printed once and only its hash is stored")
    create.add_argument("--tenant", required=True)
    create.add_argument("--role", choices=ROLES, required=True)
    create.add_argument("--agency", help="a collection agency acting for the tenant (submitter keys)")
    create.add_argument("--name", help="who or what holds the key")
    create.set_defaults(func=cmd_keys_create)
    listing = commands.add_parser("list", help="a tenant's keys (never the keys themselves)")
    listing.add_argument("--tenant", required=True)
    listing.add_argument("--json", action="store_true", help="JSON lines")
    listing.set_defaults(func=cmd_keys_list)
    revoke = commands.add_parser("revoke", help="revoke a key for good")
    revoke.add_argument("key_id")
    revoke.add_argument("--tenant", required=True)
    revoke.set_defaults(func=cmd_keys_revoke)
    for command in (create, listing, revoke):
        command.add_argument("--local", action="store_true", help="the local stack's moto server (MOTO_PORT)")
