"""What an LLM step cost, worked out once, when the write path (apps.runs.writes) writes it.

A step reports, in its metadata, `model`, `provider` and `usage` (`input_tokens`, `output_tokens`,
`cache_read_tokens`, `cache_write_tokens`, `reasoning_tokens`), as the SDK, the ingest API and the
OTLP mapping put them there. Counts follow genai-prices: `input_tokens` is all the input, cache reads
and writes included; `output_tokens` is all the output, reasoning included (`reasoning_tokens` says
how much of it was reasoning, priced apart only by a custom price that names a reasoning price).

The price is, in order: a cost the client reported (`metadata.cost_usd`), kept as given; the
project's own price for the model (`CustomPrice`, exact names before patterns); the genai-prices
table. A step none of them prices has no cost (null, shown as "no price"), never $0.

genai-prices' calculator costs 85-300 µs a call, too much for ingest's budget. Most prices are flat
for the kinds a step reports (a rate per token of input, output, cache read and cache write), so the
rates of each model are asked of the library once, by pricing a million tokens of each kind, and a
step's cost is those rates times its counts; a tiered price (by context size) goes to the library's
calculator every time. A test checks the two agree.
"""

import fnmatch
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import genai_prices
from genai_prices import Usage
from genai_prices.data_snapshot import get_snapshot

from apps.runs.models import CustomPrice, PriceMatch, StepType

SOURCE = "genai-prices"
VERSION = genai_prices.__version__
KINDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens")
MILLION = Decimal(1_000_000)
PLACES = Decimal("1e-10")
PRICES_TTL = 10.0  # seconds a worker keeps a project's custom prices (a save clears its own at once)


@dataclass(frozen=True, slots=True)
class Rates:
    """USD per token of each kind (cache kinds are parts of the input; reasoning a part of the output)."""

    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal
    reasoning: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Custom:
    id: str
    model: str
    glob: bool
    rates: Rates


def step_usage(metadata: dict | None) -> dict[str, int]:
    usage = (metadata or {}).get("usage")
    if not isinstance(usage, dict):
        return {}
    counts = {}
    for kind in KINDS:
        value = usage.get(kind)
        if type(value) is int and value > 0:
            counts[kind] = value
        elif type(value) is float and value > 0:
            counts[kind] = int(value)
    return counts


def step_cost(
    *, step_type: str, metadata: dict | None, at: datetime | None, custom: list[Custom]
) -> tuple[str | None, Decimal | None, dict | None]:
    """(model, cost in USD or None, details: its parts and what priced it) for a step's values."""
    metadata = metadata if isinstance(metadata, dict) else {}
    model = metadata.get("model")
    model = model[:255] if isinstance(model, str) and model else None
    if "replayed_from" in metadata:  # a replay's copy of a recorded step: it was not called again
        return model, None, None
    reported = reported_cost(metadata)
    if reported is not None:
        return model, reported, {"source": "reported"}
    if model is None or step_type != StepType.LLM_CALL:
        return model, None, None
    usage = step_usage(metadata)
    if not usage:
        return model, None, None
    price = custom_for(model, custom)
    if price is not None:
        cost, parts = cost_from_rates(price.rates, usage)
        return model, cost, {"source": "custom", "price_id": price.id, "match": price.model, **parts}
    provider = metadata.get("provider")
    return model, *table_cost(model, provider if isinstance(provider, str) else None, usage, at)


def reported_cost(metadata: dict) -> Decimal | None:
    value = metadata.get("cost_usd")
    if value is None or isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        cost = Decimal(str(value))
    except InvalidOperation:
        return None
    if not cost.is_finite() or cost < 0 or cost >= Decimal("1e10"):
        return None
    return cost.quantize(PLACES)


def custom_for(model: str, custom: list[Custom]) -> Custom | None:
    """The project's price for `model`: an exact name first, then the longest matching pattern."""
    name = model.lower()
    for price in custom:
        if not price.glob and price.model.lower() == name:
            return price
    globs = [price for price in custom if price.glob and fnmatch.fnmatchcase(name, price.model.lower())]
    return max(globs, key=lambda price: len(price.model), default=None)


def cost_from_rates(rates: Rates, usage: dict[str, int]) -> tuple[Decimal, dict]:
    cache_read, cache_write = usage.get("cache_read_tokens", 0), usage.get("cache_write_tokens", 0)
    plain_input = max(usage.get("input_tokens", 0) - cache_read - cache_write, 0)
    output = usage.get("output_tokens", 0)
    reasoning = min(usage.get("reasoning_tokens", 0), output) if rates.reasoning is not None else 0
    parts = {
        "input": plain_input * rates.input,
        "cache_read": cache_read * rates.cache_read,
        "cache_write": cache_write * rates.cache_write,
        "output": (output - reasoning) * rates.output,
    }
    if reasoning:
        parts["reasoning"] = reasoning * rates.reasoning
    total = sum(parts.values(), Decimal(0)).quantize(PLACES)
    return total, {name: str(value.quantize(PLACES).normalize()) for name, value in parts.items() if value}


def table_cost(model: str, provider: str | None, usage: dict[str, int], at: datetime | None):
    """(cost, details) from genai-prices, or (None, None) when the table has no price for the model."""
    found = _table_model(model.lower(), (provider or "").lower() or None)
    if found is None:
        return None, None
    provider_info, model_info = found
    at = at or datetime.now(UTC)
    prices = model_info.get_prices(at)
    details = {"source": SOURCE, "version": VERSION, "provider": provider_info.id, "model_ref": model_info.id}
    rates = _flat_rates(prices)
    if rates is not None:
        cost, parts = cost_from_rates(rates, usage)
        return cost, {**details, **parts}
    counts = {kind: count for kind, count in usage.items() if kind != "reasoning_tokens"}
    try:
        calc = model_info.calc_price(Usage(**counts), provider_info, genai_request_timestamp=at)
    except (ValueError, LookupError):
        return None, None
    parts = {"input": str(calc.input_price.normalize()), "output": str(calc.output_price.normalize())}
    return Decimal(calc.total_price).quantize(PLACES), {**details, **parts}


@lru_cache(maxsize=1024)
def _table_model(model: str, provider: str | None):
    try:
        return get_snapshot().find_provider_model(model, None, provider, None)
    except LookupError:
        if provider is None:
            return None
    try:  # a provider the table doesn't know (an OTLP `gen_ai.system` spelling): the model alone
        return get_snapshot().find_provider_model(model, None, None, None)
    except LookupError:
        return None


_FLAT_KEYS = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")
_rates_of: dict[int, tuple[object, Rates | None]] = {}


def _flat_rates(prices) -> Rates | None:
    """The per-token rates of a flat price, asked of the library once per price (None when tiered)."""
    known = _rates_of.get(id(prices))
    if known is not None and known[0] is prices:
        return known[1]
    rates = None
    # Only the kinds a step reports matter (audio, images or 1-hour cache writes are never reported here).
    if all(isinstance(getattr(prices, key, None), Decimal | None) for key in _FLAT_KEYS):

        def per_token(**counts) -> tuple[Decimal, Decimal]:
            calc = prices.calc_price(Usage(**counts))
            return calc["input_price"] / MILLION, calc["output_price"] / MILLION

        m = 1_000_000
        rates = Rates(
            input=per_token(input_tokens=m)[0],
            output=per_token(output_tokens=m)[1],
            cache_read=per_token(input_tokens=m, cache_read_tokens=m)[0],
            cache_write=per_token(input_tokens=m, cache_write_tokens=m)[0],
        )
    _rates_of[id(prices)] = (prices, rates)
    return rates


# A project's custom prices, kept a few seconds per worker -------------------------------------------

_custom: dict = {}


def custom_prices(project_id) -> list[Custom]:
    now = time.monotonic()
    known = _custom.get(project_id)
    if known is not None and now - known[0] < PRICES_TTL:
        return known[1]
    prices = [custom_of(price) for price in CustomPrice.objects.filter(project_id=project_id)]
    _custom[project_id] = (now, prices)
    return prices


def custom_prices_forget(project_id) -> None:
    _custom.pop(project_id, None)


def custom_of(price: CustomPrice) -> Custom:
    def rate(value):
        return None if value is None else Decimal(value) / MILLION

    return Custom(
        id=str(price.pk),
        model=price.model,
        glob=price.match == PriceMatch.GLOB,
        rates=Rates(
            input=rate(price.input_per_million),
            output=rate(price.output_per_million),
            cache_read=rate(
                price.cache_read_per_million if price.cache_read_per_million is not None else price.input_per_million
            ),
            cache_write=rate(
                price.cache_write_per_million if price.cache_write_per_million is not None else price.input_per_million
            ),
            reasoning=rate(price.reasoning_per_million),
        ),
    )
