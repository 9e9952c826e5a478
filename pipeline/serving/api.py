"""The serving API's routes: one route table, answered by the API's Lambda behind API Gateway and by the local
`engagement-pipeline serve` (local_runtime/api_server.py), which hands each request over as the same proxy event.

    GET  /v1/health                        the week and model being served
    GET  /v1/customers/{customer_id}/risk  one customer's risk in the newest week (?run_date= an earlier one)
    POST /v1/customers/risk                {"customer_ids": [...up to 100], "run_date": optional}
    POST /v1/score                         {"row": {...}}: a what-if row scored with the newest week's model

Routing and the event's shape are AWS Lambda Powertools' (APIGatewayRestResolver): the resolver is the same
object locally and on AWS, so a route cannot answer differently in the two places. The lookup path imports only
the store client, never XGBoost: the what-if route imports pipeline.serving.what_if (pyarrow, XGBoost) when first
asked. Every error is a JSON body {"error", "message"} with its status; no traceback ever reaches a client.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from typing import TYPE_CHECKING, Any, Callable

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from pipeline.core.errors import ModelStoreError
from pipeline.serving.http import ApiError, answer_errors_as_json, error_response, json_body
from pipeline.serving.store import ServedWeek, risks_of, served_week
from pipeline.warehouse.ports import ItemTable

if TYPE_CHECKING:
    from pipeline.serving.what_if import WhatIf

logger = logging.getLogger(__name__)
CUSTOMER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}")
WEEK = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_BATCH = 100
ROUTES = {re.compile(r"/v1/health"): ("GET",), re.compile(r"/v1/customers/[^/]+/risk"): ("GET",),
          re.compile(r"/v1/customers/risk"): ("POST",), re.compile(r"/v1/score"): ("POST",)}


class ServingApi:
    """The routes over one serving table (DynamoDB on AWS, SQLite locally) and the what-if scorer, each made when
    first needed."""

    def __init__(self, table: Callable[[], ItemTable], what_if: Callable[[], WhatIf]):
        self._table_factory, self._table = table, None
        self._what_if_factory, self._what_if = what_if, None
        self.app = APIGatewayRestResolver()
        self._routes()

    @property
    def table(self) -> ItemTable:
        if self._table is None:
            self._table = self._table_factory()
        return self._table

    @property
    def what_if(self) -> WhatIf:
        if self._what_if is None:
            self._what_if = self._what_if_factory()
        return self._what_if

    def handle(self, event: dict, context: Any = None) -> dict:
        return self.app.resolve(event, context)

    def _routes(self) -> None:
        app = self.app
        answer_errors_as_json(app, logger)

        @app.get("/v1/health")
        def health() -> Response | dict:
            week = served_week(self.table)
            if week is None:
                return error_response(503, "nothing_published", "no week has been published to the API yet: "
                                                                 "run the weekly pipeline")
            return {"status": "ok", **_week_fields(week), "published_at": week.published_at,
                    "customers": week.customers}

        @app.get("/v1/customers/<customer_id>/risk")
        def customer_risk(customer_id: str) -> dict:
            _check_id(customer_id)
            week = self._week(app.current_event.get_query_string_value("run_date"))
            found = risks_of(self.table, [customer_id], week)
            if customer_id not in found:
                raise ApiError(404, "unknown_customer", f"customer {customer_id!r} was not scored in the week "
                                                        f"of {week.run_date}")
            return found[customer_id].to_json()

        @app.post("/v1/customers/risk")
        def customers_risk() -> dict:
            body = json_body(app.current_event.body)
            ids = body.get("customer_ids")
            if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_BATCH:
                raise ApiError(400, "bad_request", f"customer_ids must be a list of 1 to {MAX_BATCH} ids")
            for customer_id in ids:
                _check_id(customer_id)
            week = self._week(body.get("run_date"))
            found = risks_of(self.table, ids, week)
            return {**_week_fields(week), "risks": [found[customer].to_json() for customer in ids if customer in found],
                    "not_found": [customer for customer in ids if customer not in found]}

        @app.post("/v1/score")
        def what_if_score() -> dict:
            from pipeline.serving.what_if import InvalidRow, normalised_row  # pyarrow, and XGBoost: this route's only

            body = json_body(app.current_event.body)
            week = self._week(None)  # the newest: its model is the champion Publish crowned with it
            try:
                row = normalised_row(body.get("row"), dt.date.fromisoformat(week.run_date))
            except InvalidRow as invalid:
                raise ApiError(422, "invalid_row", invalid.message,
                               details={"field": invalid.field, "rule": invalid.rule}) from None
            return self.what_if.score(self.table, week, row).to_json(week)

        @app.exception_handler(ModelStoreError)
        def model_unavailable(error: ModelStoreError) -> Response:
            logger.error("the served model cannot be loaded: %s", error)
            return error_response(503, "model_unavailable", "the served week's model cannot be loaded; it is logged")

        @app.not_found
        def not_found(_: Exception) -> Response:
            path, method = app.current_event.path, app.current_event.http_method
            allowed = next((methods for pattern, methods in ROUTES.items() if pattern.fullmatch(path)), None)
            if allowed:
                return error_response(405, "method_not_allowed", f"{method} is not allowed on {path}; use "
                                      f"{', '.join(allowed)}", {"Allow": ", ".join(allowed)})
            return error_response(404, "no_such_route", f"no route {path}: see GET /v1/health")

    def _week(self, run_date: object) -> ServedWeek:
        week = served_week(self.table, _week_asked(run_date))
        if week is None:
            asked = f"the week of {run_date}" if run_date else "any week"
            raise ApiError(404, "week_not_published", f"no scores are published for {asked}")
        return week


def _week_fields(week: ServedWeek) -> dict:
    return {"run_date": week.run_date, "model_version": week.model_version}


def _check_id(customer_id: object) -> None:
    if not isinstance(customer_id, str) or not CUSTOMER_ID.fullmatch(customer_id):
        raise ApiError(400, "bad_customer_id", f"customer id {customer_id!r} must be 1 to 128 letters, digits or "
                                               "_ . : @ - (starting with a letter or digit)")


def _week_asked(run_date: object) -> dt.date | None:
    if run_date is None:
        return None
    try:
        if isinstance(run_date, str) and WEEK.fullmatch(run_date):
            return dt.date.fromisoformat(run_date)
    except ValueError:
        pass
    raise ApiError(400, "bad_run_date", f"run_date {run_date!r} must be a date, YYYY-MM-DD")
