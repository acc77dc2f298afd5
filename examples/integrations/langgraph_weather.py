"""A LangGraph agent recorded by AgentScope with one callback handler (and its tools wrapped, so
breakpoints can edit their input or skip them).

Its chat model is langchain-core's fake one, so it runs offline: it asks for the `search` tool, then
answers. Swap in `ChatOpenAI(...)` for a real one.

    AGENTSCOPE_API_KEY=as_... agentscope test --agent examples.integrations.langgraph_weather:answer
"""

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from agentscope_sdk.integrations.langgraph import AgentScopeCallbackHandler, wrap_tools


@tool
def search(query: str) -> str:
    """The weather of a city."""
    return f"sunny in {query}"


def build(city: str):
    asks = AIMessage(content="", tool_calls=[{"name": "search", "args": {"query": city}, "id": "call_1"}])
    model = GenericFakeChatModel(messages=iter([asks, AIMessage(content=f"The forecast for {city} is in.")]))

    def agent(state: MessagesState):
        return {"messages": [model.invoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode(wrap_tools([search])))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    return graph.compile()


def answer(question: str) -> str:
    city = question.rstrip("?").split()[-1]
    handler = AgentScopeCallbackHandler(agent_name="weather-langgraph")
    state = build(city).invoke({"messages": [("user", question)]}, config={"callbacks": [handler]})
    return " ".join(message.content for message in state["messages"][-2:])
