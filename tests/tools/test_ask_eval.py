"""Execution accuracy's comparison: the same rows, columns matched by their values, order only where the gold
SQL orders, numbers to 4 decimal places."""
import pytest

from tools.cli.ask_eval import same_result


@pytest.mark.parametrize("expected, got, ordered, right", [
    ([("a", 1.0), ("b", 2.0)], [("b", 2.0), ("a", 1.0)], False, True),   # any order, unordered gold
    ([("a", 1.0), ("b", 2.0)], [("b", 2.0), ("a", 1.0)], True, False),   # the gold's order counts
    ([("a", 1.0), ("b", 2.0)], [(1.0, "a"), (2.0, "b")], True, True),    # columns in another order
    ([("a", 1.0)], [("a", 1.0), ("a", 1.0)], False, False),              # a duplicate row is a difference
    ([("a", 1.0)], [("a", 1.0, "extra")], False, False),                 # so is an extra column
    ([("a", 1.0), ("b", 2.0)], [("a", 2.0), ("b", 1.0)], False, False),  # same column values, other pairs
    ([], [], True, True),
])
def test_same_result(expected, got, ordered, right):
    assert same_result(expected, got, ordered)[0] is right
