"""The `claimflow` command: dev stack, worker, API, sandbox, load, tokens, migrations."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import timedelta
from pathlib import Path

from rich.console import Console

from workers import event_loop, shutdown
from workers.settings import ConfigurationError, Settings


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        Console(stderr=True).print(f"[red]configuration error:[/] {exc}")
        raise SystemExit(2) from exc


def cmd_dev(args: argparse.Namespace) -> int:
    from workers.database import database
    from workers.dev import run_dev

    settings = _settings()
    console = Console()
    with database(settings) as db:
        event_loop.run(run_dev(settings, db, console))
        shutdown.guard_cleanup()
    console.print("stopped. Claims are kept in", settings.data_dir.resolve())
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from workers.database import database
    from workers.run import run_worker

    settings = _settings()
    with database(settings) as db:
        event_loop.run(run_worker(settings, db.url))
        shutdown.guard_cleanup()
    return 0


def cmd_api(args: argparse.Namespace) -> int:
    from workers.database import database
    from workers.run import run_api

    settings = _settings()
    with database(settings) as db:
        event_loop.run(run_api(settings, db.url))
        shutdown.guard_cleanup()
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from workers.sandbox_server import run_sandbox

    event_loop.run(run_sandbox(_settings(), step_seconds=args.step_seconds))
    return 0


def cmd_codec_server(args: argparse.Namespace) -> int:
    from workers.codec_server import run_codec_server

    event_loop.run(run_codec_server(_settings()))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from workers.database import database

    settings = _settings()
    with database(settings) as db:
        app_role = db.migrate()
    print("database is at the latest schema")
    if app_role is None:
        print(
            "warning: the application connects as the tables' owner; set CLAIMFLOW_DATABASE_MIGRATION_URL to the "
            "owner's URL and CLAIMFLOW_DATABASE_URL to a role of its own (granted what it needs on migrate)",
            file=sys.stderr,
        )
    else:
        print(f"granted the application's role {app_role} what it needs")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from workers.audit_verify import verify

    return verify(_settings())


def cmd_load(args: argparse.Namespace) -> int:
    from workers.load import load

    return load(
        _settings(),
        claims=args.claims,
        prefix=args.member_prefix,
        concurrency=args.concurrency,
        timeout=args.timeout,
        api_url=args.api_url,
    )


def cmd_codes_import(args: argparse.Namespace) -> int:
    from workers.code_import import run_import

    return run_import(_settings(), system=args.system, path=Path(args.file), full=args.full, version=args.version)


def cmd_token(args: argparse.Namespace) -> int:
    from api.auth import MAX_LIFETIME, Role, mint_token

    settings = _settings()
    role = Role(args.role)
    if role is Role.SUBMITTER and not args.org:
        print("a submitter token needs --org (the organization whose claims it submits and sees)", file=sys.stderr)
        return 2
    if (args.minutes or settings.jwt_ttl_minutes) > MAX_LIFETIME.total_seconds() / 60:
        print(f"a token lives at most {MAX_LIFETIME.total_seconds() / 60:g} minutes", file=sys.stderr)
        return 2
    print(
        mint_token(
            sub=args.sub,
            role=role,
            org=args.org,
            secret=settings.jwt_secret,
            issuer=settings.jwt_issuer,
            ttl=timedelta(minutes=args.minutes or settings.jwt_ttl_minutes),
        )
    )
    return 0


def cmd_update_keys(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from workers.update_keys import write_private_key

    private = Path(args.private_key)
    public = private.with_name(private.name + ".pub")
    if private.exists() or public.exists():
        print(f"{private} or {public} exists already; choose another name", file=sys.stderr)
        return 2
    key = Ed25519PrivateKey.generate()
    write_private_key(key, private)
    public.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    print(f"private key (the API's CLAIMFLOW_UPDATE_SIGNING_KEY_FILE): {private}")
    print(f"public key (in the workers' CLAIMFLOW_UPDATE_VERIFY_KEY_FILES): {public}")
    return 0


def cmd_certs(args: argparse.Namespace) -> int:
    from workers.certs import write_certificates

    servers: dict[str, list[str]] = {}
    for spec in args.server:
        name, _, hosts = spec.partition("=")
        if not name or not hosts:
            print(f"--server {spec!r}: write NAME=HOST[,HOST...], e.g. api=api,localhost,127.0.0.1", file=sys.stderr)
            return 2
        servers[name] = [host.strip() for host in hosts.split(",") if host.strip()]
    ca_file = write_certificates(Path(args.folder), servers)
    print(f"CA (trust it: CLAIMFLOW_TLS_CA_FILE, sslrootcert=): {ca_file}")
    for name in servers:
        print(f"{name}: {Path(args.folder) / f'{name}.pem'} and {Path(args.folder) / f'{name}-key.pem'}")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="claimflow", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)
    sub.add_parser("dev", help="run the whole stack locally on embedded defaults").set_defaults(run=cmd_dev)
    sub.add_parser("worker", help="run a claim worker against CLAIMFLOW_TEMPORAL_ADDRESS").set_defaults(run=cmd_worker)
    sub.add_parser("api", help="run the HTTP API").set_defaults(run=cmd_api)
    sandbox = sub.add_parser("sandbox", help="run the sandbox claims processor")
    sandbox.add_argument("--step-seconds", type=float, default=2.0)
    sandbox.set_defaults(run=cmd_sandbox)
    sub.add_parser(
        "codec-server", help="decode encrypted payloads for the Temporal UI (admins only; CLAIMFLOW_CODEC_SERVER_*)"
    ).set_defaults(run=cmd_codec_server)
    sub.add_parser("migrate", help="bring the database to the latest schema").set_defaults(run=cmd_migrate)
    load = sub.add_parser("load", help="drive N claims through the running stack and report claims/s")
    load.add_argument("--claims", type=int, required=True, help="how many claims to submit")
    load.add_argument("--member-prefix", default="M", help="sandbox scenario by member id prefix (M: paid in full)")
    load.add_argument("--concurrency", type=int, default=20, help="requests in flight while submitting")
    load.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for every claim to finish")
    load.add_argument("--api-url", default=None, help="the API (default: CLAIMFLOW_PUBLIC_API_URL or API_HOST:PORT)")
    load.set_defaults(run=cmd_load)
    token = sub.add_parser("token", help="mint a bearer token signed with the configured key")
    token.add_argument("--role", required=True, choices=["submitter", "adjuster", "supervisor", "admin"])
    token.add_argument("--sub", default="dev-user", help="the subject (user id; for adjusters, their adjuster id)")
    token.add_argument("--org", default=None, help="the organization (required for submitters)")
    token.add_argument("--minutes", type=int, default=None)
    token.set_defaults(run=cmd_token)
    audit = sub.add_parser("audit", help="the audit log").add_subparsers(dest="audit_command", required=True)
    audit.add_parser(
        "verify", help="check the audit log's hash chain: exit 0 when intact, 1 naming the first bad row"
    ).set_defaults(run=cmd_audit_verify)
    codes = sub.add_parser("codes", help="the code sets").add_subparsers(dest="codes_command", required=True)
    codes_import = codes.add_parser(
        "import", help="load a release file (HCPCS from CMS, your licensed CPT CSV, ICD-10-CM order file)"
    )
    codes_import.add_argument("--system", required=True, help="hcpcs, cpt, icd10cm (or another loaded importer)")
    codes_import.add_argument("file", help="the file as downloaded (.txt, .csv, or the zip holding it)")
    codes_import.add_argument(
        "--full", action="store_true", help="the file is the complete release: unknown codes become errors"
    )
    codes_import.add_argument("--version", default=None, help="the release's version (ICD-10-CM: the fiscal year)")
    codes_import.set_defaults(run=cmd_codes_import)
    keys = sub.add_parser("update-keys", help="make an Ed25519 key pair for signing the API's updates to claims")
    keys.add_argument("private_key", help="where to write the private key (PEM); the public key goes beside it as .pub")
    keys.set_defaults(run=cmd_update_keys)
    certs = sub.add_parser("certs", help="make a private CA and server certificates for a self-contained stack")
    certs.add_argument("folder", help="where to write ca.pem, NAME.pem and NAME-key.pem")
    certs.add_argument("--server", action="append", required=True, help="NAME=HOST[,HOST...]; repeat for each server")
    certs.set_defaults(run=cmd_certs)
    return root


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = parser().parse_args(argv)
    try:
        code = args.run(args)
    except KeyboardInterrupt:
        code = 130
    except ConfigurationError as exc:
        Console(stderr=True).print(f"[red]configuration error:[/] {exc}")
        code = 2
    sys.stdout.flush()
    sys.stderr.flush()
    # The Temporal SDK's Rust threads can outlive the interpreter and crash CPython's finalization (SIGSEGV or
    # SIGABRT, about one exit in ten) after all work is done; leave without it once everything is flushed and shut down.
    os._exit(code)


if __name__ == "__main__":
    main()
