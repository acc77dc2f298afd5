"""`POST /v1/traces`: OTLP/HTTP, answered as the OTLP specification says.

Every answer is in the request's content type (protobuf or JSON): 200 with an
`ExportTraceServiceResponse` (its `partial_success` saying how many spans were refused and why),
else a `google.rpc.Status` with the HTTP status. Exporters retry 429, 502, 503 and 504 and never a
500, so a throttled key is a 429 and a database that can't be reached a 503 (apps.core.unavailable),
both with `Retry-After`.
"""

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from google.protobuf import json_format
from google.rpc import code_pb2
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.metrics import ingest_counted
from apps.core.unavailable import unavailable_answer
from apps.ingest.otlp.parsing import JSON, PROTOBUF, OtlpJSONParser, OtlpProtobufParser
from apps.ingest.otlp.services import ExportResult, otlp_ingest
from apps.ingest.throttling import IngestThrottle
from apps.projects.authentication import ApiKeyAuthentication, HasApiKey

GRPC_CODES = {
    400: code_pb2.INVALID_ARGUMENT,
    401: code_pb2.UNAUTHENTICATED,
    403: code_pb2.PERMISSION_DENIED,
    404: code_pb2.NOT_FOUND,
    405: code_pb2.UNIMPLEMENTED,
    413: code_pb2.RESOURCE_EXHAUSTED,
    415: code_pb2.INVALID_ARGUMENT,
    429: code_pb2.RESOURCE_EXHAUSTED,
    503: code_pb2.UNAVAILABLE,
}


class OtlpKeyAuthentication(ApiKeyAuthentication):
    """The key as `X-Agentscope-Key`, or as `Authorization: Bearer as_...` (a collector's bearer auth)."""

    def raw_key(self, request) -> str | None:
        raw = super().raw_key(request)
        if raw:
            return raw
        scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        token = token.strip()
        return token if scheme.lower() == "bearer" and token.startswith("as_") else None


class OtlpProtobufRenderer(BaseRenderer):
    media_type = PROTOBUF
    format = "protobuf"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.SerializeToString()


class OtlpJSONRenderer(BaseRenderer):
    media_type = JSON
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json_format.MessageToJson(data, indent=None).encode()


class RequestContentType(DefaultContentNegotiation):
    """Answers in the request's content type, whatever `Accept` says; JSON for any other type."""

    def select_renderer(self, request, renderers, format_suffix=None):
        sent = request.content_type.partition(";")[0].strip().lower()
        renderer = next((renderer for renderer in renderers if renderer.media_type == sent), renderers[-1])
        return renderer, renderer.media_type


class OtlpResponse(Response):
    """DRF drops the Content-Type of an empty body, which an empty `ExportTraceServiceResponse` is in
    protobuf; OTLP answers in the request's content type all the same."""

    @property
    def rendered_content(self):
        content = super().rendered_content
        if not content:
            self["Content-Type"] = self.accepted_media_type
        return content


def otlp_exception_handler(exc, context):
    """DRF's answer to `exc` (with its headers: Retry-After, WWW-Authenticate), as a Status. A database
    that can't be reached is left to apps.core.unavailable, which answers with `otlp_unavailable`."""
    response = drf_exception_handler(exc, context)
    if response is not None:
        detail = response.data.get("detail") if isinstance(response.data, dict) else response.data
        response.data = _status(response.status_code, str(detail))
    return response


def otlp_unavailable(request) -> HttpResponse:
    status = _status(503, "The database is unavailable for a moment: retry after Retry-After.")
    sent = request.content_type.partition(";")[0].strip().lower()
    renderer = OtlpProtobufRenderer() if sent == PROTOBUF else OtlpJSONRenderer()
    return HttpResponse(renderer.render(status), status=503, content_type=renderer.media_type)


def _status(http_status: int, message: str) -> Status:
    return Status(code=GRPC_CODES.get(http_status, code_pb2.UNKNOWN), message=message)


def export_request(request) -> ExportTraceServiceRequest:
    data = request.data
    if isinstance(data, ExportTraceServiceRequest):
        return data
    # An empty body reaches no parser: an empty export, unless its content type is one we don't read.
    if request.content_type.partition(";")[0].strip().lower() not in (PROTOBUF, JSON):
        raise exceptions.UnsupportedMediaType(request.content_type)
    return ExportTraceServiceRequest()


def export_response(result: ExportResult) -> ExportTraceServiceResponse:
    if not result.rejected_spans:
        return ExportTraceServiceResponse()
    partial = ExportTracePartialSuccess(rejected_spans=result.rejected_spans, error_message=result.error_message)
    return ExportTraceServiceResponse(partial_success=partial)


class TracesView(APIView):
    authentication_classes = [OtlpKeyAuthentication]
    permission_classes = [HasApiKey]
    throttle_classes = [IngestThrottle]
    parser_classes = [OtlpProtobufParser, OtlpJSONParser]
    renderer_classes = [OtlpProtobufRenderer, OtlpJSONRenderer]
    content_negotiation_class = RequestContentType

    @extend_schema(exclude=True)  # OTLP's own protocol (docs/otel.md), not our JSON API: no OpenAPI operation
    def post(self, request):
        export = export_request(request)
        result = otlp_ingest(project=request.auth.project, export=export)
        spans = sum(len(scope.spans) for resource in export.resource_spans for scope in resource.scope_spans)
        ingest_counted(spans - result.rejected_spans, result.rejected_spans, spans=True)
        return OtlpResponse(export_response(result))

    def get_exception_handler(self):
        return otlp_exception_handler


traces = unavailable_answer(otlp_unavailable)(TracesView.as_view())
