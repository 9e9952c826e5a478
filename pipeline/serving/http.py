"""What every route of the API shares, the serving API's and the assistant's: the JSON error body {"error",
"message"} with its status, and a request body read as one JSON object of bounded size."""
from __future__ import annotations

import json
import logging

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

MAX_BODY_BYTES = 64 * 1024


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str, headers: dict[str, str] | None = None,
                 details: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.error, self.message, self.headers = status, error, message, headers or {}
        self.details = details or {}


def error_response(status: int, error: str, message: str, headers: dict[str, str] | None = None,
                   details: dict[str, str] | None = None) -> Response:
    return Response(status, content_types.APPLICATION_JSON,
                    json.dumps({"error": error, "message": message, **(details or {})}), headers=headers)


def json_body(body: str | None) -> dict:
    if body is not None and len(body.encode()) > MAX_BODY_BYTES:
        raise ApiError(413, "body_too_large", f"the body is over {MAX_BODY_BYTES:,} bytes")
    try:
        parsed = json.loads(body or "")
    except ValueError:
        raise ApiError(400, "bad_json", "the body must be a JSON object") from None
    if not isinstance(parsed, dict):
        raise ApiError(400, "bad_json", "the body must be a JSON object")
    return parsed


def answer_errors_as_json(app: APIGatewayRestResolver, logger: logging.Logger) -> None:
    """An ApiError answers with its status and body; any other exception is logged, and the client gets a 500 with
    no traceback. (A route table adds its own errors' handlers beside these.)"""
    @app.exception_handler(ApiError)
    def refused(error: ApiError) -> Response:
        return error_response(error.status, error.error, error.message, error.headers, error.details)

    @app.exception_handler(Exception)
    def failed(error: Exception) -> Response:
        logger.exception("request failed: %s", error)  # in the log, never in the answer
        return error_response(500, "internal_error", "the request failed on the server; it is logged")
