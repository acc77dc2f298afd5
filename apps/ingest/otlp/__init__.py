"""OTLP/HTTP trace ingest (`POST /v1/traces`): OpenTelemetry spans become runs and steps.

`parsing` reads a body into the official `ExportTraceServiceRequest` message; `spans` turns its
spans into plain values; `mapping` (with `messages`) turns those into the events of the write path;
`services` writes them; `api` is the endpoint and its answers in OTLP's own shapes.
"""
