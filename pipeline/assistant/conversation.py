"""A conversation with a tool-using chat model, in the shape the loop speaks; each backend (Bedrock's Converse,
an OpenAI-compatible server) translates it to its own wire format and back."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Union


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict  # JSON Schema of the arguments object


RUN_SQL = Tool(
    name="run_sql",
    description="Run one read-only Athena (Trino) SELECT over the engagement database and get its rows back as "
                "data (at most 100 rows are returned, a LIMIT of at most 1000 is imposed).",
    parameters={"type": "object", "properties": {"sql": {"type": "string", "description": "one SELECT statement"}},
                "required": ["sql"]},
)


@dataclass(frozen=True)
class Question:
    text: str


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any] | None  # None: what the model sent is not a JSON object
    raw: str  # the arguments as the model sent them


@dataclass(frozen=True)
class Reply:
    text: str
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class ToolResult:
    call_id: str
    content: dict[str, Any]  # JSON data: the rows, or the error
    is_error: bool


@dataclass(frozen=True)
class ToolResults:
    results: tuple[ToolResult, ...]


Turn = Union[Question, Reply, ToolResults]


class ChatModel(Protocol):
    """One model behind one backend: the next reply to the conversation so far. ModelCallError if it cannot. With
    `must_call`, the backend asks the model to call the tool rather than answer in words (each API's tool choice)."""

    name: str

    def reply(self, system: str, turns: list[Turn], tool: Tool, must_call: bool) -> Reply: ...
