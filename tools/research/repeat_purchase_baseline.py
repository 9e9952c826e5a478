"""The repeat-purchase models marketers use, on the landed weeks: the AUC a model to beat reaches on your data.

    python -m tools.research.repeat_purchase_baseline --week YYYY-MM-DD [--churn-horizon-weeks 4]

BG/BB and Pareto/NBD (pipeline/model/repeat_purchase/), fitted on every customer of the week, from each one's
weekly activity (sessions_7d > 0) in all the landed weeks up to it (no label is used), and scored against the
pipeline's churn label. Training reports the same models on the holdout customers only (model_metrics'
bg_bb_auc and pareto_nbd_auc); this tool scores a whole week, any week whose horizon is landed. A customer's clock
starts at their first landed row: weeks before it are not in the warehouse.
"""
from __future__ import annotations

import argparse
import datetime as dt

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from pipeline.model.repeat_purchase.baselines import baseline_aucs
from pipeline.warehouse.objects import read_parquet
from pipeline.warehouse.ports import Services
from pipeline.warehouse.tables import table


def weekly_activity(services: Services, last_week: dt.date) -> pd.DataFrame:
    """customers x landed weeks up to last_week: sessions_7d > 0, NaN where the customer has no row."""
    columns = {}
    for week, location in sorted(services.catalog.partitions(table("snapshots")).items()):
        if dt.date.fromisoformat(week) <= last_week:
            rows = read_parquet(services.storage, services.storage.key_of(location),
                                columns=["customer_id", "sessions_7d"])
            columns[week] = pd.Series(pc.greater(rows.column("sessions_7d"), 0).to_numpy(zero_copy_only=False),
                                      index=rows.column("customer_id").to_numpy(zero_copy_only=False))
    return pd.DataFrame(columns)


def activity_pattern(active: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`active`: customers x weeks of True/False/NaN (NaN before a customer's first row). Each customer's (x active
    weeks after the first, t_x the last of them, n weeks after the first): week 0 of a customer is their first row,
    counted as the start (BG/BB's transaction at time 0), and a missing row after it is a quiet week."""
    seen = active.notna().to_numpy()
    first = seen.argmax(axis=1)
    weeks = active.to_numpy(dtype=float, na_value=0.0) > 0
    offsets = np.arange(weeks.shape[1])[None, :] - first[:, None]
    after_first = weeks & (offsets > 0)
    x = after_first.sum(axis=1)
    t_x = np.where(x > 0, np.where(after_first, offsets, 0).max(axis=1), 0)
    return x, t_x, weeks.shape[1] - 1 - first


def baseline_auc(services: Services, week: dt.date, churn_horizon_weeks: int) -> dict:
    """BG/BB's and Pareto/NBD's AUC on `week` against the churn label, each fitted on the landed weeks up to it."""
    later = weekly_activity(services, week + dt.timedelta(weeks=churn_horizon_weeks))
    history = later.loc[:, :week.isoformat()]
    if later.shape[1] - history.shape[1] < churn_horizon_weeks:
        raise SystemExit(f"the {churn_horizon_weeks} weeks after {week} are not all landed: no label to score")
    customers = history.index[history[week.isoformat()].notna()]
    active_later = later.loc[customers].iloc[:, history.shape[1]:].fillna(False).astype(bool).any(axis=1)
    return {"week": week.isoformat(), "customers": len(customers),
            **baseline_aucs(*activity_pattern(history.loc[customers]), ~active_later.to_numpy(),
                            churn_horizon_weeks)}


def main(argv: list[str] | None = None) -> None:
    from local_runtime.host import local_services  # the tool reads a local warehouse (PIPELINE_HOME)

    parser = argparse.ArgumentParser(prog="python -m tools.research.repeat_purchase_baseline",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--week", type=dt.date.fromisoformat, required=True, help="the week to score")
    parser.add_argument("--churn-horizon-weeks", type=int, default=4)
    args = parser.parse_args(argv)
    print(baseline_auc(local_services(), args.week, args.churn_horizon_weeks))


if __name__ == "__main__":
    main()
