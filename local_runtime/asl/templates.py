"""Payload templates (Parameters, ItemSelector, ResultSelector): `key.$` values are paths or intrinsic calls."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local_runtime.asl.errors import InvalidConstruct
from local_runtime.asl.intrinsics import IntrinsicCall, parse_intrinsic
from local_runtime.asl.paths import Path, parse_path

Expression = Path | IntrinsicCall

_DYNAMIC_SUFFIX = ".$"


def parse_expression(text: Any, *, allow_map_context: bool = False) -> Expression:
    """A `.$` value: a JSONPath (`$.a`, `$$.Execution.Id`) or an intrinsic call (`States.Format(...)`)."""
    if isinstance(text, str) and text.startswith("States."):
        return parse_intrinsic(text, allow_map_context=allow_map_context)
    if isinstance(text, str) and text.startswith("$"):
        return parse_path(text, allow_context=True, allow_map_context=allow_map_context)
    raise InvalidConstruct(f"a '.$' value must be a JSONPath or an intrinsic function, got {text!r}")


@dataclass(frozen=True)
class PayloadTemplate:
    # The template with `.$` keys stripped of the suffix and their values replaced by Expression objects.
    tree: Any

    def render(self, data: Any, context: dict[str, Any]) -> Any:
        return _render(self.tree, data, context)


def compile_template(template: Any, *, allow_map_context: bool = False) -> PayloadTemplate:
    """Parse every `.$` value now, so a bad path or intrinsic is reported at load time with its key."""
    return PayloadTemplate(_compile(template, "", allow_map_context))


def _compile(node: Any, where: str, allow_map_context: bool) -> Any:
    if isinstance(node, list):
        return [_compile(item, f"{where}[{index}]", allow_map_context) for index, item in enumerate(node)]
    if not isinstance(node, dict):
        return node
    compiled: dict[str, Any] = {}
    for key, value in node.items():
        field = f"{where}.{key}" if where else key
        name = key.removesuffix(_DYNAMIC_SUFFIX)
        if name in compiled:
            raise InvalidConstruct(f"both {name!r} and {name + _DYNAMIC_SUFFIX!r} are set", field)
        if key.endswith(_DYNAMIC_SUFFIX):
            compiled[name] = _compile_expression(value, field, allow_map_context)
        else:
            compiled[name] = _compile(value, field, allow_map_context)
    return compiled


def _compile_expression(value: Any, field: str, allow_map_context: bool) -> Expression:
    try:
        return parse_expression(value, allow_map_context=allow_map_context)
    except InvalidConstruct as problem:
        raise InvalidConstruct(problem.reason, field) from None


def _render(node: Any, data: Any, context: dict[str, Any]) -> Any:
    if isinstance(node, (Path, IntrinsicCall)):
        return node.evaluate(data, context)
    if isinstance(node, dict):
        return {key: _render(value, data, context) for key, value in node.items()}
    if isinstance(node, list):
        return [_render(item, data, context) for item in node]
    return node
