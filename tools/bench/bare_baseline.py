"""The bare baseline of `make bench`: the weekly job's essential work, nothing else.

    python -m tools.bench.bare_baseline --home HOME --run-date YYYY-MM-DD --rounds N --out predictions.parquet

Reads the prepared training and scoring Parquet under HOME/warehouse/ (as PrepareData wrote them), builds the
same features, trains XGBoost with the pipeline's parameters for N rounds, scores and writes one Parquet file.
Deliberately naive: no early stopping, no checks, no catalog, no shards. The bench times it on the same data as
the pipeline run, so pipeline / baseline is what the pipeline's structure costs.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import xgboost as xgb

from local_runtime.container import resources_line
from local_runtime.folder_storage import FolderStorage
from pipeline.model.features import LABEL_COLUMN, TRAINING_PART_COLUMN, WEIGHT_COLUMN, feature_matrix, fit_feature_spec
from pipeline.model.fit import BOOSTER_PARAMS
from pipeline.model.holdout import HOLDOUT_PART
from pipeline.model.scorer import scoring_matrix
from pipeline.warehouse.layout import OfExecution, scoring_prefix, training_prefix
from pipeline.warehouse.objects import data_keys_by_partition, newest_attempt


def bare_run(warehouse: Path, execution: OfExecution, rounds: int, out: Path) -> dict:
    sets = FolderStorage(warehouse)  # the newest attempt's sets, as the pipeline's tasks read them
    parts = data_keys_by_partition(sets, newest_attempt(sets, training_prefix(execution)), TRAINING_PART_COLUMN)
    # the rows the pipeline fits on: every part but the holdout, which it only judges with
    training = pq.read_table([str(warehouse / key) for part, keys in parts.items() if part != HOLDOUT_PART
                              for key in keys], partitioning=None)
    weights = training.column(WEIGHT_COLUMN).to_numpy() if WEIGHT_COLUMN in training.schema.names else None
    spec = fit_feature_spec([training])
    matrix = xgb.DMatrix(feature_matrix(training, spec), label=training.column(LABEL_COLUMN).to_numpy(),
                         weight=weights, feature_names=spec.names, feature_types=spec.feature_types,
                         enable_categorical=True)
    booster = xgb.train({**BOOSTER_PARAMS, "nthread": os.cpu_count() or 1}, matrix, num_boost_round=rounds)
    scoring = pq.read_table(warehouse / newest_attempt(sets, scoring_prefix(execution)))
    probability = booster.predict(scoring_matrix(scoring, spec))
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"customer_id": scoring.column("customer_id"), "churn_probability": probability}), out)
    return {"rows_trained": training.num_rows, "rows_scored": scoring.num_rows, "rounds": rounds,
            "features": spec.names}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.bare_baseline", description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="the data directory (PIPELINE_HOME) to read")
    parser.add_argument("--run-date", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--execution", required=True, help="the execution whose prepared sets to read")
    parser.add_argument("--rounds", type=int, required=True, help="boosting rounds (the published model's)")
    parser.add_argument("--out", type=Path, required=True, help="the predictions Parquet file to write")
    args = parser.parse_args(argv)
    execution = SimpleNamespace(run_date=args.run_date, execution_name=args.execution)
    print(json.dumps(bare_run(args.home / "warehouse", execution, args.rounds, args.out)))
    print(resources_line())  # its peak memory, as the pipeline's tasks report theirs


if __name__ == "__main__":
    main()
