"""The cap on training rows: a class-stratified sample, weighted back, the same rows on every pass."""
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.model.row_cap import KeepRates, capped_batches, keep_rates


def test_under_the_cap_every_row_is_kept():
    assert keep_rates(churned=100, rows=1_000, max_rows=1_000).keeps_all


def test_over_the_cap_churners_come_first_and_the_retained_fill_the_rest():
    rates = keep_rates(churned=100, rows=10_000, max_rows=1_000)
    assert rates == KeepRates(churned=1.0, retained=900 / 9_900)
    many_churners = keep_rates(churned=8_000, rows=10_000, max_rows=1_000)
    assert many_churners == KeepRates(churned=500 / 8_000, retained=500 / 2_000)  # half the cap each


def test_the_sample_is_the_same_on_every_pass_and_weighs_back_to_all_rows(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for index in range(2):
        labels = (rng.random(20_000) < 0.1).astype("int64")
        path = tmp_path / f"week-{index}.parquet"
        pq.write_table(pa.table({"customer_id": [f"c{i}" for i in range(20_000)], "churned": labels,
                                 "sample_weight": np.full(20_000, 2.0)}), path)
        paths.append(str(path))
    rates = keep_rates(churned=4_000, rows=40_000, max_rows=8_000)

    def one_pass() -> tuple[list[str], float, int]:
        kept, weight, churners = [], 0.0, 0
        for rows, weights in capped_batches(paths, rates):
            kept += rows.column("customer_id").to_pylist()
            weight += weights.sum()
            churners += int(np.asarray(rows.column("churned")).sum())
        return kept, weight, churners

    first, weight, churners = one_pass()
    assert one_pass()[0] == first  # XGBoost's two passes, and a re-run, see the same rows
    assert len(first) == pytest.approx(8_000, rel=0.03) and churners == pytest.approx(4_000, abs=150)
    assert weight == pytest.approx(2.0 * 40_000, rel=0.03)  # weighted back to every row, weights included
