"""The synthetic panel lands through ingest's validation and leaves its true probabilities as reference scores."""
import datetime as dt

import pyarrow.parquet as pq
import pytest

from pipeline.core.errors import PipelineError
from pipeline.landing.ingest import ingest_file
from pipeline.warehouse.layout import reference_scores_key
from pipeline.warehouse.objects import write_json
from pipeline.warehouse.tables import table
from tools.synthetic.panel import land_synthetic_panel

FIRST = dt.date(2026, 1, 5)


def test_each_week_has_reference_scores_for_its_landing_and_horizon(services):
    land_synthetic_panel(services, 50, 3, seed=1, if_missing=False)
    landed = services.catalog.partitions(table("snapshots"))
    assert list(landed) == ["2026-01-05", "2026-01-12", "2026-01-19"]
    key = reference_scores_key(FIRST)
    metadata = pq.read_schema(services.storage.uri(key)).metadata
    assert services.storage.uri(metadata[b"snapshot_key"].decode()) == landed["2026-01-05"]
    assert metadata[b"churn_horizon_weeks"] == b"4"
    assert pq.read_table(services.storage.uri(key)).num_rows == 50


def test_weeks_you_ingested_are_kept_unless_forced(services, tmp_path):
    land_synthetic_panel(services, 50, 3, seed=1, if_missing=False)
    path = tmp_path / "mine.csv"
    path.write_text("customer_id,sessions_7d\nme,1\n")
    ingest_file(services, path, FIRST)
    with pytest.raises(PipelineError, match="1 ingested week.*2026-01-05.*pass --force"):
        land_synthetic_panel(services, 50, 3, seed=1, if_missing=False)
    assert "not generating synthetic data over your own" in land_synthetic_panel(services, 50, 3, seed=1,
                                                                                  if_missing=True)
    assert land_synthetic_panel(services, 50, 3, seed=1, if_missing=False, force=True).startswith("generated")


def test_a_panel_generated_before_reference_scores_is_generated_again(services):
    land_synthetic_panel(services, 50, 3, seed=1, if_missing=False)
    services.storage.delete_prefix("reference/")  # as an older version left it: its marker under raw/
    write_json(services.storage, "raw/synthetic_panel.json", {"customers": 50, "weeks": 3, "seed": 1})
    assert land_synthetic_panel(services, 50, 3, seed=1, if_missing=True).startswith("generated")
    assert services.storage.exists(reference_scores_key(FIRST)) and not services.storage.list_keys("raw/synthetic")
