"""Random (version 4) UUIDs as strings, cheaper than `str(uuid.uuid4())`.

One `os.urandom` call fills a buffer of 256 ids, so the agent's thread rarely makes a system call;
the buffer is emptied in a forked child so that parent and child never share an id.
"""

from __future__ import annotations

import os
from collections import deque

_BATCH = 256
_ids: deque[str] = deque()


def _refill() -> None:
    digits = os.urandom(16 * _BATCH).hex()
    for start in range(0, len(digits), 32):
        h = digits[start : start + 32]
        variant = "89ab"[int(h[16], 16) & 3]
        _ids.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}")


def new_id() -> str:
    try:
        return _ids.popleft()
    except IndexError:
        _refill()
        return _ids.popleft()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ids.clear)
