"""The assistant's model on Amazon Bedrock, through the Converse API with one tool (boto3's bedrock-runtime client:
already in every image, and the one API that speaks tool use the same way for every model Bedrock serves)."""
from __future__ import annotations

import json
from typing import Any

from pipeline.assistant.conversation import Question, Reply, Tool, ToolCall, ToolResults, Turn
from pipeline.core.errors import ModelCallError

MAX_TOKENS = 1_024


class BedrockConverse:
    def __init__(self, model_id: str, client: Any):
        self.name = f"bedrock:{model_id}"
        self.model_id, self.client = model_id, client

    def reply(self, system: str, turns: list[Turn], tool: Tool, must_call: bool) -> Reply:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.converse(
                modelId=self.model_id, system=[{"text": system}], messages=[_message(turn) for turn in turns],
                toolConfig=_tool_config(tool, must_call),
                inferenceConfig={"maxTokens": MAX_TOKENS, "temperature": 0.0})
        except (ClientError, BotoCoreError) as error:
            raise ModelCallError(f"Bedrock model {self.model_id} did not answer: {error}") from None
        return _reply(response["output"]["message"]["content"])


def _tool_config(tool: Tool, must_call: bool) -> dict:
    config = dict(tools=[{"toolSpec": {"name": tool.name, "description": tool.description,
                                       "inputSchema": {"json": tool.parameters}}}])
    if must_call:  # Anthropic's, Mistral Large's and Amazon Nova's models take it; others answer ValidationException
        config["toolChoice"] = {"tool": {"name": tool.name}}
    return config


def _message(turn: Turn) -> dict:
    if isinstance(turn, Question):
        return {"role": "user", "content": [{"text": turn.text}]}
    if isinstance(turn, ToolResults):
        return {"role": "user", "content": [
            {"toolResult": {"toolUseId": result.call_id, "content": [{"json": result.content}],
                            "status": "error" if result.is_error else "success"}} for result in turn.results]}
    content = [{"text": turn.text}] if turn.text else []
    content += [{"toolUse": {"toolUseId": call.id, "name": call.name, "input": call.arguments or {}}}
                for call in turn.tool_calls]
    return {"role": "assistant", "content": content}


def _reply(content: list[dict]) -> Reply:
    text = "".join(block["text"] for block in content if "text" in block)
    calls = []
    for block in content:
        if use := block.get("toolUse"):
            arguments = use.get("input")
            calls.append(ToolCall(use["toolUseId"], use["name"], arguments if isinstance(arguments, dict) else None,
                                  json.dumps(arguments)))
    return Reply(text, tuple(calls))
