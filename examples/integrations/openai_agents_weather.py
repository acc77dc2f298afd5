"""An OpenAI Agents SDK agent recorded by AgentScope with one line (`instrument(agent)`).

Its model speaks the Chat Completions API at `OPENAI_BASE_URL` (OpenAI itself when unset).

    AGENTSCOPE_API_KEY=as_... agentscope test --agent examples.integrations.openai_agents_weather:answer
"""

import os

from agents import Agent, OpenAIChatCompletionsModel, Runner, function_tool
from openai import AsyncOpenAI

from agentscope_sdk.integrations.openai_agents import instrument


@function_tool
def get_weather(city: str) -> str:
    """The weather of a city."""
    return f"sunny in {city}"


def answer(question: str) -> str:
    client = AsyncOpenAI(
        base_url=os.environ.get("OPENAI_BASE_URL"), api_key=os.environ.get("OPENAI_API_KEY", "sk-none")
    )
    model = OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=client)
    agent = Agent(
        name="weather-openai-agents", instructions="Answer in one sentence.", tools=[get_weather], model=model
    )
    instrument(agent)
    return Runner.run_sync(agent, question).final_output
