"""`engagement-pipeline ask --eval FILE`: execution accuracy of the configured model on questions with gold SQL.

Each line of FILE is {"kind", "question", "sql"}. The gold SQL and the assistant's SQL both run through the guard
and the engine; a question is right when the two results hold the same rows: in any order unless the gold SQL
orders its rows, with the columns in any order, numbers compared to 4 decimal places. A question the assistant
could not answer is a miss.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.assistant.guard import guard
from pipeline.assistant.loop import Assistant, Runner, json_value
from pipeline.core.errors import ConfigError, PipelineError

KINDS = ("lookup", "aggregate", "trend", "comparison", "join", "data quality", "runs")
DECIMALS = 4


@dataclass(frozen=True)
class GoldQuestion:
    kind: str
    question: str
    sql: str


@dataclass(frozen=True)
class Graded:
    gold: GoldQuestion
    right: bool
    sql: str | None  # the assistant's, as run
    why: str  # for a miss


def read_questions(path: Path) -> list[GoldQuestion]:
    questions = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            question = GoldQuestion(entry["kind"], entry["question"], entry["sql"])
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ConfigError(f"{path} line {number}: expected {{\"kind\", \"question\", \"sql\"}} ({error})") from None
        if question.kind not in KINDS:
            raise ConfigError(f"{path} line {number}: kind {question.kind!r} is not one of {', '.join(KINDS)}")
        questions.append(question)
    return questions


def grade(assistant: Assistant, run: Runner, gold: GoldQuestion) -> Graded:
    # A gold query the guard refuses is the file's fault: raised, not graded
    guarded = guard(gold.sql, assistant.tables)
    expected = run(guarded.sql).table
    try:
        answer = assistant.ask(gold.question)
    except PipelineError as error:  # the model could not be reached for this one
        return Graded(gold, False, None, str(error))
    if not answer.answered:
        return Graded(gold, False, None, answer.sentence)
    got = run(answer.sql).table  # again: the answer keeps 100 rows, the query may return up to 1,000
    right, why = same_result(_rows(expected), _rows(got), _orders_rows(gold.sql))
    return Graded(gold, right, answer.sql, why)


def _orders_rows(sql: str) -> bool:
    return sqlglot.parse_one(sql, read="athena").args.get("order") is not None


def _rows(table) -> list[tuple]:
    columns = [[_normal(value) for value in column.to_pylist()] for column in table.columns]
    return list(zip(*columns)) if columns else []


def _normal(value: Any) -> Any:
    value = json_value(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return round(float(value), DECIMALS) + 0.0  # + 0.0: -0.0 is 0.0
    return json.dumps(value) if isinstance(value, (list, dict)) else value


def same_result(expected: list[tuple], got: list[tuple], ordered: bool) -> tuple[bool, str]:
    """The same rows, matching each expected column to a column of `got` that holds the same values."""
    if len(expected) != len(got):
        return False, f"{len(got)} rows, expected {len(expected)}"
    width = len(expected[0]) if expected else 0
    if got and len(got[0]) != width:
        return False, f"{len(got[0])} columns, expected {width}"
    order = _column_order(expected, got, width)
    if order is None:
        return False, "the columns' values differ"
    got = [tuple(row[index] for index in order) for row in got]
    same = expected == got if ordered else Counter(expected) == Counter(got)
    return same, "" if same else ("the rows differ" + (" (or their order)" if ordered else ""))


def _column_order(expected: list[tuple], got: list[tuple], width: int) -> list[int] | None:
    """For each expected column, a column of `got` with the same values (as multisets), each used once."""
    def values(rows: list[tuple], index: int) -> Counter:
        return Counter(row[index] for row in rows)

    free, order = list(range(width)), []
    for index in range(width):
        match = next((other for other in free if values(got, other) == values(expected, index)), None)
        if match is None:
            return None
        free.remove(match)
        order.append(match)
    return order


def report(graded: list[Graded], model: str) -> dict:
    by_kind = {kind: [g for g in graded if g.gold.kind == kind] for kind in KINDS}
    return {"model": model, "right": sum(g.right for g in graded), "questions": len(graded),
            "by_kind": {kind: {"right": sum(g.right for g in items), "questions": len(items)}
                        for kind, items in by_kind.items() if items},
            "misses": [{"kind": g.gold.kind, "question": g.gold.question, "gold_sql": g.gold.sql,
                        "assistant_sql": g.sql, "why": g.why} for g in graded if not g.right]}


def print_report(console: Console, result: dict) -> None:
    for miss in result["misses"]:
        console.print(f"\n[red]miss[/] ({miss['kind']}) {escape(miss['question'])}: {escape(miss['why'])}\n"
                      f"  gold:      {escape(miss['gold_sql'])}\n  assistant: {escape(str(miss['assistant_sql']))}",
                      soft_wrap=True, highlight=False)
    table = Table("kind", "right", "questions", "execution accuracy", title=f"model: {result['model']}")
    for kind, counts in result["by_kind"].items():
        table.add_row(kind, str(counts["right"]), str(counts["questions"]), _share(counts))
    table.add_row("all", str(result["right"]), str(result["questions"]), _share(result))
    console.print(table)


def _share(counts: dict) -> str:
    return f"{counts['right'] / counts['questions']:.1%}" if counts["questions"] else ""
