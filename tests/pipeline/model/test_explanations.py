"""The spot-check sample (a fixed ~1% of customers) and the top reasons of a score (TreeSHAP contributions)."""
import numpy as np
import pyarrow as pa
import pytest
import xgboost as xgb

from pipeline.model.explanations import REASONS, in_qa_sample, top_reasons

CUSTOMERS = [f"c{index:05d}" for index in range(10_000)]
FEATURES = ["tenure", "sessions", "noise"]


def test_about_one_customer_in_a_hundred_is_in_the_sample():
    sampled = in_qa_sample(pa.array(CUSTOMERS))
    assert sampled.dtype == bool and len(sampled) == len(CUSTOMERS)
    assert 70 <= sampled.sum() <= 130


def test_the_sample_is_the_same_customers_on_any_machine_and_any_week():
    # A CRC-32 of the id, not Python's salted hash(): these are in, on every machine, every week.
    assert in_qa_sample(pa.array(["c00319", "c00417", "c00527", "c00698", "c00787"])).all()
    assert not in_qa_sample(pa.array(["c00000", "c00001", "c00318"])).any()


def test_a_customers_membership_does_not_depend_on_the_rest_of_the_week():
    whole = in_qa_sample(pa.array(CUSTOMERS))
    chunked = in_qa_sample(pa.chunked_array([CUSTOMERS[:3000], CUSTOMERS[3000:]]))
    reversed_week = in_qa_sample(pa.array(CUSTOMERS[::-1]))[::-1]
    assert chunked.tolist() == whole.tolist() and reversed_week.tolist() == whole.tolist()


def test_a_non_string_id_is_sampled_by_its_text():
    assert in_qa_sample(pa.array([103, 104, 223])).tolist() == in_qa_sample(pa.array(["103", "104", "223"])).tolist()
    assert in_qa_sample(pa.array([103, 104, 223])).tolist() == [True, False, True]


def test_an_empty_week_has_an_empty_sample():
    assert in_qa_sample(pa.array([], pa.string())).tolist() == []


@pytest.fixture(scope="module")
def booster() -> xgb.Booster:
    """Churn rises with low tenure and low sessions; the third feature is noise."""
    rng = np.random.default_rng(11)
    features = rng.normal(size=(600, 3)).astype(np.float32)
    labels = ((features[:, 0] < 0) & (features[:, 1] < 0.5)).astype(int)
    return xgb.train({"objective": "binary:logistic", "seed": 1, "max_depth": 3, "nthread": 1}, xgb.DMatrix(
        features, label=labels, feature_names=FEATURES), 20)


def matrix(rows) -> xgb.DMatrix:
    return xgb.DMatrix(np.array(rows, dtype=np.float32).reshape(-1, len(FEATURES)), feature_names=FEATURES)


def test_reasons_are_the_features_that_raised_the_score_most_in_order(booster):
    rows = matrix([[-2.0, -2.0, 0.0], [-2.0, 2.0, 0.0], [2.0, 2.0, 0.0]])
    reasons = top_reasons(booster, rows, (0, 20))
    contributions = booster.predict(rows, pred_contribs=True, iteration_range=(0, 20))[:, :-1]

    assert len(reasons) == REASONS
    for row in range(3):
        raising = sorted(((value, name) for name, value in zip(FEATURES, contributions[row]) if value > 0),
                         reverse=True)
        named = [(value.to_pylist()[row], name.to_pylist()[row]) for name, value in reasons]
        expected = [(pytest.approx(float(value)), name) for value, name in raising]
        assert named[:len(raising)] == expected
        assert named[len(raising):] == [(None, None)] * (REASONS - len(raising))  # null past the raising ones
    first_names = reasons[0][0].to_pylist()
    assert first_names[0] in ("tenure", "sessions")  # low tenure and no sessions: the likeliest to churn
    assert reasons[0][1].to_pylist()[0] > 0


def test_a_customer_no_feature_raised_has_no_reason(booster):
    rows = matrix([[3.0, 3.0, 0.0]])
    contributions = booster.predict(rows, pred_contribs=True, iteration_range=(0, 20))[0, :-1]
    reasons = top_reasons(booster, rows, (0, 20))
    raised = int((contributions > 0).sum())
    assert [name.null_count for name, _ in reasons] == [0] * raised + [1] * (REASONS - raised)
    assert all(value.null_count == name.null_count for name, value in reasons)


def test_more_reasons_than_features_are_padded_with_nulls(booster):
    reasons = top_reasons(booster, matrix([[-2.0, -2.0, 0.0], [0.0, 0.0, 0.0]]), (0, 20), count=5)
    assert len(reasons) == 5
    for name, value in reasons[3:]:
        assert name.type == pa.string() and value.type == pa.float64()
        assert name.to_pylist() == [None, None] and value.to_pylist() == [None, None]


def test_the_reasons_use_only_the_rounds_asked_for(booster):
    rows = matrix([[-2.0, -2.0, 0.0]])
    first_round = top_reasons(booster, rows, (0, 1))[0][1].to_pylist()[0]
    every_round = top_reasons(booster, rows, (0, 20))[0][1].to_pylist()[0]
    assert first_round < every_round  # twenty trees push the log-odds further than one


def test_an_empty_matrix_gives_empty_columns(booster):
    reasons = top_reasons(booster, matrix(np.empty((0, 3))), (0, 20))
    assert len(reasons) == REASONS
    assert all(len(name) == 0 and len(value) == 0 for name, value in reasons)
