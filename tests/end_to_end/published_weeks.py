"""What the end-to-end fault tests compare before and after a fault: the published weeks' files, byte for byte."""
import datetime as dt
import hashlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from local_runtime.host import install_local_host
from pipeline.edge.host import install_host
from tests.conftest import week
from tools.cli.app import main
from tools.synthetic.panel import land_synthetic_panel

from pipeline.warehouse.layout import champion_key
from pipeline.warehouse.tables import table


def published_files(services) -> dict[str, str]:
    """SHA-256 of every result and model file; not the champion pointer, which a later week's run may move."""
    keys = [key for prefix in ("results/", "models/") for key in services.storage.list_keys(prefix)
            if key != champion_key()]
    return {key: hashlib.sha256(services.storage.read_bytes(key)).hexdigest() for key in keys}


def unchanged(before: dict[str, str], services) -> bool:
    """Every file published before is still there with the same bytes (a later run may add its own)."""
    after = published_files(services)
    return {key: after.get(key) for key in before} == before


def landed_file(services, week: dt.date, path: Path, keep_share: float = 1.0) -> Path:
    """The week's landed snapshot as a Parquet file a user could ingest, its first `keep_share` of rows only."""
    landed = pq.read_table(services.catalog.partitions(table("snapshots"))[week.isoformat()])
    pq.write_table(landed.slice(0, int(landed.num_rows * keep_share)), path)
    return path


def published_panel(home: Path, customers: int, weeks: int, seed: int, run_weeks: tuple[int, ...]) -> Path:
    """A data directory with a landed synthetic panel and the given weeks run, made once for a module's tests (each
    copies it into its own fresh directory)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIPELINE_HOME", str(home))
        patch.delenv("PIPELINE_RUNTIME", raising=False)
        patch.delenv("CHURN_HORIZON_WEEKS", raising=False)
        land_synthetic_panel(install_local_host(), customers, weeks, seed=seed, if_missing=False)
        for index in run_weeks:
            assert main(["run", "--run-date", week(index).isoformat()]) == 0
    install_host(None)
    return home
