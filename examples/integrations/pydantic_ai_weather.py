"""A pydantic-ai agent recorded by AgentScope with one line (`capabilities=[AgentScope()]`).

Its model is pydantic-ai's `FunctionModel`, so it runs offline: it asks for the `search` tool, then
answers with what the tool said. Swap in `"openai:gpt-4o"` for a real one.

    AGENTSCOPE_API_KEY=as_... agentscope test --agent examples.integrations.pydantic_ai_weather:answer
"""

from pydantic_ai import Agent
from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import FunctionModel

from agentscope_sdk.integrations.pydantic_ai import AgentScope


def model(messages, info):
    for part in messages[-1].parts:
        if isinstance(part, ToolReturnPart):
            return ModelResponse(parts=[TextPart(f"The forecast: {part.content}")])
    question = str(messages[-1].parts[-1].content)
    city = question.rstrip("?").split()[-1]
    return ModelResponse(parts=[ToolCallPart("search", {"query": city})])


agent = Agent(FunctionModel(model), name="weather-pydantic-ai", capabilities=[AgentScope()])


@agent.tool_plain
def search(query: str) -> str:
    """The weather of a city."""
    return f"sunny in {query}"


def answer(question: str) -> str:
    return agent.run_sync(question).output
