"""Intrinsic functions such as `States.Format('{}-{}', $.a, States.UUID())`: parsed at load, evaluated at run time.

Misuse at run time (wrong argument type, index out of range...) raises States.IntrinsicFailure.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import random
import re
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from local_runtime.asl.errors import INTRINSIC_FAILURE, InvalidConstruct, StateError
from local_runtime.asl.paths import Path, parse_path

_MAX_ARRAY_RANGE = 1000  # Step Functions' limit for States.ArrayRange


class _Misuse(ValueError):
    """Arguments that a function cannot work with; becomes States.IntrinsicFailure."""


@dataclass(frozen=True)
class Literal:
    value: Any

    def evaluate(self, data: Any, context: dict[str, Any]) -> Any:
        return self.value


@dataclass(frozen=True)
class StringLiteral(Literal):
    # The text split at unescaped `{}`: a literal States.Format template must tell `\{\}` apart from `{}`.
    format_parts: tuple[str, ...]


@dataclass(frozen=True)
class IntrinsicCall:
    name: str
    args: tuple[Argument, ...]

    def evaluate(self, data: Any, context: dict[str, Any]) -> Any:
        values = [arg.evaluate(data, context) for arg in self.args]
        if self.name == "States.Format" and isinstance(self.args[0], StringLiteral):
            values[0] = self.args[0].format_parts
        try:
            return _FUNCTIONS[self.name].implementation(*values)
        except _Misuse as misuse:
            raise StateError(INTRINSIC_FAILURE, f"{self.name}: {misuse}") from None


Argument = Literal | Path | IntrinsicCall


def parse_intrinsic(text: str, *, allow_map_context: bool = False) -> IntrinsicCall:
    """Parse one intrinsic call; unknown functions, wrong arity and bad syntax raise InvalidConstruct."""
    return _Parser(text, allow_map_context).parse()


# ----------------------------------------------------------------------------------------------- parsing

_FUNCTION_NAME = re.compile(r"States\.[A-Za-z0-9]+")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_KEYWORDS = {"null": None, "true": True, "false": False}


class _Parser:
    def __init__(self, text: str, allow_map_context: bool) -> None:
        self.text = text
        self.position = 0
        self.allow_map_context = allow_map_context

    def parse(self) -> IntrinsicCall:
        call = self._call()
        self._skip_spaces()
        if self.position != len(self.text):
            self._fail(f"unexpected text {self.text[self.position:]!r} after the call")
        return call

    def _call(self) -> IntrinsicCall:
        match = _FUNCTION_NAME.match(self.text, self.position)
        if match is None:
            self._fail("expected an intrinsic function name such as States.Format")
        name = match.group()
        if name not in _FUNCTIONS:
            raise InvalidConstruct(f"unknown intrinsic function {name} in {self.text!r}")
        self.position = match.end()
        self._expect("(")
        call = IntrinsicCall(name, tuple(self._arguments()))
        _check_call(call, self.text)
        return call

    def _arguments(self) -> list[Argument]:
        self._skip_spaces()
        if self._peek() == ")":
            self.position += 1
            return []
        args = [self._argument()]
        while True:
            self._skip_spaces()
            if self._peek() == ")":
                self.position += 1
                return args
            self._expect(",")
            args.append(self._argument())

    def _argument(self) -> Argument:
        self._skip_spaces()
        char = self._peek()
        if char == "'":
            return self._string()
        if char == "$":
            return self._path()
        if self.text.startswith("States.", self.position):
            return self._call()
        for keyword, value in _KEYWORDS.items():
            if self.text.startswith(keyword, self.position):
                self.position += len(keyword)
                return Literal(value)
        number = _NUMBER.match(self.text, self.position)
        if number is None:
            self._fail("expected a string in single quotes, a number, null, true, false, a path or a call")
        self.position = number.end()
        is_integer = number[1] is None and number[2] is None
        return Literal(int(number.group()) if is_integer else float(number.group()))

    def _string(self) -> StringLiteral:
        """A single-quoted literal; a backslash escapes the next character (', {, } and \\ need it)."""
        value, parts = [], [""]
        self.position += 1
        while True:
            char = self._peek()
            if char == "":
                self._fail("unterminated string literal")
            if char == "'":
                self.position += 1
                return StringLiteral("".join(value), tuple(parts))
            if char == "\\" and self.position + 1 < len(self.text):
                char = self.text[self.position + 1]
                self.position += 1
            elif self.text.startswith("{}", self.position):
                value.append("{}")
                parts.append("")
                self.position += 2
                continue
            value.append(char)
            parts[-1] += char
            self.position += 1

    def _path(self) -> Path:
        start, depth = self.position, 0
        while self.position < len(self.text):
            char = self.text[self.position]
            if depth == 0 and (char in ",)" or char.isspace()):
                break
            depth += {"[": 1, "]": -1}.get(char, 0)
            self.position += 1
        return parse_path(self.text[start:self.position], allow_context=True,
                          allow_map_context=self.allow_map_context)

    def _peek(self) -> str:
        return self.text[self.position] if self.position < len(self.text) else ""

    def _expect(self, char: str) -> None:
        self._skip_spaces()
        if self._peek() != char:
            self._fail(f"expected {char!r}")
        self.position += 1

    def _skip_spaces(self) -> None:
        while self._peek().isspace():
            self.position += 1

    def _fail(self, problem: str) -> None:
        raise InvalidConstruct(f"{problem} at position {self.position} of {self.text!r}")


def _check_call(call: IntrinsicCall, text: str) -> None:
    signature = _FUNCTIONS[call.name]
    count = len(call.args)
    if count < signature.min_args or (signature.max_args is not None and count > signature.max_args):
        expected = (f"{signature.min_args}" if signature.min_args == signature.max_args
                    else f"{signature.min_args}..{signature.max_args or 'n'}")
        raise InvalidConstruct(f"{call.name} takes {expected} arguments, got {count} in {text!r}")
    template = call.args[0] if call.name == "States.Format" else None
    if isinstance(template, StringLiteral) and len(template.format_parts) != count:
        raise InvalidConstruct(f"States.Format template has {len(template.format_parts) - 1} placeholders "
                               f"but {count - 1} values in {text!r}")


# --------------------------------------------------------------------------------------------- functions

def _require(condition: bool, problem: str) -> None:
    if not condition:
        raise _Misuse(problem)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _integer(value: Any, what: str) -> int:
    _require(_is_number(value) and float(value).is_integer(), f"{what} must be an integer, got {value!r}")
    return int(value)


def _array(value: Any, what: str = "the first argument") -> list[Any]:
    _require(isinstance(value, list), f"{what} must be an array, got {value!r}")
    return value


def _string(value: Any, what: str) -> str:
    _require(isinstance(value, str), f"{what} must be a string, got {value!r}")
    return value


def _canonical(value: Any) -> str:
    """JSON identity: keeps 1, 1.0 and true apart, and ignores key order."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _java_string(value: Any) -> str:
    """How Step Functions renders a States.Format value: strings raw, objects and arrays Java-style."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(_java_string(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={_java_string(item)}" for key, item in value.items()) + "}"
    return json.dumps(value)


def _round_half_up(value: float) -> int:
    """Java's Math.round, which Step Functions uses for non-integer MathAdd arguments."""
    return math.floor(value + 0.5)


def _format(template: str | tuple[str, ...], *values: Any) -> str:
    parts = template if isinstance(template, tuple) else tuple(_string(template, "the template").split("{}"))
    _require(len(parts) == len(values) + 1,
             f"the template has {len(parts) - 1} placeholders but {len(values)} values were given")
    pieces = [parts[0]]
    for value, part in zip(values, parts[1:]):
        pieces += [_java_string(value), part]
    return "".join(pieces)


def _string_to_json(text: Any) -> Any:
    try:
        return json.loads(_string(text, "the argument"))
    except json.JSONDecodeError as error:
        raise _Misuse(f"not valid JSON: {error}") from None


def _json_to_string(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _array_partition(array: Any, size: Any) -> list[list[Any]]:
    items, chunk = _array(array), _integer(size, "the chunk size")
    _require(chunk > 0, "the chunk size must be positive")
    return [items[start:start + chunk] for start in range(0, len(items), chunk)]


def _array_contains(array: Any, value: Any) -> bool:
    wanted = _canonical(value)
    return any(_canonical(item) == wanted for item in _array(array))


def _array_range(start: Any, end: Any, step: Any) -> list[int]:
    first, last, increment = _integer(start, "start"), _integer(end, "end"), _integer(step, "step")
    _require(increment != 0, "step must not be 0")
    values = list(range(first, last + (1 if increment > 0 else -1), increment))
    _require(len(values) <= _MAX_ARRAY_RANGE, f"the range has {len(values)} items (max {_MAX_ARRAY_RANGE})")
    return values


def _array_get_item(array: Any, index: Any) -> Any:
    items, position = _array(array), _integer(index, "the index")
    _require(0 <= position < len(items), f"index {position} is out of range for {len(items)} items")
    return items[position]


def _array_unique(array: Any) -> list[Any]:
    seen: dict[str, Any] = {}
    for item in _array(array):
        seen.setdefault(_canonical(item), item)
    return list(seen.values())


def _base64_encode(text: Any) -> str:
    return base64.b64encode(_string(text, "the argument").encode("utf-8")).decode("ascii")


def _base64_decode(text: Any) -> str:
    try:
        return base64.b64decode(_string(text, "the argument"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise _Misuse(f"not valid base64 of UTF-8 text: {error}") from None


_HASH_ALGORITHMS = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


def _hash(data: Any, algorithm: Any) -> str:
    _require(algorithm in _HASH_ALGORITHMS, f"algorithm must be one of {sorted(_HASH_ALGORITHMS)}, got {algorithm!r}")
    return hashlib.new(_HASH_ALGORITHMS[algorithm], _string(data, "the data").encode("utf-8")).hexdigest()


def _json_merge(first: Any, second: Any, deep: Any) -> dict[str, Any]:
    _require(isinstance(first, dict) and isinstance(second, dict), "both arguments must be JSON objects")
    _require(deep is False, "only shallow merging is supported: the third argument must be false")
    return {**first, **second}


def _math_random(start: Any, end: Any, seed: Any = None) -> int:
    _require(_is_number(start) and _is_number(end), "start and end must be numbers")
    generator = random.Random(_integer(seed, "the seed")) if seed is not None else random
    return generator.randint(int(start), int(end))


def _math_add(first: Any, second: Any) -> int:
    _require(_is_number(first) and _is_number(second), "both arguments must be numbers")
    return _round_half_up(first) + _round_half_up(second)


def _string_split(text: Any, delimiters: Any) -> list[str]:
    """Each character of `delimiters` splits; empty pieces are dropped (as Step Functions does)."""
    source, separators = _string(text, "the string"), _string(delimiters, "the delimiter")
    if not separators:
        return [source] if source else []
    return [piece for piece in re.split(f"[{re.escape(separators)}]", source) if piece]


@dataclass(frozen=True)
class _Signature:
    implementation: Callable[..., Any]
    min_args: int
    max_args: int | None


_FUNCTIONS: dict[str, _Signature] = {
    "States.Format": _Signature(_format, 1, None),
    "States.StringToJson": _Signature(_string_to_json, 1, 1),
    "States.JsonToString": _Signature(_json_to_string, 1, 1),
    "States.Array": _Signature(lambda *values: list(values), 0, None),
    "States.ArrayPartition": _Signature(_array_partition, 2, 2),
    "States.ArrayContains": _Signature(_array_contains, 2, 2),
    "States.ArrayRange": _Signature(_array_range, 3, 3),
    "States.ArrayGetItem": _Signature(_array_get_item, 2, 2),
    "States.ArrayLength": _Signature(lambda array: len(_array(array)), 1, 1),
    "States.ArrayUnique": _Signature(_array_unique, 1, 1),
    "States.Base64Encode": _Signature(_base64_encode, 1, 1),
    "States.Base64Decode": _Signature(_base64_decode, 1, 1),
    "States.Hash": _Signature(_hash, 2, 2),
    "States.JsonMerge": _Signature(_json_merge, 3, 3),
    "States.MathRandom": _Signature(_math_random, 2, 3),
    "States.MathAdd": _Signature(_math_add, 2, 2),
    "States.StringSplit": _Signature(_string_split, 2, 2),
    "States.UUID": _Signature(lambda: str(uuid.uuid4()), 0, 0),
}
