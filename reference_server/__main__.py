"""`python -m reference_server --host H --port P --db PATH [--access-token T] [--fault NAME ...]`"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import uvicorn

from accounting_conformance.reference_server.app import Settings, create_app
from accounting_conformance.reference_server.faults import Fault, Faults, UnknownFault


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and serve until stopped."""
    parser = argparse.ArgumentParser(
        prog="reference_server", description="The reference server of the accounting contract."
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8900, help="TCP port (default 8900)")
    parser.add_argument("--db", default=":memory:", help="SQLite database file, or :memory:")
    parser.add_argument(
        "--access-token",
        default=os.environ.get("ACCESS_TOKEN") or None,
        help="the access token of the connection (default: $ACCESS_TOKEN, else fixtures.json's; prefer the environment, "
        "which `ps` does not show)",
    )
    parser.add_argument(
        "--fixtures", default=None, help="reference data to seed (default reference_server/fixtures.json)"
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="inject a deliberate bug from reference_server/faults.py (repeatable; for the suite's selftest)",
    )
    options = parser.parse_args(argv)
    if not 0 < options.port < 65536:
        parser.error(f"--port must be between 1 and 65535, got {options.port}")
    try:
        faults = Faults.named(options.fault)  # a misspelt name stops here, before the app or a port
    except UnknownFault as exc:
        parser.error(f"unknown --fault {exc.name!r}; choose one of:\n  " + "\n  ".join(fault.value for fault in Fault))
    app = create_app(
        Settings(db_path=options.db, access_token=options.access_token, fixtures_path=options.fixtures, faults=faults)
    )
    if options.fault:
        print(f"reference_server: FAULTS INJECTED: {', '.join(options.fault)}", file=sys.stderr, flush=True)
    uvicorn.run(app, host=options.host, port=options.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
