import json

from pipeline.warehouse.tables import GLUE_DIR, snapshots_document, table_definitions


def test_snapshots_glue_table_is_generated_from_the_contract():
    assert json.loads((GLUE_DIR / "snapshots.json").read_text()) == snapshots_document(), \
        "regenerate with: engagement-pipeline contract --glue > glue/snapshots.json"


def test_result_tables_are_partitioned_by_run_date():
    tables = table_definitions()
    assert {"snapshots", "predictions", "model_metrics"} <= set(tables)
    assert tables["predictions"].partition_key == "run_date"
    assert {"customer_id", "churn_probability", "risk_band", "model_version"} <= {
        name for name, _ in tables["predictions"].columns}
    assert {"auc", "bayes_auc", "rows_trained", "rows_scored", "model_version"} <= {
        name for name, _ in tables["model_metrics"].columns}


def test_the_input_contract_page_documents_the_contract():
    from pipeline.core.settings import REPO_ROOT
    from pipeline.warehouse.contract import markdown_table

    page = (REPO_ROOT / "docs" / "input-contract.md").read_text()
    documented = page.split("<!-- contract:start -->\n")[1].split("\n<!-- contract:end -->")[0]
    assert documented == markdown_table(), "regenerate the page's table with: engagement-pipeline contract"
