"""An agent given as `module:function`, loaded and called the way the commands that run one
(`agentscope test`, `agentscope replay`) do it."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


class UsageError(Exception):
    """The command can't do its work: a bad option, an agent that can't be imported, an unreachable
    server."""


def load_agent(spec: str) -> Callable[..., Any]:
    """`package.module:function` (importable from the current directory) or `path/to/file.py:function`."""
    module_name, _, attribute = spec.rpartition(":")
    if not module_name or not attribute:
        raise UsageError(f"--agent must look like module:function or path/to/file.py:function, not {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = _import(module_name)
    except UsageError:
        raise
    except BaseException as exc:  # the agent's module failed while importing
        raise UsageError(f"could not import {module_name}: {type(exc).__name__}: {exc}") from exc
    agent: Any = module
    for part in attribute.split("."):
        agent = getattr(agent, part, None)
        if agent is None:
            raise UsageError(f"{module_name} has no {attribute}")
    if not callable(agent):
        raise UsageError(f"{spec} is not a function")
    return agent


def _import(module_name: str) -> Any:
    if not module_name.endswith(".py"):
        return importlib.import_module(module_name)
    path = Path(module_name)
    if not path.is_file():
        raise UsageError(f"no such file: {module_name}")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # dataclasses and pickling look the module up there
    spec.loader.exec_module(module)
    return module


def call_agent(agent: Callable[..., Any], value: Any) -> Any:
    """Keyword arguments when `value` is an object the signature takes as such, else one argument."""
    result = agent(**value) if isinstance(value, dict) and _takes(agent, value) else agent(value)
    if inspect.isawaitable(result):
        result = asyncio.run(_awaited(result))
    return result


def _takes(agent: Callable[..., Any], kwargs: dict) -> bool:
    try:
        inspect.signature(agent).bind(**kwargs)
    except (TypeError, ValueError):
        return False
    return True


async def _awaited(awaitable: Any) -> Any:
    return await awaitable
