"""Choice rules: compiled at load time, evaluated against the Choice state's effective input."""
from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from local_runtime.asl.errors import RUNTIME, InvalidConstruct, StateError
from local_runtime.asl.paths import Path, parse_path
from local_runtime.asl.timestamps import parse_timestamp

_MISMATCH = object()  # a value of the wrong type for the operator: the comparison is simply false


class Rule(Protocol):
    def matches(self, data: Any, context: dict[str, Any]) -> bool: ...


@dataclass(frozen=True)
class AllOf:
    rules: tuple[Rule, ...]

    def matches(self, data: Any, context: dict[str, Any]) -> bool:
        return all(rule.matches(data, context) for rule in self.rules)


@dataclass(frozen=True)
class AnyOf:
    rules: tuple[Rule, ...]

    def matches(self, data: Any, context: dict[str, Any]) -> bool:
        return any(rule.matches(data, context) for rule in self.rules)


@dataclass(frozen=True)
class Negation:
    rule: Rule

    def matches(self, data: Any, context: dict[str, Any]) -> bool:
        return not self.rule.matches(data, context)


def _as_string(value: Any) -> Any:
    return value if isinstance(value, str) else _MISMATCH


def _as_number(value: Any) -> Any:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else _MISMATCH


def _as_boolean(value: Any) -> Any:
    return value if isinstance(value, bool) else _MISMATCH


def _as_timestamp(value: Any) -> Any:
    moment = parse_timestamp(value)
    return _MISMATCH if moment is None else moment


_KINDS: dict[str, Callable[[Any], Any]] = {
    "String": _as_string, "Numeric": _as_number, "Boolean": _as_boolean, "Timestamp": _as_timestamp,
}
_RELATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": operator.eq, "LessThan": operator.lt, "GreaterThan": operator.gt,
    "LessThanEquals": operator.le, "GreaterThanEquals": operator.ge,
}
# e.g. "NumericLessThan" -> (number coercion, <); BooleanEquals is the only Boolean comparison.
_COMPARISONS: dict[str, tuple[Callable[[Any], Any], Callable[[Any, Any], bool]]] = {
    kind + relation: (coerce, compare)
    for kind, coerce in _KINDS.items()
    for relation, compare in _RELATIONS.items()
    if kind != "Boolean" or relation == "Equals"
}
_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "IsNull": lambda value: value is None,
    "IsString": lambda value: isinstance(value, str),
    "IsNumeric": lambda value: _as_number(value) is not _MISMATCH,
    "IsBoolean": lambda value: isinstance(value, bool),
    "IsTimestamp": lambda value: parse_timestamp(value) is not None,
}
_PATH_SUFFIX = "Path"
OPERATORS = frozenset({*_COMPARISONS, *(name + _PATH_SUFFIX for name in _COMPARISONS),
                       *_TYPE_TESTS, "IsPresent", "StringMatches"})


@dataclass(frozen=True)
class Comparison:
    variable: Path
    operator: str
    operand: Any  # a literal, a Path for the ...Path operators, a compiled pattern for StringMatches

    def matches(self, data: Any, context: dict[str, Any]) -> bool:
        if self.operator == "IsPresent":
            return self.variable.exists(data, context) == self.operand
        value = _read(self.variable, data, context)
        if self.operator in _TYPE_TESTS:
            return _TYPE_TESTS[self.operator](value) == self.operand
        if self.operator == "StringMatches":
            return isinstance(value, str) and self.operand.fullmatch(value) is not None
        name = self.operator.removesuffix(_PATH_SUFFIX) if isinstance(self.operand, Path) else self.operator
        expected = _read(self.operand, data, context) if isinstance(self.operand, Path) else self.operand
        coerce, compare = _COMPARISONS[name]
        actual, wanted = coerce(value), coerce(expected)
        return actual is not _MISMATCH and wanted is not _MISMATCH and compare(actual, wanted)


def _read(path: Path, data: Any, context: dict[str, Any]) -> Any:
    if not path.exists(data, context):
        raise StateError(RUNTIME, f"Invalid path {path.text!r}: the choice state's condition path "
                                  "references an undefined value (guard it with IsPresent)")
    return path.evaluate(data, context)


# ------------------------------------------------------------------------------------------------ parsing

_BOOLEAN_RULES = ("And", "Or", "Not")


def parse_rule(body: Any, where: str, *, top_level: bool) -> Rule:
    """Compile one rule; `where` names it in errors (e.g. "Choices[1].And[0]"); Next is read by the caller."""
    if not isinstance(body, dict):
        raise InvalidConstruct("a choice rule must be an object", where)
    if "Condition" in body:
        raise InvalidConstruct("JSONata Condition rules are not supported", f"{where}.Condition")
    allowed = {"Comment", "Next"} if top_level else {"Comment"}
    boolean = [name for name in _BOOLEAN_RULES if name in body]
    if boolean:
        _reject_unknown(body, allowed | {boolean[0]}, where)
        return _parse_boolean(boolean[0], body[boolean[0]], f"{where}.{boolean[0]}")
    _reject_unknown(body, allowed | {"Variable"} | OPERATORS, where)
    operators = [name for name in body if name in OPERATORS]
    if len(operators) != 1:
        raise InvalidConstruct(f"a choice rule needs exactly one comparison operator, found {operators}", where)
    return _parse_comparison(body, operators[0], where)


def _parse_boolean(name: str, operand: Any, where: str) -> Rule:
    if name == "Not":
        return Negation(parse_rule(operand, where, top_level=False))
    if not isinstance(operand, list) or not operand:
        raise InvalidConstruct(f"{name} needs a non-empty array of rules", where)
    rules = tuple(parse_rule(rule, f"{where}[{index}]", top_level=False) for index, rule in enumerate(operand))
    return AllOf(rules) if name == "And" else AnyOf(rules)


def _parse_comparison(body: dict[str, Any], name: str, where: str) -> Comparison:
    if "Variable" not in body:
        raise InvalidConstruct("a comparison needs a Variable", f"{where}.Variable")
    variable = _rule_path(body["Variable"], f"{where}.Variable")
    return Comparison(variable, name, _parse_operand(name, body[name], f"{where}.{name}"))


def _parse_operand(name: str, operand: Any, where: str) -> Any:
    if name.endswith(_PATH_SUFFIX) and name.removesuffix(_PATH_SUFFIX) in _COMPARISONS:
        return _rule_path(operand, where)
    if name in _TYPE_TESTS or name == "IsPresent":
        _expect(isinstance(operand, bool), f"{name} takes true or false", where)
        return operand
    if name == "StringMatches":
        _expect(isinstance(operand, str), "StringMatches takes a string pattern", where)
        return _wildcard_pattern(operand)
    coerce = _COMPARISONS[name][0]
    _expect(coerce(operand) is not _MISMATCH,
            f"{name} takes a {coerce.__name__.removeprefix('_as_')}, got {operand!r}", where)
    return operand


def _wildcard_pattern(pattern: str) -> re.Pattern[str]:
    r"""`*` matches any text; `\*` is a literal asterisk and `\\` a literal backslash."""
    pieces, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            pieces.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        pieces.append(".*" if char == "*" else re.escape(char))
        index += 1
    return re.compile("".join(pieces), re.DOTALL)


def _rule_path(text: Any, where: str) -> Path:
    try:
        return parse_path(text, allow_context=True)
    except InvalidConstruct as problem:
        raise InvalidConstruct(problem.reason, where) from None


def _reject_unknown(body: dict[str, Any], allowed: set[str], where: str) -> None:
    for key in body:
        if key not in allowed:
            reason = ("Next is only allowed on top-level choice rules" if key == "Next"
                      else f"unknown or misplaced field in a choice rule (operators: {', '.join(sorted(OPERATORS))})")
            raise InvalidConstruct(reason, f"{where}.{key}")


def _expect(condition: bool, reason: str, where: str) -> None:
    if not condition:
        raise InvalidConstruct(reason, where)
