import pandas as pd
import pytest

from pipeline.contract import COLUMNS, arrow_schema
from pipeline.errors import ContractError
from pipeline.validate import read_snapshot_file, validate_snapshot


def test_minimal_file_is_conformed_to_the_full_schema():
    frame = pd.DataFrame({"customer_id": ["a", "b"], "sessions_7d": ["3", "0"], "revenue_90d": ["1.5", None]})
    table, notes = validate_snapshot(frame, "week.csv")
    assert table.schema == arrow_schema()
    assert table.num_rows == 2 and len(table.columns) == len(COLUMNS)
    assert table.column("sessions_7d").to_pylist() == [3, 0]
    assert table.column("revenue_90d").to_pylist() == [1.5, None]
    assert table.column("plan").null_count == 2
    assert notes == []


def test_missing_required_column_names_file_and_column():
    with pytest.raises(ContractError, match=r"week\.csv: required column\(s\) missing: sessions_7d"):
        validate_snapshot(pd.DataFrame({"customer_id": ["a"]}), "week.csv")


def test_every_broken_rule_is_reported_with_counts_and_examples():
    frame = pd.DataFrame({
        "customer_id": ["a", "a", "b", None],
        "sessions_7d": ["1", "-2", "x", "4"],
        "purchases_30d": ["1.5", "2", "3", "4"],
        "signup_date": ["2026-01-01", "yesterday", None, "2025-12-31"],
    })
    with pytest.raises(ContractError) as caught:
        validate_snapshot(frame, "bad.csv")
    message = str(caught.value)
    assert "bad.csv: column 'customer_id': must be unique within a snapshot: 2 row(s), e.g. 'a'" in message
    assert "bad.csv: column 'customer_id': must not be empty: 1 row(s)" in message
    assert "bad.csv: column 'sessions_7d': must be of type bigint: 1 row(s), e.g. 'x'" in message
    assert "bad.csv: column 'sessions_7d': must be >= 0: 1 row(s), e.g. '-2'" in message
    assert "bad.csv: column 'purchases_30d': must be of type bigint: 1 row(s), e.g. '1.5'" in message
    assert "bad.csv: column 'signup_date': must be of type date: 1 row(s), e.g. 'yesterday'" in message


def test_null_required_value_is_rejected():
    frame = pd.DataFrame({"customer_id": ["a", "b"], "sessions_7d": [1, None]})
    with pytest.raises(ContractError, match="'sessions_7d': is required and must not be null: 1 row"):
        validate_snapshot(frame, "f.parquet")


def test_unknown_columns_are_ignored_with_a_note():
    frame = pd.DataFrame({"customer_id": ["a"], "sessions_7d": [1], "favourite_colour": ["red"]})
    table, notes = validate_snapshot(frame, "f.csv")
    assert "favourite_colour" not in table.column_names
    assert notes == ["f.csv: ignored column(s) not in the contract: favourite_colour"]


def test_booleans_accept_common_spellings(tmp_path):
    path = tmp_path / "week.csv"
    path.write_text("customer_id,sessions_7d,push_enabled\na,1,yes\nb,2,FALSE\nc,0,\n")
    table, _ = validate_snapshot(read_snapshot_file(path), str(path))
    assert table.column("push_enabled").to_pylist() == [True, False, None]


def test_unsupported_file_type_is_named(tmp_path):
    path = tmp_path / "week.xlsx"
    path.write_text("x")
    with pytest.raises(ContractError, match=r"week\.xlsx: unsupported file type '\.xlsx'"):
        read_snapshot_file(path)
