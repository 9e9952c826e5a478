"""POST /v1/ask {"question": "..."}: the assistant's answer as JSON (the sentence, the SQL run, up to 100 rows, the
bytes scanned on Athena). API Gateway routes this one path to the assistant's Lambda, the rest of /v1 to the
serving API's; `engagement-pipeline serve` routes them the same way."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from pipeline.core.errors import ConfigError, ModelCallError
from pipeline.serving.http import ApiError, answer_errors_as_json, error_response, json_body

if TYPE_CHECKING:
    from pipeline.assistant.loop import Assistant  # pyarrow and sqlglot: loaded when the first question comes

logger = logging.getLogger(__name__)
ASK_PATH = "/v1/ask"
MAX_QUESTION_CHARACTERS = 1_000


class AssistantApi:
    def __init__(self, assistant: Callable[[], Assistant]):
        self._factory, self._assistant = assistant, None
        self.app = APIGatewayRestResolver()
        self._routes()

    @property
    def assistant(self) -> Assistant:
        if self._assistant is None:
            self._assistant = self._factory()
        return self._assistant

    def handle(self, event: dict, context: Any = None) -> dict:
        return self.app.resolve(event, context)

    def _routes(self) -> None:
        app = self.app
        answer_errors_as_json(app, logger)

        @app.post(ASK_PATH)
        def ask() -> dict:
            question = json_body(app.current_event.body).get("question")
            if not isinstance(question, str) or not 1 <= len(question.strip()) <= MAX_QUESTION_CHARACTERS:
                raise ApiError(400, "bad_request", f"question must be text of 1 to {MAX_QUESTION_CHARACTERS:,} "
                                                   "characters")
            return self.assistant.ask(question.strip()).to_json()

        @app.exception_handler(ConfigError)
        def not_configured(error: ConfigError) -> Response:
            return error_response(503, "assistant_not_configured", str(error))

        @app.exception_handler(ModelCallError)
        def model_unavailable(error: ModelCallError) -> Response:
            logger.error("the assistant's model did not answer: %s", error)
            return error_response(502, "model_unavailable", "the assistant's model did not answer; it is logged")

        @app.not_found
        def not_found(_: Exception) -> Response:
            if app.current_event.path == ASK_PATH:
                return error_response(405, "method_not_allowed", f"use POST on {ASK_PATH}", {"Allow": "POST"})
            return error_response(404, "no_such_route", f"no route {app.current_event.path}: see GET /v1/health")
