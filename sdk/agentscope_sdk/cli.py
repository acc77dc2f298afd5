"""The `agentscope` command line."""

from __future__ import annotations

import argparse
import os
import sys

import httpx

from agentscope_sdk import mcp_proxy, replay, testing
from agentscope_sdk._version import __version__
from agentscope_sdk.client import DEFAULT_BASE_URL
from agentscope_sdk.delivery import BATCH_PATH


def ping(args: argparse.Namespace) -> int:
    """Checks that the server answers and accepts the key (an empty batch stores nothing)."""
    base_url = args.base_url.rstrip("/")
    try:
        health = httpx.get(f"{base_url}/health", timeout=5)
        if not args.api_key:
            print(f"{base_url}: HTTP {health.status_code}; no API key to check (set AGENTSCOPE_API_KEY)")
            return 1
        answer = httpx.post(
            f"{base_url}{BATCH_PATH}", json={"events": []}, headers={"X-Agentscope-Key": args.api_key}, timeout=5
        )
    except httpx.HTTPError as exc:
        print(f"{base_url}: unreachable ({exc})", file=sys.stderr)
        return 1
    if answer.status_code == 207:
        print(f"{base_url}: ok, the key is accepted")
        return 0
    print(f"{base_url}: the key was refused (HTTP {answer.status_code}: {answer.text[:200]})", file=sys.stderr)
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
