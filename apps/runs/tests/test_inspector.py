"""What the inspector reads out of steps (chat shapes, usage, errors) and how it shows nasty JSON."""

import json
import re

import pytest
from django.template import Context, Template

from apps.core.templatetags import ui
from apps.runs.inspection import chat_messages, chat_reply, error_view, step_model, step_usage


def render_json(value) -> str:
    return Template("{% load ui %}{% json_viewer value %}").render(Context({"value": value}))


# Chat shapes -------------------------------------------------------------------------------------


def test_it_reads_an_openai_conversation_with_tool_calls():
    messages = chat_messages(
        {
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "call_1", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}}],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "18°C"},
            ],
        }
    )
    assert [m.role for m in messages] == ["system", "user", "assistant", "tool"]
    assert messages[1].parts[0].text == "Weather in Paris?"
    call = messages[2].parts[0]
    assert (call.kind, call.name, call.ref) == ("tool_call", "weather", "call_1")
    assert json.loads(call.text) == {"city": "Paris"}
    assert messages[3].parts[0].text == "18°C" and messages[3].parts[0].ref == "call_1"


def test_it_reads_an_anthropic_conversation():
    messages = chat_messages(
        {
            "system": "You are terse.",
            "messages": [
                {"role": "user", "content": "Find order 7"},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "tu_1", "name": "orders", "input": {"id": 7}}],
                },
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": "shipped"}]},
            ],
        }
    )
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[0].parts[0].text == "You are terse."
    assert messages[2].parts[0].kind == "tool_call" and messages[2].parts[0].name == "orders"
    assert messages[3].parts[0].kind == "tool_result" and messages[3].parts[0].text == "shipped"


def test_it_reads_replies_in_both_shapes():
    openai = {"choices": [{"message": {"role": "assistant", "content": "Hi!"}}], "usage": {"prompt_tokens": 3}}
    anthropic = {"role": "assistant", "content": [{"type": "text", "text": "Hello"}], "usage": {"output_tokens": 2}}
    assert chat_reply(openai)[0].parts[0].text == "Hi!"
    assert chat_reply(anthropic)[0].parts[0].text == "Hello"


@pytest.mark.parametrize(
    "value",
    [
        None,
        "text",
        42,
        [],
        {"question": "hi"},
        [{"role": "user"}],
        [{"content": "no role"}],
        [{"role": "x", "content": "?"}],
    ],
)
def test_anything_else_is_not_a_conversation(value):
    assert chat_messages(value) is None
    assert chat_reply(value) is None


def test_long_message_text_folds():
    part = chat_messages([{"role": "user", "content": "y" * 5000}])[0].parts[0]
    assert len(part.head) == 1500 and part.head + part.rest == "y" * 5000


def test_usage_and_model_come_from_metadata_or_the_response():
    assert step_usage(metadata={"prompt_tokens": 10, "completion_tokens": 5}, output=None).input == 10
    usage = step_usage(metadata=None, output={"usage": {"input_tokens": 7, "output_tokens": 2}})
    assert (usage.input, usage.output, usage.known) == (7, 2, True)
    assert not step_usage(metadata={"tokens": "many"}, output="text").known
    assert step_model(metadata={"temperature": 0}, input={"model": "gpt-4o"}, output=None) == "gpt-4o"


def test_an_error_has_its_message_type_and_highlighted_stack():
    trace = "Traceback (most recent call last):\n  File \"agent.py\", line 3, in run\nKeyError: '<b>x</b>'"
    view = error_view({"type": "KeyError", "message": "missing <b>x</b>", "traceback": trace})
    assert (view.type, view.message) == ("KeyError", "missing <b>x</b>")
    assert '<span class="gt">Traceback (most recent call last):</span>' in view.stack_html
    assert "<b>x</b>" not in view.stack_html and "&lt;b&gt;x&lt;/b&gt;" in view.stack_html
    assert error_view("plain failure").message == "plain failure"
    assert error_view({"code": 500}).message == '{\n  "code": 500\n}'
    assert error_view(None) is None


# The JSON viewer on nasty payloads ---------------------------------------------------------------


def test_html_in_keys_and_values_is_escaped():
    html = render_json({"<script>alert(1)</script>": "<script>alert(2)</script>", "list": ["</script><img onerror=x>"]})
    assert "<script>alert" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    source = re.search(r'<script type="application/json">(.*?)</script>', html, re.S).group(1)
    assert "<" not in source  # json_script escapes it as \u003C


def test_deep_nesting_renders_and_elides_past_the_limit():
    value = leaf = {}
    for _ in range(300):
        leaf["n"] = {}
        leaf = leaf["n"]
    html = render_json(value)
    assert html.count("<details") == ui.JSON_MAX_DEPTH
    assert "nested too deep to show" in html


def test_a_huge_string_is_folded_and_cut():
    html = render_json({"big": "x" * 1_000_000})
    tree = html.split('<script type="application/json">')[0]
    assert "show more (" in tree and "data-fold-toggle" in tree
    assert f"{1_000_000 - ui.JSON_MAX_STRING:,} more characters" in tree
    assert len(tree) < ui.JSON_MAX_STRING + 5_000


def test_a_folded_string_is_one_string_in_two_spans():
    text = 'say "hi"\n' * 200
    html = render_json(text)
    head, rest = re.search(r'class="jv-string fold">(.*?)<span class="fold-rest">(.*?)</span>', html, re.S).groups()
    shown = (head + rest).replace("&quot;", '"').replace("&#x27;", "'")
    assert shown == '"' + text.replace('"', '\\"') + '"'  # JSON quoting, real line breaks


def test_unicode_stays_readable():
    html = render_json({"emoji": "🚀 ünïcødé 日本語", "ключ": "значение"})
    assert "🚀 ünïcødé 日本語" in html and "ключ" in html and "\\u" not in html.split("<script")[0]


# A stored <script> never runs: end to end through the ingest API and the run page -----------------


def test_a_stored_script_is_inert_on_the_run_page(ingest, client_alice):
    run = ingest.post("/api/ingest/run", {"agent_name": "<script>alert('agent')</script>"}, format="json").json()
    ingest.post(
        f"/api/ingest/run/{run['id']}/step",
        {
            "step_type": "llm_call",
            "name": "<img src=x onerror=alert(1)>",
            "input": [{"role": "user", "content": "<script>alert('chat')</script>"}],
            "output": {"<script>": "</script><script>alert(3)</script>"},
            "error": {"message": "<script>alert(4)</script>", "traceback": "<script>alert(5)</script>"},
        },
        format="json",
    )
    for url in (f"/runs/{run['id']}?step=0", "/runs"):
        html = client_alice.get(url).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html
    html = client_alice.get(f"/runs/{run['id']}?step=0").content.decode()
    assert "&lt;script&gt;alert(&#x27;chat&#x27;)&lt;/script&gt;" in html  # in the conversation, as text
