"""The local data directory is checked once, at the edge, with a message that says what to change."""
import pytest

from local_runtime.host import check_data_directory
from pipeline.core.errors import ConfigError


def test_a_file_in_place_of_the_data_directory_is_refused(tmp_path):
    home = tmp_path / "home"
    home.write_text("")
    with pytest.raises(ConfigError, match=f"PIPELINE_HOME={home} is a file, not a directory"):
        check_data_directory(home)


def test_a_read_only_place_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("os.access", lambda path, mode: False)  # root may write anywhere; say it may not
    with pytest.raises(ConfigError, match=f"PIPELINE_HOME={tmp_path / 'new'} is not writable \\({tmp_path} is"):
        check_data_directory(tmp_path / "new")


def test_a_new_folder_under_a_writable_one_is_fine(tmp_path):
    check_data_directory(tmp_path / "new" / "deeper")
