"""The run's metrics as CloudWatch Embedded Metric Format log lines: the document's shape is what CloudWatch reads."""
import json
import logging

from pipeline.core import emf
from pipeline.core.emf import NAMESPACE, emf_document, emit, pipeline_name
from pipeline.core.logs import JsonFormatter

VALUES = {"AUC": (0.81, "None"), "RowsScored": (1200, "Count")}


def test_the_document_declares_its_metrics_under_aws_and_carries_the_values_at_top_level():
    document = emf_document(VALUES, {"Pipeline": "churn-pipeline"}, {"model_version": "v3"}, 1_767_225_600_000)

    declared = document["_aws"]
    assert declared["Timestamp"] == 1_767_225_600_000
    (metrics,) = declared["CloudWatchMetrics"]
    assert metrics["Namespace"] == NAMESPACE == "ChurnPipeline"
    assert metrics["Dimensions"] == [["Pipeline"]]
    assert metrics["Metrics"] == [{"Name": "AUC", "Unit": "None"}, {"Name": "RowsScored", "Unit": "Count"}]
    # CloudWatch reads each metric's value and each dimension's value from the top level, by name
    assert document["AUC"] == 0.81 and document["RowsScored"] == 1200
    assert document["Pipeline"] == "churn-pipeline" and document["model_version"] == "v3"
    assert set(document) == {"_aws", "AUC", "RowsScored", "Pipeline", "model_version"}
    json.dumps(document)  # one JSON log line


def test_every_dimension_is_one_dimension_set():
    document = emf_document({"StateDuration": (12.5, "Seconds")}, {"Pipeline": "p", "State": "Training"}, {}, 0)
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Pipeline", "State"]]
    assert (document["Pipeline"], document["State"], document["StateDuration"]) == ("p", "Training", 12.5)


def test_the_pipeline_is_the_stacks_name_and_local_on_this_machine(monkeypatch):
    monkeypatch.delenv("PIPELINE_NAME", raising=False)
    assert pipeline_name() == "local"
    monkeypatch.setenv("PIPELINE_NAME", "churn-prod")
    assert pipeline_name() == "churn-prod"


def test_emit_logs_the_document_with_the_pipeline_dimension_from_pipeline_name(monkeypatch, caplog):
    monkeypatch.setenv("PIPELINE_NAME", "churn-prod")
    monkeypatch.setattr(emf.time, "time", lambda: 1_767_225_600.25)
    caplog.set_level(logging.INFO, logger="pipeline.core.emf")

    document = emit(VALUES, {"State": "Publish"}, model_version="v3")

    assert document["_aws"]["Timestamp"] == 1_767_225_600_250  # milliseconds, an integer
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Pipeline", "State"]]
    assert document["Pipeline"] == "churn-prod" and document["State"] == "Publish"
    (record,) = [record for record in caplog.records if record.name == "pipeline.core.emf"]
    assert record.getMessage() == "metrics: AUC, RowsScored"
    for name, value in document.items():  # the log record carries the whole document for the JSON formatter
        assert getattr(record, name) == value


def test_emit_without_dimensions_has_the_pipeline_alone(monkeypatch, caplog):
    monkeypatch.delenv("PIPELINE_NAME", raising=False)
    caplog.set_level(logging.INFO, logger="pipeline.core.emf")
    document = emit({"AUC": (0.8, "None")})
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Pipeline"]]
    assert document["Pipeline"] == "local"
    assert isinstance(document["_aws"]["Timestamp"], int)


def test_the_json_log_line_is_the_emf_document_cloudwatch_logs_reads(monkeypatch, caplog):
    monkeypatch.setenv("PIPELINE_NAME", "churn-prod")
    caplog.set_level(logging.INFO, logger="pipeline.core.emf")
    document = emit(VALUES, model_version="v3")

    (record,) = [record for record in caplog.records if record.name == "pipeline.core.emf"]
    line = json.loads(JsonFormatter().format(record))  # what stdout, and so CloudWatch Logs, receives

    assert line["_aws"] == document["_aws"]
    assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ChurnPipeline"
    assert (line["AUC"], line["RowsScored"], line["Pipeline"], line["model_version"]) == (0.81, 1200, "churn-prod",
                                                                                          "v3")
