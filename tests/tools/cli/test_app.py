"""The command line as a user types it: generate, ingest, run, query, runs."""
import json

import pytest

import tools.cli.app
from local_runtime.launcher import LocalTaskInvoker
from pipeline.warehouse.tables import table
from tools.cli.app import main


def test_generate_if_missing_keeps_the_same_panel(services, capsys):
    assert main(["generate", "--customers", "300", "--weeks", "7", "--if-missing"]) == 0
    assert main(["generate", "--customers", "300", "--weeks", "7", "--if-missing"]) == 0
    assert "kept the synthetic panel already landed" in capsys.readouterr().out
    assert main(["generate", "--customers", "200", "--weeks", "7", "--if-missing"]) == 0  # another size: replaced
    assert main(["query", "SELECT count(*) AS n FROM engagement.snapshots", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == {"n": 200 * 7}


def test_generate_if_missing_never_overwrites_ingested_weeks(services, tmp_path, capsys):
    path = tmp_path / "week.csv"
    path.write_text("customer_id,sessions_7d\na,1\nb,0\n")
    assert main(["ingest", str(path), "--snapshot-date", "2026-03-02"]) == 0
    assert main(["generate", "--customers", "300", "--weeks", "7", "--if-missing"]) == 0
    assert "not generating synthetic data over your own" in capsys.readouterr().out
    assert list(services.catalog.partitions(table("snapshots"))) == ["2026-03-02"]


def test_ingest_of_a_bad_file_names_the_problem_and_lands_nothing(services, tmp_path, capsys):
    path = tmp_path / "week.csv"
    path.write_text("customer_id,sessions_7d\na,1\nb,lots\n")
    assert main(["ingest", str(path), "--snapshot-date", "2026-03-02"]) == 2
    assert f"{path}: column 'sessions_7d': must be of type bigint: 1 row(s), e.g. 'lots'" in capsys.readouterr().err
    assert services.catalog.partitions(table("snapshots")) == {}


def test_ingest_events_lands_the_log_and_builds_its_weeks(services, tmp_path, capsys):
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[columns]\ncustomer_id = "user"\nevent_time = "at"\nevent_type = "type"\n'
                       '[event_types]\nsession = ["open"]\n')
    log = tmp_path / "events.csv"
    log.write_text("user,at,type\na,2026-03-06T10:00:00Z,open\nb,2026-03-08T10:00:00Z,open\n")
    assert main(["ingest-events", str(log), "--mapping", str(mapping)]) == 0
    out = capsys.readouterr().out
    assert "landed 2 events" in out and "built snapshot 2026-03-09: 2 customers" in out
    log.write_text("user,at,type\na,soon,open\n")
    assert main(["ingest-events", str(log), "--mapping", str(mapping)]) == 2
    assert "column 'at': is not a time" in capsys.readouterr().err


@pytest.mark.slow
def test_run_then_query_and_runs(services, capsys):
    main(["generate", "--customers", "400", "--weeks", "9"])
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    assert "true-state AUC" in out and "Next, try:" in out
    assert main(["query", "SELECT count(*) AS customers FROM engagement.predictions", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["customers", "400"]
    assert main(["runs"]) == 0
    assert "SUCCEEDED" in capsys.readouterr().out


def test_failed_run_says_where_and_why(services, capsys):
    main(["generate", "--customers", "300", "--weeks", "4"])
    assert main(["run"]) == 1
    err = capsys.readouterr().err
    assert "run failed in PrepareData" in err and "DataQualityError: 4 weekly snapshot(s)" in err
    assert main(["runs"]) == 0
    assert "FAILED" in capsys.readouterr().out


def test_a_query_error_is_reported_without_a_traceback(services, capsys):
    assert main(["query", "SELECT * FROM engagement.nope"]) == 2
    assert "query failed" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["ingest", "x.csv", "--snapshot-date", "02/03/2026"],
                                  ["generate", "--customers", "0"]])
def test_bad_arguments_are_refused(argv, services, capsys):
    assert main(argv) == 2
    assert "Invalid value" in capsys.readouterr().err


def test_an_interrupted_run_is_recorded_and_gives_its_week_back(panel, monkeypatch, capsys):
    invoke_lambda = LocalTaskInvoker.invoke_lambda

    def interrupted_after_cleanup(self, parameters):
        invoke_lambda(self, parameters)  # Cleanup takes the week
        raise KeyboardInterrupt

    monkeypatch.setattr(LocalTaskInvoker, "invoke_lambda", interrupted_after_cleanup)
    assert main(["run"]) == 130
    assert "run interrupted" in capsys.readouterr().err
    assert not panel.storage.list_keys("locks/")
    assert main(["runs"]) == 0
    assert "INTERRUPTED" in capsys.readouterr().out


def published_files(services) -> dict[str, bytes]:
    return {key: services.storage.read_bytes(key) for key in services.storage.list_keys("")}


def test_a_full_disk_is_one_clear_line_and_changes_nothing(services, tmp_path, monkeypatch, capsys):
    path = tmp_path / "week.csv"
    path.write_text("customer_id,sessions_7d\na,1\n")
    assert main(["ingest", str(path), "--snapshot-date", "2026-03-02"]) == 0
    before = published_files(services)

    def full(self, key, data):
        raise OSError(28, "No space left on device", self.uri(key))

    monkeypatch.setattr("local_runtime.folder_storage.FolderStorage.write_bytes", full)
    assert main(["ingest", str(path), "--snapshot-date", "2026-03-09"]) == 2
    err = capsys.readouterr().err
    assert "error: No space left on device" in err and "Traceback" not in err
    monkeypatch.undo()
    assert published_files(services) == before


def test_a_data_directory_that_is_a_file_is_refused_before_anything_runs(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    home.write_text("")
    monkeypatch.setenv("PIPELINE_HOME", str(home))
    assert main(["runs"]) == 2
    assert "is a file, not a directory" in capsys.readouterr().err


def test_ctrl_c_outside_a_run_is_a_clean_exit(services, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tools.cli.app, "land_synthetic_panel", interrupted)
    assert main(["generate", "--customers", "10", "--weeks", "1"]) == 130
    assert "Traceback" not in capsys.readouterr().err
