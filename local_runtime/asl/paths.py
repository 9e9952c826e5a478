"""The JSONPath subset ASL uses: `$`, `$.a.b`, `$.a[0]`, `$['a b']`, `[*]`/`.*` wildcards, and `$$` context paths.

Filters, slices, unions and recursive descent are rejected at load time, so a definition never fails at
run time because of path syntax.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from local_runtime.asl.errors import RUNTIME, InvalidConstruct, StateError


@dataclass(frozen=True)
class Key:
    name: str

    def children(self, node: Any) -> list[Any]:
        return [node[self.name]] if isinstance(node, dict) and self.name in node else []


@dataclass(frozen=True)
class Index:
    position: int

    def children(self, node: Any) -> list[Any]:
        if isinstance(node, list) and -len(node) <= self.position < len(node):
            return [node[self.position]]
        return []


@dataclass(frozen=True)
class Wildcard:
    def children(self, node: Any) -> list[Any]:
        if isinstance(node, dict):
            return list(node.values())
        return list(node) if isinstance(node, list) else []


Segment = Key | Index | Wildcard

_SEGMENT = re.compile(
    r"""\.(?P<name>\*|[^.\[\]\s()'"@?*]+)      # .name or .*
      | \[(?P<index>-?\d+)\]                    # [0]
      | \[(?P<star>\*)\]                        # [*]
      | \[(?P<quote>['"])(?P<quoted>[^'"]*)(?P=quote)\]   # ['name with spaces']
    """,
    re.VERBOSE,
)

# What the context object offers locally; `$$.Task.Token` (callback tasks) has no local meaning.
_CONTEXT_FIELDS = {
    "Execution": {"Id", "Input", "Name", "StartTime", "RedriveCount"},
    "State": {"Name", "EnteredTime", "RetryCount"},
    "StateMachine": {"Id", "Name"},
    "Map": {"Item"},
}
_MAP_ITEM_FIELDS = {"Index", "Value"}


@dataclass(frozen=True)
class Path:
    text: str
    root: str  # "$" (the state's data) or "$$" (the context object)
    segments: tuple[Segment, ...]

    @property
    def is_definite(self) -> bool:
        """A definite path selects one value; a wildcard path selects a list of matches."""
        return not any(isinstance(segment, Wildcard) for segment in self.segments)

    def evaluate(self, data: Any, context: dict[str, Any]) -> Any:
        return self.read(context if self.root == "$$" else data)

    def read(self, source: Any) -> Any:
        matches = self.find(source)
        if not self.is_definite:
            return matches
        if not matches:
            raise StateError(RUNTIME, f"The JSONPath {self.text!r} could not be found in the input {_preview(source)}")
        return matches[0]

    def exists(self, data: Any, context: dict[str, Any]) -> bool:
        return bool(self.find(context if self.root == "$$" else data)) or not self.is_definite

    def find(self, source: Any) -> list[Any]:
        nodes = [source]
        for segment in self.segments:
            nodes = [child for node in nodes for child in segment.children(node)]
        return nodes

    def write(self, target: Any, value: Any) -> Any:
        """A copy of `target` with `value` placed at this reference path, creating missing objects (ResultPath)."""
        return _write(target, self.segments, value, self.text)


def parse_path(text: str, *, allow_context: bool = False, allow_map_context: bool = False,
               reference: bool = False) -> Path:
    """Parse a path; `reference` paths (ResultPath, ItemsPath...) must select exactly one value."""
    if not isinstance(text, str) or not text.startswith("$"):
        raise InvalidConstruct(f"expected a JSONPath starting with '$', got {text!r}")
    root = "$$" if text.startswith("$$") else "$"
    path = Path(text, root, _parse_segments(text, len(root)))
    if path.root == "$$":
        _check_context_path(path, allow_context, allow_map_context)
    if reference and not path.is_definite:
        raise InvalidConstruct(f"{text!r} must be a reference path (no wildcards)")
    return path


def _parse_segments(text: str, position: int) -> tuple[Segment, ...]:
    segments: list[Segment] = []
    while position < len(text):
        match = _SEGMENT.match(text, position)
        if match is None:
            raise InvalidConstruct(
                f"unsupported JSONPath syntax {text[position:]!r} in {text!r} "
                "(supported: .name, ['name'], [index], [*], .*)")
        segments.append(_segment(match))
        position = match.end()
    return tuple(segments)


def _segment(match: re.Match[str]) -> Segment:
    if match["index"] is not None:
        return Index(int(match["index"]))
    if match["star"] is not None or match["name"] == "*":
        return Wildcard()
    return Key(match["name"] if match["name"] is not None else match["quoted"])


def _check_context_path(path: Path, allowed: bool, map_allowed: bool) -> None:
    if not allowed:
        raise InvalidConstruct(f"context object paths ({path.text!r}) are not allowed in this field")
    names = [segment.name if isinstance(segment, Key) else None for segment in path.segments[:3]]
    if not names:
        return
    if names[0] == "Task":
        raise InvalidConstruct("$$.Task (task tokens for callback tasks) is not supported locally")
    if names[0] not in _CONTEXT_FIELDS:
        raise InvalidConstruct(f"unknown context object field in {path.text!r}")
    if names[0] == "Map" and not map_allowed:
        raise InvalidConstruct("$$.Map is only available in a Map state's ItemSelector (or legacy Parameters)")
    if len(names) > 1 and names[1] not in _CONTEXT_FIELDS[names[0]]:
        raise InvalidConstruct(f"unknown or unsupported context object field in {path.text!r}")
    if names[:2] == ["Map", "Item"] and len(names) > 2 and names[2] not in _MAP_ITEM_FIELDS:
        raise InvalidConstruct(f"unknown context object field in {path.text!r} (use Index or Value)")


ROOT = parse_path("$")


def _write(node: Any, segments: tuple[Segment, ...], value: Any, text: str) -> Any:
    if not segments:
        return value
    head, rest = segments[0], segments[1:]
    if isinstance(head, Key):
        if not isinstance(node, dict):
            raise StateError(RUNTIME, f"Unable to apply ResultPath {text!r}: {_preview(node)} is not an object")
        updated = dict(node)
        updated[head.name] = _write(node.get(head.name, {}), rest, value, text)
        return updated
    if not isinstance(head, Index) or not isinstance(node, list) or not head.children(node):
        raise StateError(RUNTIME, f"Unable to apply ResultPath {text!r}: no array element at {head}")
    updated_list = list(node)
    updated_list[head.position] = _write(node[head.position], rest, value, text)
    return updated_list


def _preview(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "..."
