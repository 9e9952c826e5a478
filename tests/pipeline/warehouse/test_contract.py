from pipeline.warehouse.contract import COLUMNS, KEY_COLUMN, REQUIRED_COLUMNS, arrow_schema, markdown_table


def test_the_key_and_the_activity_column_are_the_only_required_ones():
    assert list(REQUIRED_COLUMNS) == [KEY_COLUMN, "sessions_7d"]


def test_the_landed_schema_follows_the_contract_in_order():
    assert arrow_schema().names == [column.name for column in COLUMNS]
    assert len(set(arrow_schema().names)) == len(COLUMNS)


def test_the_markdown_table_has_a_row_per_column():
    rows = markdown_table().splitlines()[2:]
    assert len(rows) == len(COLUMNS) and rows[0].startswith(f"| `{KEY_COLUMN}` | string | yes |")
