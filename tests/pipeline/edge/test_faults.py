"""PIPELINE_FAULTS: which states fail, once per execution or always; off when the variable is unset."""
import pytest

from local_runtime.folder_storage import FolderStorage
from pipeline.core.errors import ConfigError, PipelineError
from pipeline.edge.faults import InjectedFault, configured_faults, inject_fault


@pytest.fixture
def storage(tmp_path):
    return FolderStorage(tmp_path / "warehouse")


def test_no_variable_means_no_faults():
    assert configured_faults({}) == {}
    assert configured_faults({"PIPELINE_FAULTS": ""}) == {}


def test_each_entry_names_a_state_and_its_mode_spaces_and_empty_entries_aside():
    assert configured_faults({"PIPELINE_FAULTS": " Training:once, InferenceShard:always ,,"}) == {
        "Training": "once", "InferenceShard": "always"}


def test_faults_are_read_from_the_environment_when_none_is_given(monkeypatch):
    monkeypatch.setenv("PIPELINE_FAULTS", "Publish:always")
    assert configured_faults() == {"Publish": "always"}


@pytest.mark.parametrize("text", ["Training", "Training:twice", "Training:ONCE"])
def test_an_entry_without_a_known_mode_is_a_config_error_naming_it(text):
    with pytest.raises(ConfigError, match=f"'{text}' must be STATE:once or STATE:always"):
        configured_faults({"PIPELINE_FAULTS": text})


def test_a_state_that_is_not_named_never_fails(monkeypatch, storage):
    monkeypatch.setenv("PIPELINE_FAULTS", "Training:always")
    inject_fault("Publish", "week-1", storage)  # no error
    assert storage.list_keys("faults/") == []


def test_without_the_variable_nothing_is_injected_or_written(monkeypatch, storage):
    monkeypatch.delenv("PIPELINE_FAULTS", raising=False)
    inject_fault("Training", "week-1", storage)
    assert storage.list_keys("") == []


def test_once_fails_the_first_attempt_of_each_execution_and_passes_its_retries(monkeypatch, storage):
    monkeypatch.setenv("PIPELINE_FAULTS", "Training:once")
    with pytest.raises(InjectedFault, match=r"fault injected in Training \(once, by PIPELINE_FAULTS\)"):
        inject_fault("Training", "week-1", storage)
    inject_fault("Training", "week-1", storage)  # the retry passes
    inject_fault("Training", "week-1", storage)
    assert storage.exists("faults/week-1/Training")
    with pytest.raises(InjectedFault):  # another execution fails once of its own
        inject_fault("Training", "week-2", storage)


def test_once_is_counted_per_state(monkeypatch, storage):
    monkeypatch.setenv("PIPELINE_FAULTS", "Training:once,Publish:once")
    with pytest.raises(InjectedFault):
        inject_fault("Training", "week-1", storage)
    with pytest.raises(InjectedFault, match="in Publish"):
        inject_fault("Publish", "week-1", storage)


def test_always_fails_every_attempt(monkeypatch, storage):
    monkeypatch.setenv("PIPELINE_FAULTS", "InferenceShard:always")
    for _ in range(3):
        with pytest.raises(InjectedFault, match=r"InferenceShard \(always"):
            inject_fault("InferenceShard", "week-1", storage)


def test_an_injected_fault_is_a_pipeline_error_the_door_reports_without_a_traceback():
    assert issubclass(InjectedFault, PipelineError)
