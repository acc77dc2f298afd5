"""The `agentscope` command line."""

from __future__ import annotations

import argparse
import os
import sys

from agentscope_sdk import client, mcp_proxy, replay, testing
from agentscope_sdk._version import __version__
from agentscope_sdk.client import DEFAULT_BASE_URL


def ping(args: argparse.Namespace) -> int:
    """Checks that the server answers and accepts the key."""
    base_url = args.base_url.rstrip("/")
    result = client.ping(base_url, args.api_key)
    if result.ok:
        print(f"{base_url}: ok, {result.detail}")
        return 0
    if result.problem == "no_key":
        print(f"{base_url}: the server answers; no API key to check (set AGENTSCOPE_API_KEY)")
        return 1
    what = {"unreachable": "unreachable", "key_refused": "the key was refused"}.get(result.problem, "not ready")
    print(f"{base_url}: {what} ({result.detail})", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agentscope", description="AgentScope SDK command line.")
    parser.add_argument("--version", action="version", version=f"agentscope-sdk {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("ping", help="check the server and the API key")
    check.add_argument("--base-url", default=os.environ.get("AGENTSCOPE_BASE_URL", DEFAULT_BASE_URL))
    check.add_argument("--api-key", default=os.environ.get("AGENTSCOPE_API_KEY"))
    check.set_defaults(handler=ping)
    mcp_proxy.add_parser(commands)
    testing.add_parser(commands)
    replay.add_parser(commands)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
