"""AgentScope SDK: report agent runs and steps to an AgentScope server."""

__version__ = "0.1.0"
