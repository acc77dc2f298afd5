"""LLM messages from span attributes, in the chat shape the run page shows (OpenAI's: `role`,
`content` text or blocks, `tool_calls` of `{id, type, function: {name, arguments}}`, tool results as
`{"role": "tool", "tool_call_id", "content"}`).

Three spellings are read, each taken out of the attributes it came from:
- GenAI semantic conventions: `gen_ai.system_instructions`, `gen_ai.input.messages`,
  `gen_ai.output.messages`, JSON arrays of `{role, parts: [{type, ...}]}`;
- OpenInference: flattened `llm.input_messages.N.message.{role,content,contents,tool_calls,...}`;
- OpenLLMetry: flattened `gen_ai.prompt.N.{role,content,tool_calls}` / `gen_ai.completion.N.*`.
Parts or keys this module doesn't know stay in the message as they came.
"""

from rest_framework.exceptions import ParseError

from apps.ingest.parsers import parse_json_text

MAX_MESSAGES = 2000


def json_value(value):
    """A JSON string attribute parsed as the ingest API parses bodies, else the value as it is."""
    if not isinstance(value, str) or not value or value[0] not in "[{":
        return value
    try:
        return parse_json_text(value)
    except ParseError:
        return value


def input_messages(attributes: dict) -> list[dict] | None:
    """The conversation sent to the model, system instructions first; None when no spelling is there."""
    messages = _genai(attributes, "gen_ai.input.messages")
    if messages is None:
        messages = _flattened(attributes, "llm.input_messages") or _flattened(attributes, "gen_ai.prompt")
    system = _genai_system(attributes)
    if system is not None:
        messages = [system, *(messages or [])]
    return messages


def output_messages(attributes: dict) -> list[dict] | None:
    messages = _genai(attributes, "gen_ai.output.messages")
    if messages is None:
        messages = _flattened(attributes, "llm.output_messages") or _flattened(attributes, "gen_ai.completion")
    return messages


# GenAI semantic conventions ------------------------------------------------------------------------


def _genai(attributes: dict, key: str) -> list[dict] | None:
    raw = json_value(attributes.get(key))
    if not isinstance(raw, list) or not all(isinstance(item, dict) and "role" in item for item in raw):
        return None
    del attributes[key]
    messages = []
    for item in raw[:MAX_MESSAGES]:
        messages.extend(genai_message(item))
    return messages


def _genai_system(attributes: dict) -> dict | None:
    raw = json_value(attributes.get("gen_ai.system_instructions"))
    if raw is None:
        return None
    del attributes["gen_ai.system_instructions"]
    parts = raw if isinstance(raw, list) else [raw]
    return {"role": "system", "content": _content([_block(part) for part in parts])}


def genai_message(item: dict) -> list[dict]:
    """One GenAI message as chat messages: itself, then one `tool` message per tool result it holds."""
    message = {key: value for key, value in item.items() if key != "parts"}
    blocks, calls, results = [], [], []
    parts = item.get("parts")
    for part in parts if isinstance(parts, list) else []:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "tool_call":
            function = {"name": part.get("name"), "arguments": part.get("arguments")}
            calls.append({"id": part.get("id"), "type": "function", "function": function})
        elif kind == "tool_call_response":
            result = part.get("response", part.get("result"))
            results.append(
                {"role": "tool", "tool_call_id": part.get("id"), "name": part.get("name"), "content": result}
            )
        else:
            blocks.append(_block(part))
    if not isinstance(parts, list) and parts is not None:
        blocks.append(_block(parts))
    if blocks or calls or not results:
        message["content"] = _content(blocks)
        if calls:
            message["tool_calls"] = calls
        return [message, *results]
    return results


def _block(part):
    """A text part becomes OpenAI's text block; any other part is kept as it came."""
    if isinstance(part, dict) and part.get("type") == "text" and "content" in part:
        return {"type": "text", "text": part["content"]}
    if isinstance(part, str):
        return {"type": "text", "text": part}
    return part


def _content(blocks: list):
    if len(blocks) == 1 and isinstance(blocks[0], dict) and blocks[0].get("type") == "text":
        return blocks[0]["text"]
    return blocks or None


# OpenInference and OpenLLMetry: flattened attributes -------------------------------------------------


def _flattened(attributes: dict, prefix: str) -> list[dict] | None:
    items = unflatten(attributes, prefix)
    if not isinstance(items, list):
        return None
    return [_flat_message(item) for item in items[:MAX_MESSAGES] if isinstance(item, dict)]


def _flat_message(item: dict) -> dict:
    message = dict(item.get("message", item)) if isinstance(item.get("message"), dict) else dict(item)
    contents = message.pop("contents", None)
    if isinstance(contents, list) and "content" not in message:
        message["content"] = [_flat_content(entry) for entry in contents]
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        message["tool_calls"] = [_flat_call(call) for call in calls]
    return message


def _flat_content(entry):
    content = entry.get("message_content", entry) if isinstance(entry, dict) else entry
    if isinstance(content, dict) and content.get("type") == "image" and isinstance(content.get("image"), dict):
        image = content["image"].get("image", content["image"])
        return {"type": "image_url", "image_url": image}
    return content


def _flat_call(call):
    call = call.get("tool_call", call) if isinstance(call, dict) else call
    if isinstance(call, dict) and "function" not in call and "name" in call:
        # OpenLLMetry: {name, arguments, id} at the top
        rest = {key: value for key, value in call.items() if key not in ("name", "arguments")}
        return {**rest, "type": "function", "function": {"name": call["name"], "arguments": call.get("arguments")}}
    return call


def unflatten(attributes: dict, prefix: str):
    """The attributes under `prefix.` as one nested value (numbered keys become lists), taken out of
    `attributes`; None when there are none. A key that can't fit the tree stays where it was."""
    start = prefix + "."
    keys = [key for key in attributes if key.startswith(start)]
    if not keys:
        return None
    tree: dict = {}
    for key in keys:
        *path, last = key[len(start) :].split(".")
        node = tree
        for segment in path:
            node = node.setdefault(segment, {})
            if not isinstance(node, dict):
                break
        else:
            if last not in node:
                node[last] = attributes.pop(key)
    return _listed(tree)


def _listed(node):
    if not isinstance(node, dict):
        return node
    node = {key: _listed(value) for key, value in node.items()}
    if node and all(key.isdigit() for key in node):
        return [node[key] for key in sorted(node, key=int)]
    return node
