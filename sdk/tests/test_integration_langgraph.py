"""LangGraph through LangChain's callbacks: a real graph (a model node and a ToolNode) on
langchain-core's fake chat model, which asks for a tool call; recorded by the live server, stopped at
a breakpoint in a thread, moved on by the resume API."""

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from sdk.tests.test_breakpoints import Agent as Thread
from sdk.tests.test_breakpoints import break_on_search, paused_run, resume, waiting_hit

import agentscope_sdk
from agentscope_sdk.integrations.langgraph import AgentScopeCallbackHandler, wrap_tools
from apps.runs.models import Run, RunStatus, RunStep, StepStatus

pytestmark = pytest.mark.django_db(transaction=True)


def weather_graph(calls: list, *, wrap: bool):
    @tool
    def search(query: str) -> str:
        """Look up the weather of a city."""
        calls.append(query)
        return f"sunny in {query}"

    asks = AIMessage(content="", tool_calls=[{"name": "search", "args": {"query": "Paris"}, "id": "call_1"}])
    asks.usage_metadata = {"input_tokens": 20, "output_tokens": 5, "total_tokens": 25}
    model = GenericFakeChatModel(messages=iter([asks, AIMessage(content="Here is the forecast.")]))
    tools = wrap_tools([search]) if wrap else [search]

    def agent(state: MessagesState):
        return {"messages": [model.invoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode(tools))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    graph.add_edge("agent", END)
    return graph.compile()


def run_graph(client, calls, *, wrap=False):
    graph = weather_graph(calls, wrap=wrap)
    handler = AgentScopeCallbackHandler(client=client, agent_name="weathergraph")

    def invoke(question):
        return graph.invoke({"messages": [("user", question)]}, config={"callbacks": [handler]})

    return invoke


def tool_result(state) -> str:
    return next(message.content for message in state["messages"] if message.type == "tool")


@pytest.mark.parametrize("wrap", [False, True], ids=["handler", "wrapped-tools"])
def test_a_graph_run_is_recorded_as_a_tree(make_client, wrap):
    client, calls = make_client(), []

    state = run_graph(client, calls, wrap=wrap)("Weather in Paris?")

    assert calls == ["Paris"] and state["messages"][-1].content == "Here is the forecast."
    assert client.flush(timeout=10)
    run = Run.objects.get()
    assert (run.agent_name, run.status) == ("weathergraph", RunStatus.COMPLETED)
    assert run.metadata["integration"]["framework"] == "langgraph"
    assert run.metadata["integration"]["actions"] == ["continue", "abort"]
    steps = {step.pk: step for step in run.steps.all()}
    tree = sorted((steps[s.parent_id].name if s.parent_id else "", s.step_type, s.name) for s in steps.values())
    assert tree == [
        ("", "custom", "agent"),
        ("", "custom", "agent"),
        ("", "custom", "tools"),
        ("agent", "custom", "tools_condition"),  # the conditional edge, run as part of its node
        ("agent", "custom", "tools_condition"),
        ("agent", "llm_call", "GenericFakeChatModel"),
        ("agent", "llm_call", "GenericFakeChatModel"),
        ("tools", "tool_call", "search"),
    ]
    asks = RunStep.objects.filter(step_type="llm_call").order_by("step_index").first()
    assert asks.input == [{"role": "user", "content": "Weather in Paris?"}]
    call = {"id": "call_1", "type": "function", "function": {"name": "search", "arguments": '{"query": "Paris"}'}}
    assert asks.output == [{"role": "assistant", "content": None, "tool_calls": [call]}]
    assert (asks.tokens_used, asks.metadata["usage"]) == (
        25,
        {"input_tokens": 20, "output_tokens": 5, "total_tokens": 25},
    )
    search = RunStep.objects.get(step_type="tool_call")
    assert (search.input, search.output, search.status) == ({"query": "Paris"}, "sunny in Paris", StepStatus.COMPLETED)
    assert search.metadata["tool_call_id"] == "call_1"
    expected = ["continue", "edit", "skip", "abort"] if wrap else ["continue", "abort"]
    assert search.metadata["breakpoint_actions"] == expected


def test_a_breakpoint_pauses_any_tool_and_continue_goes_on(make_client, project, api):
    break_on_search(project)
    client, calls = make_client(), []
    agent = Thread(run_graph(client, calls), "Weather in Paris?")

    run = paused_run()
    assert waiting_hit(run).step_input == {"query": "Paris"}
    assert calls == [] and agent.is_alive()
    response = api.post(f"/api/runs/{run.pk}/resume", {"action": "continue", "input": {"query": "Oslo"}}, format="json")
    assert response.status_code == 400  # a plain tool can't take an edited input: the callback can't change it
    resume(api, run, action="continue")
    state, error = agent.outcome()

    assert error is None and calls == ["Paris"] and tool_result(state) == "sunny in Paris"
    assert client.flush(timeout=10)
    assert Run.objects.get().status == RunStatus.COMPLETED


def test_a_wrapped_tool_gets_the_edited_input(make_client, project, api):
    break_on_search(project)
    client, calls = make_client(), []
    agent = Thread(run_graph(client, calls, wrap=True), "Weather in Paris?")

    run = paused_run()
    resume(api, run, action="continue", input={"query": "Oslo"})
    state, error = agent.outcome()

    assert error is None and calls == ["Oslo"] and tool_result(state) == "sunny in Oslo"
    assert client.flush(timeout=10)
    search = RunStep.objects.get(step_type="tool_call")
    assert (search.input, search.output) == ({"query": "Oslo"}, "sunny in Oslo")


def test_a_wrapped_tool_is_skipped_with_the_given_output(make_client, project, api):
    break_on_search(project)
    client, calls = make_client(), []
    agent = Thread(run_graph(client, calls, wrap=True), "Weather in Paris?")

    resume(api, paused_run(), action="skip", output="snow, from the cache")
    state, error = agent.outcome()

    assert error is None and calls == [] and tool_result(state) == "snow, from the cache"


def test_abort_stops_the_graph_and_the_run_ends_failed(make_client, project, api):
    break_on_search(project)
    client, calls = make_client(), []
    agent = Thread(run_graph(client, calls), "Weather in Paris?")

    run = paused_run()
    resume(api, run, action="abort")
    _state, error = agent.outcome()

    assert isinstance(error, agentscope_sdk.Aborted) and calls == []
    assert client.flush(timeout=10)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.error["type"] == "Aborted"
    assert RunStep.objects.get(step_type="tool_call").status == StepStatus.FAILED
