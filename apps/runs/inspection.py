"""What the step inspector reads out of a step's JSON: the conversation of a chat-style call (OpenAI
and Anthropic shapes), token usage, the model or tool, and the parts of an error.

Everything here takes arbitrary stored JSON and never raises: a shape it doesn't know gives None.
"""

import json
import re
from dataclasses import dataclass, field

import pygments
from django.utils.safestring import SafeString, mark_safe
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonTracebackLexer

ROLES = {"system", "developer", "user", "assistant", "tool", "function", "model"}
MAX_MESSAGES = 200


FOLD_CHARS = 1500  # longer texts show this much, then "show more"


@dataclass
class Part:
    kind: str  # text | tool_call | tool_result | image | data
    text: str = ""
    name: str = ""
    ref: str = ""  # a tool call's id, or the id a tool result answers

    @property
    def head(self) -> str:
        return self.text[:FOLD_CHARS] if len(self.text) > FOLD_CHARS + 300 else self.text

    @property
    def rest(self) -> str:
        return self.text[len(self.head) :]


@dataclass
class Message:
    role: str
    parts: list[Part] = field(default_factory=list)
    name: str = ""


def chat_messages(value) -> list[Message] | None:
    """The messages of a chat input: a list of {role, content}, or {"messages": [...]} with an
    optional Anthropic `system`; None when `value` isn't one."""
    system = None
    if isinstance(value, dict):
        system, value = value.get("system"), value.get("messages")
    if not isinstance(value, list) or not value or not all(_is_message(item) for item in value):
        return None
    messages = [_message(item) for item in value[:MAX_MESSAGES]]
    if system:
        messages.insert(0, Message(role="system", parts=_parts(system)))
    return messages


def chat_reply(value) -> list[Message] | None:
    """The assistant's answer in a chat output: OpenAI's `choices[].message`, Anthropic's message
    (`role` and a `content` list), a bare message, or a list of messages."""
    if isinstance(value, dict):
        choices = value.get("choices")
        if isinstance(choices, list) and choices:
            found = [choice.get("message") or choice.get("delta") for choice in choices if isinstance(choice, dict)]
            found = [message for message in found if _is_message(message)]
            return [_message(message) for message in found] or None
        if _is_message(value.get("message")):
            return [_message(value["message"])]
        if _is_message(value):
            return [_message(value)]
    return chat_messages(value)


def _is_message(item) -> bool:
    return (
        isinstance(item, dict)
        and str(item.get("role", "")).lower() in ROLES
        and any(key in item for key in ("content", "tool_calls", "function_call", "parts"))
    )


def _message(item: dict) -> Message:
    parts = _parts(item.get("content", item.get("parts")))
    for call in item.get("tool_calls") or []:
        if isinstance(call, dict):
            function = call.get("function") if isinstance(call.get("function"), dict) else call
            parts.append(
                Part(
                    "tool_call",
                    _pretty(function.get("arguments")),
                    str(function.get("name", "")),
                    str(call.get("id", "")),
                )
            )
    if isinstance(item.get("function_call"), dict):
        call = item["function_call"]
        parts.append(Part("tool_call", _pretty(call.get("arguments")), str(call.get("name", ""))))
    if item.get("tool_call_id") and parts:
        parts[0].ref = str(item["tool_call_id"])
    return Message(role=str(item["role"]).lower(), parts=parts, name=str(item.get("name") or ""))


def _parts(content) -> list[Part]:
    if content is None or content == "":
        return []
    if isinstance(content, str):
        return [Part("text", content)]
    if isinstance(content, dict):
        content = [content]
    if not isinstance(content, list):
        return [Part("text", str(content))]
    return [_part(block) for block in content]


def _part(block) -> Part:
    if isinstance(block, str):
        return Part("text", block)
    if not isinstance(block, dict):
        return Part("data", _pretty(block))
    kind = block.get("type")
    if kind in ("text", "input_text", "output_text") or (kind is None and isinstance(block.get("text"), str)):
        return Part("text", str(block.get("text", "")))
    if kind in ("image_url", "image", "input_image"):
        source = block.get("image_url") or block.get("source") or {}
        url = source.get("url", "") if isinstance(source, dict) else str(source)
        return Part("image", "" if str(url).startswith("data:") else str(url))
    if kind == "tool_use":
        return Part("tool_call", _pretty(block.get("input")), str(block.get("name", "")), str(block.get("id", "")))
    if kind == "tool_result":
        inner = block.get("content")
        text = "\n".join(part.text for part in _parts(inner)) if isinstance(inner, list) else _text(inner)
        return Part("tool_result", text, ref=str(block.get("tool_use_id", "")))
    return Part("data", _pretty(block))


def _text(value) -> str:
    return value if isinstance(value, str) else _pretty(value)


def _pretty(value) -> str:
    """Tool arguments arrive as a JSON string (OpenAI) or an object (Anthropic): show both indented."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if value is None:
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


# Usage, model, error -----------------------------------------------------------------------------

INPUT_KEYS = ("input_tokens", "prompt_tokens", "inputTokens", "promptTokens", "gen_ai.usage.input_tokens")
OUTPUT_KEYS = ("output_tokens", "completion_tokens", "outputTokens", "completionTokens", "gen_ai.usage.output_tokens")
MODEL_KEYS = ("model", "model_name", "gen_ai.request.model", "gen_ai.response.model", "llm.model_name")


@dataclass
class Usage:
    input: int | None = None
    output: int | None = None

    @property
    def known(self) -> bool:
        return self.input is not None or self.output is not None


def step_usage(*, metadata, output) -> Usage:
    """Input and output tokens from the step's metadata (its `usage` or top level) or its output's `usage`."""
    usage = Usage()
    for source in _usage_sources(metadata, output):
        usage.input = usage.input if usage.input is not None else _first_int(source, INPUT_KEYS)
        usage.output = usage.output if usage.output is not None else _first_int(source, OUTPUT_KEYS)
    return usage


def _usage_sources(metadata, output) -> list[dict]:
    sources = []
    for container in (metadata, output):
        if isinstance(container, dict):
            if isinstance(container.get("usage"), dict):
                sources.append(container["usage"])
            sources.append(container)
    return sources


def _first_int(source: dict, keys) -> int | None:
    for key in keys:
        value = source.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def step_model(*, metadata, input, output) -> str | None:
    for container in (metadata, output, input):
        if isinstance(container, dict):
            for key in MODEL_KEYS:
                if isinstance(container.get(key), str) and container[key]:
                    return container[key]
    return None


@dataclass
class ErrorView:
    message: str
    type: str = ""
    stack: str = ""
    stack_html: SafeString | None = None


STACK_KEYS = ("stack", "stacktrace", "stack_trace", "traceback", "trace", "exception.stacktrace")
TYPE_KEYS = ("type", "error_type", "exception_type", "name", "code", "exception.type")
MESSAGE_KEYS = ("message", "msg", "error", "detail", "description", "exception.message")


def error_view(error) -> ErrorView | None:
    """The message, type and stack trace of a stored error (an object or a plain string)."""
    if error is None or error == {} or error == "":
        return None
    if not isinstance(error, dict):
        return ErrorView(message=_text(error))
    message = next((_text(error[key]) for key in MESSAGE_KEYS if error.get(key) not in (None, "")), "")
    kind = next((str(error[key]) for key in TYPE_KEYS if isinstance(error.get(key), str | int) and error[key]), "")
    stack = next((error[key] for key in STACK_KEYS if error.get(key)), "")
    if isinstance(stack, list):
        stack = "\n".join(str(line).rstrip("\n") for line in stack)
    stack = str(stack)
    return ErrorView(message=message or _pretty(error), type=kind, stack=stack, stack_html=highlight_stack(stack))


def highlight_stack(stack: str) -> SafeString | None:
    """A stack trace coloured by Pygments (Python's traceback lexer reads most traces well)."""
    if not stack:
        return None
    html = pygments.highlight(stack, PythonTracebackLexer(stripnl=False), HtmlFormatter(nowrap=True))
    return mark_safe(html.rstrip("\n"))  # Pygments escapes the text it colours


# A value in a few words, for lists: what a run was asked and what it answered ----------------------

GIST_KEYS = ("question", "query", "prompt", "input", "message", "text", "answer", "output", "result", "content")
_FIRST_STRING = re.compile(r':\s*"((?:[^"\\]|\\.)*)')


def gist(head: str | None, limit: int = 90) -> str:
    """A value in a few words from the first characters of its JSON text: a string as it is, an
    object's likeliest field (question, answer, ...), a chat's last message, else compact JSON."""
    if not head:
        return ""
    try:
        text = _gist_of(json.loads(head))
    except ValueError:  # cut short: the first string in it
        found = _FIRST_STRING.search(head)
        text = _unescape(found.group(1)) if found else head
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def turn_text(value, limit: int = 4000) -> str:
    """What a run said in one turn of a conversation: a chat's last message, an object's likeliest
    field, a string as it is, else compact JSON; "" for nothing."""
    if value in (None, "", {}, []):
        return ""
    text = _gist_of(value).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _gist_of(value) -> str:
    if isinstance(value, str):
        return value
    messages = chat_messages(value) or chat_reply(value)
    if messages:
        return " ".join(part.text for part in messages[-1].parts if part.kind == "text" and part.text)
    if isinstance(value, dict):
        for key in GIST_KEYS:
            if isinstance(value.get(key), str | int | float) and value[key] != "":
                return str(value[key])
        strings = [item for item in value.values() if isinstance(item, str) and item]
        if len(strings) == 1:
            return strings[0]
    return json.dumps(value, ensure_ascii=False, default=str)


def _unescape(text: str) -> str:
    try:
        return json.loads(f'"{text}"')
    except ValueError:
        return text
