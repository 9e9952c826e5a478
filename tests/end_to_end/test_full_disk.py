"""A run on a full disk, as a user sees it: one clear last line, no `--- Logging error ---` tracebacks."""
import errno

from local_runtime.folder_storage import FolderStorage
from tests.conftest import week
from tools.cli.app import main
from tools.synthetic.panel import land_synthetic_panel


def test_a_run_on_a_full_disk_ends_with_one_line_that_says_so(services, monkeypatch, capsys):
    land_synthetic_panel(services, 300, 9, seed=5, if_missing=False)

    write_bytes = FolderStorage.write_bytes

    def full_past_cleanup(storage, key, data):  # the run's records still fit, its work files no more
        if key.startswith("work/"):
            raise OSError(errno.ENOSPC, "No space left on device", storage.uri(key))
        write_bytes(storage, key, data)

    monkeypatch.setattr(FolderStorage, "write_bytes", full_past_cleanup)
    monkeypatch.setattr("logging.FileHandler._open", lambda handler: open("/dev/full", "w"))  # the run's log files
    assert main(["run", "--run-date", week(9).isoformat()]) == 1  # a failed run
    err = capsys.readouterr().err
    assert "--- Logging error ---" not in err and "Traceback" not in err
    assert "run failed in PrepareData after" in err
    assert "DiskFullError: the disk is full (No space left on device writing" in " ".join(err.split())
