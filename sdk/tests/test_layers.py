"""The client imports none of the layers above it (the sdk-layers contract in pyproject.toml), yet every client has them."""

import subprocess
import sys
import textwrap


def test_a_client_has_runs_decorators_replay_and_breakpoints_whichever_module_is_imported_first():
    script = textwrap.dedent(
        """
        from agentscope_sdk.client import Client

        client = Client(api_key="as_x", base_url="http://127.0.0.1:9", breakpoints=False)
        print(type(client.run("agent")).__module__, type(client.breakpoints).__module__)
        print(client.tool_call(lambda: 1).__wrapped__ is not None, client._replay.__module__)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "agentscope_sdk.tracing",
        "agentscope_sdk.breakpoints",
        "True",
        "agentscope_sdk.replay",
    ]
