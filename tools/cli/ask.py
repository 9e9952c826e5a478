"""`engagement-pipeline ask`: which model answers (chosen by the environment), and how an answer is printed.

ASSISTANT_BASE_URL   an OpenAI-compatible server (Ollama: http://127.0.0.1:11434/v1, a llama.cpp server, vLLM),
                     with ASSISTANT_MODEL (the model's name there) and, if the server wants one, ASSISTANT_API_KEY
BEDROCK_MODEL_ID     else: a Bedrock model, called with your AWS credentials and region
"""
from __future__ import annotations

import os

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.assistant.conversation import ChatModel
from pipeline.assistant.loop import Answer
from pipeline.core.errors import ConfigError

HOW_TO_CONFIGURE = (
    "no model is configured for `ask`. Either point it at an OpenAI-compatible server on your machine, e.g. "
    "Ollama: ASSISTANT_BASE_URL=http://127.0.0.1:11434/v1 ASSISTANT_MODEL=qwen2.5-coder:7b (a llama.cpp server or "
    "vLLM the same way), or use Bedrock with your AWS credentials: BEDROCK_MODEL_ID=<a model id with tool use, "
    "e.g. anthropic.claude-3-5-haiku-20241022-v1:0> and AWS_REGION")


def configured_model(env: dict[str, str] | None = None) -> ChatModel:
    env = os.environ if env is None else env
    if base_url := env.get("ASSISTANT_BASE_URL"):
        if not env.get("ASSISTANT_MODEL"):
            raise ConfigError(f"ASSISTANT_BASE_URL={base_url} is set: set ASSISTANT_MODEL to the model's name there")
        from local_runtime.openai_chat import OpenAiCompatible

        return OpenAiCompatible(base_url, env["ASSISTANT_MODEL"], env.get("ASSISTANT_API_KEY"))
    if model_id := env.get("BEDROCK_MODEL_ID"):
        import boto3

        from pipeline.assistant.bedrock import BedrockConverse

        return BedrockConverse(model_id, boto3.client("bedrock-runtime"))
    raise ConfigError(HOW_TO_CONFIGURE)


def print_answer(console: Console, answer: Answer) -> None:
    style = "" if answer.answered else "[yellow]"
    console.print(f"{style}{escape(answer.sentence)}", soft_wrap=True, highlight=False)
    for attempt in answer.attempts:
        if attempt.error:
            console.print(f"[dim]  tried: {escape(attempt.sql)}\n  → {escape(attempt.error)}", soft_wrap=True,
                          highlight=False)
    if not answer.answered:
        return
    console.print(f"\nSQL: {escape(answer.sql or '')}", soft_wrap=True, highlight=False)
    table = Table(*answer.columns)
    for row in answer.rows:
        table.add_row(*("" if value is None else str(value) for value in row))
    console.print(table)
    shown = f"{len(answer.rows)} of {answer.row_count} rows shown" if answer.row_count > len(answer.rows) else \
        f"{answer.row_count} rows"
    scanned = f"; {answer.bytes_scanned:,} bytes scanned" if answer.bytes_scanned is not None else ""
    console.print(f"{shown}{scanned}", highlight=False)
