"""The assistant's model on any OpenAI-compatible chat server: Ollama, a llama.cpp server, vLLM (the `openai`
client: each of those servers documents it as theirs, and it speaks the tool-call format they all serve)."""
from __future__ import annotations

import json
import re
import uuid
from typing import Any

from pipeline.assistant.conversation import Question, Reply, Tool, ToolCall, ToolResults, Turn
from pipeline.core.errors import ModelCallError

TIMEOUT_SECONDS = 300.0  # a small model on a laptop's CPU reads a long prompt slowly
MAX_TOKENS = 1_024  # a reply is a query or a sentence; a small model can otherwise write until its context is full
TEXT_CALL = re.compile(r"<tool_call>(.*?)</tool_call>|```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


class OpenAiCompatible:
    def __init__(self, base_url: str, model: str, api_key: str | None = None):
        import openai

        self.name = f"{model} at {base_url}"
        self.model = model
        self.client = openai.OpenAI(base_url=base_url, api_key=api_key or "none", timeout=TIMEOUT_SECONDS,
                                    max_retries=1)

    def reply(self, system: str, turns: list[Turn], tool: Tool, must_call: bool) -> Reply:
        import openai

        messages = [{"role": "system", "content": system}]
        for turn in turns:
            messages.extend(_messages(turn))
        try:
            response = self.client.chat.completions.create(
                model=self.model, messages=messages, temperature=0, max_tokens=MAX_TOKENS,
                tools=[{"type": "function", "function": {"name": tool.name, "description": tool.description,
                                                         "parameters": tool.parameters}}],
                tool_choice={"type": "function", "function": {"name": tool.name}} if must_call else "auto")
        except openai.OpenAIError as error:
            raise ModelCallError(f"the model server at {self.client.base_url} did not answer: {error}") from None
        if not response.choices:
            raise ModelCallError(f"the model server at {self.client.base_url} sent a reply with no choices")
        message = response.choices[0].message
        calls = tuple(ToolCall(call.id, call.function.name, _object(call.function.arguments), call.function.arguments)
                      for call in message.tool_calls or [])
        return Reply(message.content or "", calls or calls_in_text(message.content or ""))


def _messages(turn: Turn) -> list[dict[str, Any]]:
    if isinstance(turn, Question):
        return [{"role": "user", "content": turn.text}]
    if isinstance(turn, ToolResults):
        return [{"role": "tool", "tool_call_id": result.call_id, "content": json.dumps(result.content)}
                for result in turn.results]
    message: dict[str, Any] = {"role": "assistant", "content": turn.text}  # "", not null: llama.cpp needs text
    if turn.tool_calls:
        message["tool_calls"] = [{"id": call.id, "type": "function",
                                  "function": {"name": call.name, "arguments": call.raw}}
                                 for call in turn.tool_calls]
    return [message]


def calls_in_text(text: str) -> tuple[ToolCall, ...]:
    """Tool calls a model wrote into its reply's text rather than the tool_calls field: small local models do (Qwen
    2.5 behind llama.cpp's server writes `{"name": "run_sql", "arguments": {...}}` in a <tool_call> tag or a code
    block, where Ollama would have lifted it out). Only objects naming a tool count, so prose is never a call."""
    blocks = [match.group(1) or match.group(2) for match in TEXT_CALL.finditer(text)] or [text]
    calls = []
    for block in blocks:
        found = _object(block.strip())
        if found and isinstance(found.get("name"), str) and "arguments" in found:
            arguments = found["arguments"]
            raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
            calls.append(ToolCall(f"text-call-{uuid.uuid4().hex[:12]}", found["name"], _object(raw), raw))
    return tuple(calls)


def _object(arguments: str | None) -> dict | None:
    try:
        parsed = json.loads(arguments or "")
    except json.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None
