"""What the SDK costs the agent's thread, per step, in microseconds.

    .venv/bin/python bench/sdk_overhead.py [--steps 5000 --repeats 9]

Times a decorated tool (a step posted as running, then completed: two events), `run.log_step`
(one event) and `with run.step(...)` against the same work undecorated. The sender thread is held
back for the measurement (a long flush interval, a queue large enough for every event), so the
figures are the agent-side cost alone: binding and snapshotting the arguments, building the event,
appending it to the queue. Encoding and HTTP happen later on the sender thread; the queued events
are discarded at the end, nothing is sent.

Then, per framework integration (`agentscope_sdk.integrations`, breakpoints off), a whole agent run
of the framework with the integration against the same run without it (loops taken in turn, the
fastest of each), divided by the steps the integration records: what recording costs per step on top of the framework's own work (bench/_frameworks.py;
`--runs` agent runs per loop).
"""

from __future__ import annotations

import argparse
import statistics
import time

from _frameworks import FRAMEWORKS

from agentscope_sdk import Client


def search(query: str, limit: int = 5) -> dict:
    return {"query": query, "hits": [f"doc-{i}" for i in range(limit)]}


def best_of(client: Client, repeats: int, fn, steps: int) -> float:
    """Microseconds per call: the median of `repeats` timed loops of `steps` calls. The queue is
    emptied before each loop, as the sender would (a queue of millions would time the GC instead)."""
    timings = []
    for _ in range(repeats):
        client._sender._queue.clear()
        started = time.perf_counter()
        fn(steps)
        timings.append((time.perf_counter() - started) / steps * 1e6)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--runs", type=int, default=200, help="agent runs per loop, for the integrations")
    args = parser.parse_args()
    events = 2 * args.steps + 10
    client = Client(
        api_key="as_bench", base_url="http://127.0.0.1:9", flush_interval=3600, batch_size=10**9, max_queue_size=events
    )
    traced = client.tool_call(search)

    def bare(n: int) -> None:
        for i in range(n):
            search("mars moons", limit=i % 5)

    def decorated(n: int) -> None:
        for i in range(n):
            traced("mars moons", limit=i % 5)

    def logged(n: int) -> None:
        for i in range(n):
            run.log_step("search", "tool_call", input={"query": "mars moons"}, output=search("mars moons", i % 5))

    def managed(n: int) -> None:
        for i in range(n):
            with run.step("search", "tool_call", input={"query": "mars moons"}) as step:
                step.set_output(search("mars moons", i % 5))

    with client.run("overhead-bench") as run:
        baseline = best_of(client, args.repeats, bare, args.steps)
        figures = {
            "@client.tool_call (2 events)": best_of(client, args.repeats, decorated, args.steps) - baseline,
            "run.log_step (1 event)": best_of(client, args.repeats, logged, args.steps) - baseline,
            "with run.step() (2 events)": best_of(client, args.repeats, managed, args.steps) - baseline,
        }
    print(f"SDK overhead on the agent's thread, per step ({args.steps:,} steps x {args.repeats}, median):")
    print(f"  {'undecorated call (baseline)':<30} {baseline:6.2f} µs")
    for label, micros in figures.items():
        print(f"  {label:<30} {micros:6.2f} µs")
    client._sender._queue.clear()
    client.close(timeout=0)
    integrations(args)


def alternated(client: Client, repeats: int, agents: dict, runs: int) -> dict[str, float]:
    """Microseconds per agent run of each variant: loops of `runs` runs taken in turn (so a busy
    spell of a shared machine weighs on all), the fastest loop of each."""
    timings: dict[str, list[float]] = {name: [] for name in agents}
    for _ in range(repeats):
        for name, agent in agents.items():
            client._sender._queue.clear()
            started = time.perf_counter()
            for _ in range(runs):
                agent()
            timings[name].append((time.perf_counter() - started) / runs * 1e6)
    return {name: min(kept) for name, kept in timings.items()}


def integrations(args) -> None:
    print(f"Integrations, per recorded step ({args.runs} agent runs x {args.repeats}, fastest loop):")
    print("  hooks: the framework's own cost of a do-nothing hook, callback or processor where ours go;")
    print("  recorded: the integration's on top of that (breakpoints off, nothing sent)")
    for framework, build in FRAMEWORKS.items():
        client = Client(
            api_key="as_bench", base_url="http://127.0.0.1:9", flush_interval=3600, batch_size=10**9,
            max_queue_size=10**7, breakpoints=False,
        )  # fmt: skip
        agents = {how: build(client, how=how) for how in ("bare", "hooks", "recorded")}
        agents["recorded"]()
        steps = sum(1 for _, event in client._sender._queue if event["type"] == "step.create")
        took = alternated(client, args.repeats, agents, args.runs)
        hooks, recorded = (took["hooks"] - took["bare"]) / steps, (took["recorded"] - took["hooks"]) / steps
        print(
            f"  {framework:<14} {steps} steps, run {took['bare'] / 1000:6.2f} ms bare:"
            f" hooks {hooks:7.1f} µs, recorded {recorded:7.1f} µs per step"
        )
        client._sender._queue.clear()
        client.close(timeout=0)


if __name__ == "__main__":
    main()
