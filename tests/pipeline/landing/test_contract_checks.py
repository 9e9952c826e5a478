import datetime as dt
import warnings

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.core.errors import ContractError
from pipeline.landing.contract_checks import read_snapshot_file, validate_snapshot
from pipeline.warehouse.contract import COLUMNS, arrow_schema


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
    assert ("bad.csv: column 'customer_id': must be unique within a snapshot (after trimming spaces): 2 row(s), "
            "e.g. 'a'") in message
    assert "bad.csv: column 'customer_id': must not be empty: 1 row(s)" in message
    assert "bad.csv: column 'sessions_7d': must be of type bigint: 1 row(s), e.g. 'x'" in message
    assert "bad.csv: column 'sessions_7d': must be >= 0: 1 row(s), e.g. '-2'" in message
    assert "bad.csv: column 'purchases_30d': must be of type bigint: 1 row(s), e.g. '1.5'" in message
    assert "bad.csv: column 'signup_date': must be of type date (YYYY-MM-DD): 1 row(s), e.g. 'yesterday'" in message


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


@pytest.fixture
def no_warnings():
    """A warning (e.g. dateutil guessing a date format) is an error: the contract decides, not a guess."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def write_csv(tmp_path, text: str, name: str = "week.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def write_parquet(tmp_path, columns: dict, name: str = "week.parquet"):
    path = tmp_path / name
    pq.write_table(pa.table(columns), path)
    return path


def contract_message(path) -> str:
    with pytest.raises(ContractError) as caught:
        validate_snapshot(read_snapshot_file(path), str(path))
    return str(caught.value)


@pytest.mark.parametrize("dates", [["2024-03-04", "03/04/2024"], ["03/04/2024", "2024-03-04"]])
def test_non_iso_dates_are_rejected_whatever_the_row_order(tmp_path, no_warnings, dates):
    path = write_csv(tmp_path, f"customer_id,sessions_7d,signup_date\na,1,{dates[0]}\nb,2,{dates[1]}\n")
    assert (f"{path}: column 'signup_date': must be of type date (YYYY-MM-DD): 1 row(s), e.g. '03/04/2024'"
            in contract_message(path))


def test_only_iso_8601_text_is_a_date(no_warnings):
    bad = ["2024-1-5", "20240304", "2024-02-30", "4 March 2024", "2024-03-04T25:00", "2024-03-04x"]
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(len(bad))], "sessions_7d": ["1"] * len(bad),
                          "signup_date": bad})
    with pytest.raises(ContractError, match=r"'signup_date': must be of type date \(YYYY-MM-DD\): 6 row\(s\)"):
        validate_snapshot(frame, "week.csv")


def test_iso_dates_with_a_time_part_land_as_their_date(tmp_path, no_warnings):
    path = write_csv(tmp_path, "customer_id,sessions_7d,signup_date\na,1,2024-03-04\nb,1,2024-03-05T23:30:00+05:00\n"
                               "c,1,2024-03-06 08:00\nd,1,2024-03-07T10:00:00Z\ne,1,\n")
    table, _ = validate_snapshot(read_snapshot_file(path), str(path))
    assert table.column("signup_date").to_pylist() == [dt.date(2024, 3, 4), dt.date(2024, 3, 5),
                                                        dt.date(2024, 3, 6), dt.date(2024, 3, 7), None]


def test_parquet_dates_and_timestamps_are_dates(tmp_path, no_warnings):
    for column in (pa.array([dt.date(2024, 3, 4), None], pa.date32()),
                   pa.array([dt.datetime(2024, 3, 4, 12), None], pa.timestamp("us")),
                   pa.array([dt.datetime(2024, 3, 4, 12), None], pa.timestamp("us", tz="UTC"))):
        path = write_parquet(tmp_path, {"customer_id": ["a", "b"], "sessions_7d": [1, 2], "signup_date": column})
        table, _ = validate_snapshot(read_snapshot_file(path), str(path))
        assert table.column("signup_date").to_pylist() == [dt.date(2024, 3, 4), None]


def test_python_date_objects_are_dates(no_warnings):
    """What the synthetic generator hands over: datetime.date objects in an object column."""
    frame = pd.DataFrame({"customer_id": ["a", "b"], "sessions_7d": [1, 2],
                          "signup_date": pd.Series([dt.date(2024, 3, 4), None], dtype=object)})
    table, _ = validate_snapshot(frame, "synthetic")
    assert table.column("signup_date").to_pylist() == [dt.date(2024, 3, 4), None]


def test_numbers_in_a_parquet_date_column_are_not_dates(tmp_path, no_warnings):
    path = write_parquet(tmp_path, {"customer_id": ["a", "b"], "sessions_7d": [1, 2], "signup_date": [20240304, 5]})
    assert "column 'signup_date': must be of type date (YYYY-MM-DD): 2 row(s), e.g. 20240304, 5" in contract_message(path)


@pytest.mark.parametrize("text, problem", [
    ("customer_id,sessions_7d\na,1\nb,2,3\n", "cannot be read as CSV: .*Expected 2 fields in line 3, saw 3"),
    ("", "cannot be read as CSV: the file is empty"),
])
def test_unreadable_csv_is_a_contract_error(tmp_path, text, problem):
    path = write_csv(tmp_path, text)
    with pytest.raises(ContractError, match=f"week\\.csv: {problem}"):
        read_snapshot_file(path)


@pytest.mark.parametrize("content", [b"this is not parquet", b"", b"PAR1" + b"\0" * 20 + b"PAR1"])
def test_corrupt_parquet_is_a_contract_error(tmp_path, content):
    path = tmp_path / "week.parquet"
    path.write_bytes(content)
    with pytest.raises(ContractError, match=r"week\.parquet: cannot be read as Parquet: "):
        read_snapshot_file(path)


@pytest.mark.parametrize("name", ["gone.csv", "gone.parquet"])
def test_missing_file_is_a_contract_error(tmp_path, name):
    with pytest.raises(ContractError, match=f"{name}: file not found"):
        read_snapshot_file(tmp_path / name)


def test_integers_beyond_bigint_are_out_of_range(tmp_path, no_warnings):
    path = write_csv(tmp_path, "customer_id,sessions_7d,purchases_30d\n"
                               "a,1e20,1\nb,99999999999999999999,-1e30\nc,3,9223372036854775807\n")
    message = contract_message(path)
    assert (f"{path}: column 'sessions_7d': is out of range for bigint: 2 row(s), e.g. '1e20', '99999999999999999999'"
            in message)
    assert f"{path}: column 'purchases_30d': is out of range for bigint: 1 row(s), e.g. '-1e30'" in message
    assert ">= 0" not in message


def test_large_integers_within_bigint_land_exactly(tmp_path, no_warnings):
    """"3.0" makes pandas parse the column as floats, which cannot hold these integers exactly."""
    path = write_csv(tmp_path, "customer_id,sessions_7d\na,9223372036854775807\nb,9007199254740993\nc,3.0\n")
    table, _ = validate_snapshot(read_snapshot_file(path), str(path))
    assert table.column("sessions_7d").to_pylist() == [9223372036854775807, 9007199254740993, 3]


def test_parquet_unsigned_integers_beyond_bigint_are_out_of_range(tmp_path, no_warnings):
    path = write_parquet(tmp_path, {"customer_id": ["a", "b"], "sessions_7d": pa.array([2**64 - 1, 1], pa.uint64())})
    assert "column 'sessions_7d': is out of range for bigint: 1 row(s), e.g. 18446744073709551615" in contract_message(path)


def test_infinite_value_is_not_a_bigint(no_warnings):
    frame = pd.DataFrame({"customer_id": ["a", "b"], "sessions_7d": ["inf", "1"]})
    with pytest.raises(ContractError, match=r"'sessions_7d': must be of type bigint: 1 row\(s\), e.g. 'inf'"):
        validate_snapshot(frame, "week.csv")


def test_parquet_float_with_nan_in_required_column_is_null_not_a_type_error(tmp_path, no_warnings):
    path = write_parquet(tmp_path, {"customer_id": ["a", "b", "c"], "sessions_7d": [1.0, float("nan"), 3.0]})
    message = contract_message(path)
    assert f"{path}: column 'sessions_7d': is required and must not be null: 1 row(s)" in message
    assert "must be of type" not in message


def test_parquet_float_counts_land_as_bigint(tmp_path, no_warnings):
    """An int column with nulls, written by pandas, arrives as float."""
    path = write_parquet(tmp_path, {"customer_id": ["a", "b"], "sessions_7d": [1.0, 2.0],
                                    "purchases_30d": [5.0, float("nan")]})
    table, _ = validate_snapshot(read_snapshot_file(path), str(path))
    assert table.column("sessions_7d").to_pylist() == [1, 2]
    assert table.column("purchases_30d").to_pylist() == [5, None]


def test_parquet_booleans_as_0_1_integers(tmp_path, no_warnings):
    path = write_parquet(tmp_path, {"customer_id": ["a", "b", "c"], "sessions_7d": [1, 2, 3],
                                    "push_enabled": pa.array([1, 0, None], pa.int64()),
                                    "auto_renew": pa.array([0, 1, 1], pa.int8()), "email_opt_in": [True, None, False]})
    table, _ = validate_snapshot(read_snapshot_file(path), str(path))
    assert table.column("push_enabled").to_pylist() == [True, False, None]
    assert table.column("auto_renew").to_pylist() == [False, True, True]
    assert table.column("email_opt_in").to_pylist() == [True, None, False]


def test_parquet_integer_other_than_0_1_is_not_a_boolean(tmp_path, no_warnings):
    path = write_parquet(tmp_path, {"customer_id": ["a", "b"], "sessions_7d": [1, 2], "push_enabled": [2, 1]})
    assert "column 'push_enabled': must be of type boolean: 1 row(s), e.g. 2" in contract_message(path)


def test_parquet_column_of_the_wrong_arrow_type_is_reported_with_row_count(tmp_path, no_warnings):
    path = write_parquet(tmp_path, {"customer_id": ["a", "b", "c"], "sessions_7d": ["abc", "2", "x"],
                                    "plan": pa.array([[1], [2], None], pa.list_(pa.int64()))})
    message = contract_message(path)
    assert f"{path}: column 'sessions_7d': must be of type bigint: 2 row(s), e.g. 'abc', 'x'" in message
    assert f"{path}: column 'plan': must be of type string: 2 row(s)" in message


def test_list_typed_key_column_is_reported_not_a_crash(tmp_path, no_warnings):
    path = write_parquet(tmp_path, {"customer_id": pa.array([[1], [1]], pa.list_(pa.int64())), "sessions_7d": [1, 2]})
    assert f"{path}: column 'customer_id': must be of type string: 2 row(s)" in contract_message(path)


def test_duplicate_column_names_are_named():
    frame = pd.DataFrame([["a", 1, 2]], columns=["customer_id", "sessions_7d", "sessions_7d"])
    with pytest.raises(ContractError, match=r"week\.parquet: column\(s\) appear more than once: sessions_7d"):
        validate_snapshot(frame, "week.parquet")


def write_text(tmp_path, text: str):
    path = tmp_path / "week.csv"
    path.write_text(text)
    return path


def test_ids_and_text_are_trimmed_so_a_trailing_space_is_the_same_customer(tmp_path):
    table, _ = validate_snapshot(read_snapshot_file(write_text(tmp_path, "customer_id,sessions_7d,country\n"
                                                                           " c1 ,1, US \nc2,0,\n")), "week.csv")
    assert table.column("customer_id").to_pylist() == ["c1", "c2"]
    assert table.column("country").to_pylist() == ["US", None]


def test_an_id_that_repeats_once_trimmed_is_refused(tmp_path):
    with pytest.raises(ContractError, match="must be unique within a snapshot .*2 row"):
        validate_snapshot(read_snapshot_file(write_text(tmp_path, "customer_id,sessions_7d\nc1,1\nc1 ,2\n")), "w")


def test_na_is_a_country_in_text_and_no_value_in_numbers(tmp_path):
    csv = "customer_id,sessions_7d,country,plan,minutes_7d,email_opt_in\nNA,1,NA,None,NA,null\nc2,2,DE,,N/A,true\n"
    table, _ = validate_snapshot(read_snapshot_file(write_text(tmp_path, csv)), "week.csv")
    assert table.column("customer_id").to_pylist() == ["NA", "c2"]
    assert table.column("country").to_pylist() == ["NA", "DE"]  # Namibia
    assert table.column("plan").to_pylist() == ["None", None]
    assert table.column("minutes_7d").to_pylist() == [None, None]
    assert table.column("email_opt_in").to_pylist() == [None, True]
