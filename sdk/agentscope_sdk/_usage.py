"""Token usage and model name read from OpenAI, Anthropic and Google responses (objects or dicts).

The server prices a step from `metadata.usage`, counted as genai-prices counts: `input_tokens` is
all the input (cache reads and writes included), `output_tokens` all the output (reasoning
included); `cache_read_tokens`, `cache_write_tokens` and `reasoning_tokens` say how much of each.
Providers count differently, so each is read its own way:

- OpenAI chat completions: `prompt_tokens` (cached included, `prompt_tokens_details.cached_tokens`
  and, where reported, `cache_write_tokens`),
  `completion_tokens` (reasoning included, `completion_tokens_details.reasoning_tokens`).
- OpenAI responses: the same as `input_tokens`, `output_tokens`, `input_tokens_details`, `output_tokens_details`.
- Anthropic messages: `input_tokens` is only the uncached input; `cache_read_input_tokens` and
  `cache_creation_input_tokens` are added to it; `output_tokens` includes thinking
  (`output_tokens_details.thinking_tokens`).
- Google (`usage_metadata`): `prompt_token_count` (cached included, `cached_content_token_count`);
  `candidates_token_count` leaves out `thoughts_token_count`, which is added to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

KINDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens")
_ABSENT = object()


def _field(obj: Any, name: str, default: Any = None) -> Any:
    if obj is None:
        return default
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _count(obj: Any, *names: str) -> int | None:
    for name in names:
        value = _field(obj, name)
        if type(value) is int:
            return value
    return None


def usage_counts(usage: Any) -> dict[str, int]:
    """A usage object or dict of OpenAI, Anthropic or Google (or already in our counts) as our counts."""
    if usage is None or isinstance(usage, str | bytes | int | float | list | tuple):
        return {}
    if (
        _count(usage, "prompt_token_count", "promptTokenCount", "candidates_token_count", "candidatesTokenCount")
        is not None
    ):
        return _google(usage)
    if _count(usage, "prompt_tokens", "completion_tokens") is not None:
        return _openai(usage, "prompt_tokens", "completion_tokens")
    if _count(usage, "input_tokens", "output_tokens") is None:
        return {}
    anthropic = any(
        _field(usage, name, _ABSENT) is not _ABSENT
        for name in ("cache_read_input_tokens", "cache_creation_input_tokens")
    )
    if anthropic:
        return _anthropic(usage)
    if _field(usage, "input_tokens_details") is not None or _field(usage, "output_tokens_details") is not None:
        return _openai(usage, "input_tokens", "output_tokens")
    return _clean({kind: _count(usage, kind) for kind in KINDS})  # our own counts


def _openai(usage: Any, inputs: str, outputs: str) -> dict[str, int]:
    input_details = _field(usage, f"{inputs}_details")
    output_details = _field(usage, f"{outputs[: -len('_tokens')]}_tokens_details")
    return _clean(
        {
            "input_tokens": _count(usage, inputs),
            "output_tokens": _count(usage, outputs),
            "cache_read_tokens": _count(input_details, "cached_tokens"),
            "cache_write_tokens": _count(input_details, "cache_write_tokens"),
            "reasoning_tokens": _count(output_details, "reasoning_tokens"),
        }
    )


def _anthropic(usage: Any) -> dict[str, int]:
    read, write = _count(usage, "cache_read_input_tokens") or 0, _count(usage, "cache_creation_input_tokens") or 0
    return _clean(
        {
            "input_tokens": (_count(usage, "input_tokens") or 0) + read + write,
            "output_tokens": _count(usage, "output_tokens"),
            "cache_read_tokens": read,
            "cache_write_tokens": write,
            "reasoning_tokens": _count(_field(usage, "output_tokens_details"), "thinking_tokens"),
        }
    )


def _google(usage: Any) -> dict[str, int]:
    thoughts = _count(usage, "thoughts_token_count", "thoughtsTokenCount") or 0
    candidates = _count(usage, "candidates_token_count", "candidatesTokenCount") or 0
    return _clean(
        {
            "input_tokens": _count(usage, "prompt_token_count", "promptTokenCount"),
            "output_tokens": candidates + thoughts,
            "cache_read_tokens": _count(usage, "cached_content_token_count", "cachedContentTokenCount"),
            "reasoning_tokens": thoughts,
        }
    )


def _clean(counts: dict[str, int | None]) -> dict[str, int]:
    return {kind: count for kind, count in counts.items() if count}


def usage_of(response: Any) -> tuple[int | None, dict[str, Any]]:
    """(tokens used, metadata) for an LLM response; (None, {}) when it carries neither.

    The metadata holds the model name, the counts as the provider named them (`prompt_tokens`...)
    and `usage`, our counts (see the module's docstring), which the server prices.
    """
    if response is None or isinstance(response, str | bytes | int | float | list | tuple):
        return None, {}
    metadata: dict[str, Any] = {}
    model = _field(response, "model") or _field(response, "model_version") or _field(response, "modelVersion")
    if isinstance(model, str) and model:
        metadata["model"] = model
    usage = _field(response, "usage")
    if usage is None:
        usage = _field(response, "usage_metadata") or _field(response, "usageMetadata")
    if usage is None:
        return None, metadata
    counts = usage_counts(usage)
    prompt, completion = _count(usage, "prompt_tokens"), _count(usage, "completion_tokens")
    inputs, outputs = _count(usage, "input_tokens"), _count(usage, "output_tokens")
    total = _count(usage, "total_tokens", "total_token_count", "totalTokenCount")
    if prompt is not None or completion is not None:
        metadata.update(prompt_tokens=prompt or 0, completion_tokens=completion or 0)
        total = total if total is not None else (prompt or 0) + (completion or 0)
    elif inputs is not None or outputs is not None:
        metadata.update(input_tokens=inputs or 0, output_tokens=outputs or 0)
        for cache in ("cache_creation_input_tokens", "cache_read_input_tokens"):
            if _count(usage, cache):
                metadata[cache] = _count(usage, cache)
        total = total if total is not None else (inputs or 0) + (outputs or 0)
    if counts:
        metadata["usage"] = counts
        if total is None:
            total = counts.get("input_tokens", 0) + counts.get("output_tokens", 0)
    return total, metadata


def usage_metadata(*, model: str | None = None, provider: str | None = None, usage: Any = None) -> dict[str, Any]:
    """The metadata keys the server prices a step from, for what the caller gives."""
    metadata: dict[str, Any] = {}
    if model:
        metadata["model"] = model
    if provider:
        metadata["provider"] = provider
    if usage is not None:
        counts = usage_counts(usage)
        if counts:
            metadata["usage"] = counts
    return metadata
