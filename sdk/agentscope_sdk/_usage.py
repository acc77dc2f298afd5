"""Token usage and model name read from OpenAI and Anthropic responses (objects or dicts)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _field(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _count(obj: Any, name: str) -> int | None:
    value = _field(obj, name)
    return value if type(value) is int else None


def usage_of(response: Any) -> tuple[int | None, dict[str, Any]]:
    """(tokens used, metadata) for an LLM response; (None, {}) when it carries neither.

    OpenAI chat completions: `usage.total_tokens` (or `prompt_tokens + completion_tokens`);
    OpenAI responses and Anthropic messages: `usage.input_tokens + usage.output_tokens`.
    The metadata holds the model name and the token breakdown.
    """
    if response is None or isinstance(response, str | bytes | int | float | list | tuple):
        return None, {}
    metadata: dict[str, Any] = {}
    model = _field(response, "model")
    if isinstance(model, str) and model:
        metadata["model"] = model
    usage = _field(response, "usage")
    if usage is None:
        return None, metadata
    prompt, completion = _count(usage, "prompt_tokens"), _count(usage, "completion_tokens")
    inputs, outputs = _count(usage, "input_tokens"), _count(usage, "output_tokens")
    total = _count(usage, "total_tokens")
    if prompt is not None or completion is not None:
        metadata.update(prompt_tokens=prompt or 0, completion_tokens=completion or 0)
        total = total if total is not None else (prompt or 0) + (completion or 0)
    elif inputs is not None or outputs is not None:
        metadata.update(input_tokens=inputs or 0, output_tokens=outputs or 0)
        for cache in ("cache_creation_input_tokens", "cache_read_input_tokens"):
            if _count(usage, cache):
                metadata[cache] = _count(usage, cache)
        total = total if total is not None else (inputs or 0) + (outputs or 0)
    return total, metadata
