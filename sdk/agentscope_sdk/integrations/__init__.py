"""Framework integrations: one line of setup records an agent built on a framework and lets the
project's breakpoints stop it, through the framework's own hooks.

- `agentscope_sdk.integrations.pydantic_ai` (extra `pydantic-ai`): a pydantic-ai capability.
- `agentscope_sdk.integrations.openai_agents` (extra `openai-agents`): a tracing processor and run hooks.
- `agentscope_sdk.integrations.langgraph` (extra `langgraph`): a LangChain callback handler and a tool wrapper.

Each module imports its framework, so import only the one you use. See docs/integrations.md.
"""
