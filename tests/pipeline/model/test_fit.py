"""The booster's feed: the training rows given to XGBoost batch by batch as binned matrices."""
import datetime as dt
import functools

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.model import row_cap
from pipeline.model.features import fit_feature_spec
from pipeline.model.fit import binned_matrix
from pipeline.warehouse.objects import parquet_batches

WEEK = dt.date(2026, 2, 2)


def weeks_back(*offsets: int) -> list[dt.date]:
    return [WEEK - dt.timedelta(weeks=offset) for offset in offsets]


def write_week_files(tmp_path, weeks: dict[dt.date, pa.Table]) -> dict[dt.date, list[str]]:
    files = {}
    for week, rows in weeks.items():
        path = tmp_path / f"{week}.parquet"
        pq.write_table(rows, path, row_group_size=3)
        files[week] = [str(path)]
    return files


def test_the_binned_matrix_holds_the_chosen_weeks_rows_with_their_weights(tmp_path, monkeypatch):
    def week_rows(sessions: list[int], weight: float) -> pa.Table:
        return pa.table({"customer_id": [f"c{value}" for value in sessions], "sessions_7d": sessions,
                         "plan": ["free", "gold"] * (len(sessions) // 2), "churned": [value % 2 for value in sessions],
                         "sample_weight": [weight] * len(sessions)})

    files = write_week_files(tmp_path, {weeks_back(1)[0]: week_rows([0, 1, 2, 3, 4, 5, 6, 7], 2.0),
                                        WEEK: week_rows([8, 9], 1.0)})
    spec = fit_feature_spec(parquet_batches([*files[weeks_back(1)[0]], *files[WEEK]]))
    monkeypatch.setattr(row_cap, "parquet_batches", functools.partial(parquet_batches, batch_rows=3))
    fitted = binned_matrix(files[weeks_back(1)[0]], spec)  # fed in three batches
    assert fitted.num_row() == 8 and fitted.get_weight().tolist() == [2.0] * 8
    assert fitted.get_label().tolist() == [0, 1] * 4
    validated = binned_matrix(files[WEEK], spec, bins_of=fitted)
    assert validated.num_row() == 2 and validated.feature_names == spec.names == ["sessions_7d", "plan"]
