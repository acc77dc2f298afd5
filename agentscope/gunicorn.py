"""gunicorn's settings hooks (`gunicorn -c python:agentscope.gunicorn`): a worker that exits takes its
live gauges (the database pool) out of /metrics when prometheus-client runs in multiprocess mode."""

import os


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
