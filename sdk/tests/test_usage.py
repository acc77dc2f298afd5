"""Usage read from the providers' own response types (the official openai, anthropic and google-genai
packages, no network), and priced by the real server when an agent's llm_call returns them."""

from decimal import Decimal

from anthropic.types import Message, Usage
from anthropic.types.output_tokens_details import OutputTokensDetails
from google.genai.types import GenerateContentResponse, GenerateContentResponseUsageMetadata
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletion
from openai.types.completion_usage import CompletionTokensDetails, PromptTokensDetails
from openai.types.responses import ResponseUsage
from openai.types.responses.response_usage import InputTokensDetails
from openai.types.responses.response_usage import OutputTokensDetails as ResponseOutputDetails

from agentscope_sdk._usage import usage_counts, usage_of

M = Decimal(1_000_000)


def chat_completion(model="gpt-4o-mini") -> ChatCompletion:
    usage = CompletionUsage(
        prompt_tokens=10_000,
        completion_tokens=2_000,
        total_tokens=12_000,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=4_000),
        completion_tokens_details=CompletionTokensDetails(reasoning_tokens=500),
    )
    return ChatCompletion.model_validate(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "usage": usage.model_dump(),
        }
    )


def test_openai_chat_completions():
    tokens, metadata = usage_of(chat_completion())
    assert tokens == 12_000 and metadata["model"] == "gpt-4o-mini"
    assert metadata["usage"] == {
        "input_tokens": 10_000, "output_tokens": 2_000, "cache_read_tokens": 4_000, "reasoning_tokens": 500,
    }  # fmt: skip


def test_openai_responses():
    usage = ResponseUsage(
        input_tokens=3_000,
        input_tokens_details=InputTokensDetails(cached_tokens=1_000, cache_write_tokens=500),
        output_tokens=800,
        output_tokens_details=ResponseOutputDetails(reasoning_tokens=600),
        total_tokens=3_800,
    )
    assert usage_counts(usage) == {
        "input_tokens": 3_000, "output_tokens": 800, "cache_read_tokens": 1_000, "cache_write_tokens": 500,
        "reasoning_tokens": 600,
    }  # fmt: skip


def test_anthropic_messages_count_cache_reads_and_writes_as_input():
    usage = Usage(
        input_tokens=1_000,
        cache_read_input_tokens=20_000,
        cache_creation_input_tokens=5_000,
        output_tokens=800,
        output_tokens_details=OutputTokensDetails(thinking_tokens=300),
    )
    message = Message(
        id="msg_1", type="message", role="assistant", model="claude-sonnet-4-20250514", content=[], usage=usage,
        stop_reason="end_turn", stop_sequence=None,
    )  # fmt: skip
    _, metadata = usage_of(message)
    assert metadata["model"] == "claude-sonnet-4-20250514"
    assert metadata["usage"] == {
        "input_tokens": 26_000, "output_tokens": 800, "cache_read_tokens": 20_000, "cache_write_tokens": 5_000,
        "reasoning_tokens": 300,
    }  # fmt: skip


def test_google_counts_thinking_as_output():
    response = GenerateContentResponse(
        model_version="gemini-2.5-flash",
        usage_metadata=GenerateContentResponseUsageMetadata(
            prompt_token_count=12_000,
            cached_content_token_count=8_000,
            candidates_token_count=1_000,
            thoughts_token_count=3_000,
            total_token_count=16_000,
        ),
    )
    tokens, metadata = usage_of(response)
    assert tokens == 16_000 and metadata["model"] == "gemini-2.5-flash"
    assert metadata["usage"] == {
        "input_tokens": 12_000, "output_tokens": 4_000, "cache_read_tokens": 8_000, "reasoning_tokens": 3_000,
    }  # fmt: skip
    camel = {"promptTokenCount": 10, "candidatesTokenCount": 2, "thoughtsTokenCount": 3}  # the REST API's JSON
    assert usage_counts(camel) == {"input_tokens": 10, "output_tokens": 5, "reasoning_tokens": 3}


def test_an_llm_call_is_priced_by_the_server(make_client):
    from apps.runs.models import RunStep

    client = make_client()

    @client.llm_call(name="plan", provider="openai")
    def plan(question: str) -> ChatCompletion:
        return chat_completion()

    @client.llm_call(name="tutor", model="acme-tutor-1", usage={"input_tokens": 50, "output_tokens": 5})
    def tutor(question: str) -> str:
        return "42"

    with client.run("bot"):
        plan("why?")
        tutor("why?")
    assert client.flush(timeout=10)
    planned = RunStep.objects.get(name="plan")
    # gpt-4o-mini: $0.15 per million input tokens, $0.075 cached, $0.60 output (reasoning included)
    assert planned.cost_usd == (6_000 * Decimal("0.15") + 4_000 * Decimal("0.075") + 2_000 * Decimal("0.60")) / M
    assert planned.metadata["provider"] == "openai"
    tutored = RunStep.objects.get(name="tutor")
    assert tutored.metadata["usage"] == {"input_tokens": 50, "output_tokens": 5} and tutored.cost_usd is None


def test_log_step_takes_model_provider_usage_and_a_reported_cost(make_client):
    from apps.runs.models import RunStep

    client = make_client()
    with client.run("bot") as run:
        run.log_step(
            "a", "llm_call", output="ok", model="gpt-4o-mini", provider="openai", usage={"output_tokens": 1_000_000}
        )
        run.log_step("b", "llm_call", output="ok", model="my-model", usage={"input_tokens": 1}, cost_usd=0.02)
    assert client.flush(timeout=10)
    assert RunStep.objects.get(name="a").cost_usd == Decimal("0.6")
    b = RunStep.objects.get(name="b")
    assert b.cost_usd == Decimal("0.02") and b.cost_details == {"source": "reported"}
