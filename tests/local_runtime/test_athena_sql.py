"""The Athena-to-DuckDB translation: exact where it translates, refused where it could not be."""
import datetime as dt
import hashlib

import duckdb
import pytest

from local_runtime.athena_sql import parse, to_duckdb
from pipeline.core.errors import QueryError

SHARD = "mod(from_base(substr(to_hex(md5(to_utf8(customer_id))), 1, 8), 16), 7)"


def run(sql: str, **params) -> list[tuple]:
    return duckdb.sql(to_duckdb(sql), params=params or None).fetchall() if not params else \
        duckdb.execute(to_duckdb(sql), params).fetchall()


def test_the_shard_of_a_customer_is_the_md5_that_athena_computes():
    customers = ["C00000001", "C09999999", "naïve-ünïcode", "a'quote"]
    values = ", ".join("('" + customer.replace("'", "''") + "')" for customer in customers)
    shards = run(f"SELECT {SHARD} FROM (VALUES {values}) AS t(customer_id)")
    expected = [int(hashlib.md5(customer.encode()).hexdigest()[:8], 16) % 7 for customer in customers]
    assert [shard for (shard,) in shards] == expected


def test_only_radix_16_is_emulated():
    with pytest.raises(QueryError, match=r"FROM_BASE\(x, 2\).*only from_base\(…, 16\)"):
        to_duckdb("SELECT from_base(x, 2) FROM t")


def test_xxhash64_of_text_is_a_hash_equal_for_equal_texts_and_distinct_for_these():
    rows = run("SELECT t, xxhash64(to_utf8(t)) FROM (VALUES ('a'), ('b'), ('a'), ('naïve')) AS v(t)")
    hashes = {text: {value for other, value in rows if other == text} for text, _ in rows}
    assert all(len(values) == 1 for values in hashes.values())
    assert len({value for (value,) in hashes.values()}) == 3


def test_a_bucket_of_the_signed_xxhash64_is_one_of_n_for_every_text():
    texts = [f"C{number:08d}" for number in range(300)]
    values = ", ".join(f"('{text}')" for text in texts)
    rows = run(f"SELECT abs(mod(from_big_endian_64(xxhash64(to_utf8(t))), 3)) FROM (VALUES {values}) AS v(t)")
    buckets = [bucket for (bucket,) in rows]
    assert set(buckets) == {0, 1, 2} and all(buckets.count(bucket) > 60 for bucket in range(3))


def test_only_from_big_endian_64_of_xxhash64_is_emulated():
    with pytest.raises(QueryError, match=r"only from_big_endian_64\(xxhash64\(…\)\)"):
        to_duckdb("SELECT from_big_endian_64(x) FROM t")


def test_only_xxhash64_of_to_utf8_is_emulated():
    with pytest.raises(QueryError, match=r"only xxhash64\(to_utf8\(…\)\)"):
        to_duckdb("SELECT xxhash64(x) FROM t")


@pytest.mark.parametrize("division", ["count(a) / count(*)", "7 / 2", "sum(sessions) / n"])
def test_a_division_that_could_be_of_two_integers_is_refused_not_answered_differently(division):
    with pytest.raises(QueryError, match="Athena divides two integers to an integer .* CAST"):
        to_duckdb(f"SELECT {division} FROM t")


@pytest.mark.parametrize("division, expected", [
    ("1e0 / 4", 0.25), ("CAST(7 AS DOUBLE) / 2", 3.5), ("7 / CAST(2 AS DECIMAL(4, 1))", 3.5), ("7 / 2.0", 3.5),
    ("avg(x) / 2", 1.5), ("floor(CAST(7 AS DOUBLE) / 2)", 3),
])
def test_a_visibly_fractional_division_means_the_same_on_both(division, expected):
    assert run(f"SELECT {division} FROM (VALUES (3)) AS t(x)") == [(expected,)]


def test_trino_date_functions_and_named_parameters_translate():
    assert run("SELECT date_add('day', -7, CAST(:week AS DATE)), date_diff('day', DATE '2026-01-01', "
               "DATE '2026-03-01')", week="2026-03-09") == [(dt.date(2026, 3, 2), 59)]


def test_a_syntax_error_is_a_query_error():
    with pytest.raises(QueryError, match="query failed"):
        parse("SELECT FROM WHERE")
