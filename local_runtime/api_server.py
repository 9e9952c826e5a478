"""`engagement-pipeline serve`: the serving API over real HTTP on this machine, doing what API Gateway does in front
of the API's Lambda: it asks for an API key, throttles each key, refuses a body over 64 KB, then hands the request
to the same route table (pipeline.serving.api) as an API Gateway proxy event, over the local store (SQLite in the
data directory).

The key is PIPELINE_API_KEY, or one generated on the first `serve`, kept in the data directory and printed once.
Each key has a token bucket (`rate` requests a second, up to `burst` at once); past it the answer is 429 with
Retry-After, as API Gateway's. A missing key is 401, a wrong one 403.
"""
from __future__ import annotations

import hmac
import math
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Protocol
from urllib.parse import parse_qsl, urlsplit

from aws_lambda_powertools.event_handler import Response

from pipeline.assistant.api import ASK_PATH, AssistantApi
from pipeline.serving.api import ServingApi
from pipeline.serving.http import MAX_BODY_BYTES, error_response

API_KEY_ENV = "PIPELINE_API_KEY"
KEY_FILE = "api_key"


def api_key(home: Path) -> tuple[str, bool]:
    """The key clients must send (x-api-key), and whether it was generated just now (to be printed, once)."""
    if key := os.environ.get(API_KEY_ENV):
        return key, False
    path = home / KEY_FILE
    if path.exists():
        return path.read_text().strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # readable by this user only
    with os.fdopen(descriptor, "w") as file:
        file.write(key + "\n")
    return key, True


@dataclass
class TokenBucket:
    rate: float
    burst: int
    tokens: float = field(init=False)
    updated: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)

    def take(self) -> float:
        """0 if a request may go now (one token taken), else the seconds until one may."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens >= 1:
                self.tokens -= 1
                return 0.0
            return (1 - self.tokens) / self.rate


@dataclass
class Gateway:
    """What API Gateway checks before the Lambda: the key and its throttle."""
    key: str
    rate: float
    burst: int
    buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def refusal(self, sent: str | None) -> dict | None:
        if not sent:
            return _proxy(error_response(401, "missing_api_key", "send your API key in the x-api-key header"))
        if not hmac.compare_digest(sent.encode(), self.key.encode()):
            return _proxy(error_response(403, "forbidden", "the API key is not valid"))
        bucket = self.buckets.get(sent) or self.buckets.setdefault(sent, TokenBucket(self.rate, self.burst))
        wait = bucket.take()
        if wait:
            return _proxy(error_response(429, "too_many_requests", f"over {self.rate:g} requests a second for "
                                          "this key; retry later", {"Retry-After": str(math.ceil(wait))}))
        return None


def _proxy(response: Response) -> dict:
    """A response as the Lambda's proxy answer (what the gateway itself answers has the same shape)."""
    headers = {name: [value] for name, value in (response.headers or {}).items()}
    headers.setdefault("Content-Type", [response.content_type])
    return {"statusCode": response.status_code, "body": response.body, "multiValueHeaders": headers}


def proxy_event(method: str, target: str, headers: dict[str, str], body: str | None, api_key_sent: str) -> dict:
    """The request as API Gateway's REST proxy integration gives it to the Lambda."""
    parts = urlsplit(target)
    query = dict(parse_qsl(parts.query))
    return {"httpMethod": method, "path": parts.path, "resource": parts.path, "headers": headers,
            "queryStringParameters": query or None, "body": body, "isBase64Encoded": False,
            "requestContext": {"stage": "local", "identity": {"apiKey": api_key_sent}}}


class Handles(Protocol):
    def handle(self, event: dict, context: Any = None) -> dict: ...


class Resources:
    """API Gateway's resources as template.yaml declares them: /v1/ask reaches the assistant's function, every other
    path the serving API's."""

    def __init__(self, serving: ServingApi, assistant: AssistantApi):
        self.serving, self.assistant = serving, assistant

    def handle(self, event: dict, context: Any = None) -> dict:
        return (self.assistant if event["path"] == ASK_PATH else self.serving).handle(event, context)


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], make_api: Callable[[], Handles], gateway: Gateway,
                 max_requests: int | None):
        super().__init__(address, _Handler)
        self.make_api, self.gateway = make_api, gateway
        self.apis = threading.local()
        self.remaining = max_requests  # None: no bound
        self.count_lock = threading.Lock()

    def api(self) -> Handles:
        """This thread's route table: the resolver keeps the request it answers on itself (a Lambda answers one at
        a time), so threads answering at once each need their own."""
        if not hasattr(self.apis, "api"):
            self.apis.api = self.make_api()
        return self.apis.api

    def counted(self) -> bool:
        """Count one request; False once the bound is reached (the server then stops)."""
        with self.count_lock:
            if self.remaining is None:
                return True
            self.remaining -= 1
            if self.remaining <= 0:
                threading.Thread(target=self.shutdown, daemon=True).start()
            return self.remaining >= 0


class _Handler(BaseHTTPRequestHandler):
    server: ApiServer
    protocol_version = "HTTP/1.1"  # keep-alive: a client sends many requests over one connection
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart (Nagle against delayed ACK)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _answer(self) -> None:
        if not self.server.counted():
            self.close_connection = True
            return
        refused = self.server.gateway.refusal(self.headers.get("x-api-key"))
        length = int(self.headers.get("Content-Length") or 0)
        if refused is None and length > MAX_BODY_BYTES:
            refused = _proxy(error_response(413, "body_too_large", f"the body is over {MAX_BODY_BYTES:,} bytes"))
            self.close_connection = True  # its body is never read
        if refused is not None:
            if not self.close_connection and length:
                self.rfile.read(length)
            return self._send(refused)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else None
        event = proxy_event(self.command, self.path, dict(self.headers), body, self.headers["x-api-key"])
        self._send(self.server.api().handle(event))

    def _send(self, answer: dict) -> None:
        body = (answer.get("body") or "").encode()
        self.send_response(answer["statusCode"])
        for name, values in (answer.get("multiValueHeaders") or {}).items():
            for value in values:
                self.send_header(name, value)
        for name, value in (answer.get("headers") or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
        pass  # one line a request would cost more than the lookup; errors are logged by the API


def serve(make_api: Callable[[], Handles], gateway: Gateway, host: str, port: int, max_requests: int | None = None,
          max_seconds: float | None = None, on_ready=None) -> None:
    """Answer until interrupted, or until `max_requests` requests or `max_seconds` seconds, whichever first."""
    server = ApiServer((host, port), make_api, gateway, max_requests)
    if max_seconds:
        timer = threading.Timer(max_seconds, server.shutdown)
        timer.daemon = True
        timer.start()
    if on_ready:
        on_ready(server.server_address)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
