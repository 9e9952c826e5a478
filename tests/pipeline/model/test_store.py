import pyarrow as pa
import pytest

from pipeline.core.errors import ModelStoreError, PipelineError
from pipeline.model.features import FeatureSpec
from pipeline.model.store import METRICS_FILE, ModelStore, StoredModel
from pipeline.warehouse.layout import model_prefix

MODEL = StoredModel("20260302-abc", b"\x00ubj", FeatureSpec(["sessions_7d"], {"plan": ["basic", "free"]}),
                    {"max_depth": 6}, {"auc": 0.87, "best_iteration": 9})
VALIDATION = pa.table({"customer_id": ["a", "b"], "churned": [1, 0], "churn_probability": [0.8, 0.1]})


def test_a_saved_version_loads_back_whole(services):
    store = ModelStore(services.storage)
    store.save(MODEL, VALIDATION)
    assert store.load(MODEL.version) == MODEL
    assert store.metrics(MODEL.version) == {"auc": 0.87, "best_iteration": 9}
    assert store.validation_scores(MODEL.version).equals(VALIDATION)


def test_a_version_without_metrics_is_incomplete_and_refused(services):
    store = ModelStore(services.storage)
    store.save(MODEL, VALIDATION)
    services.storage.delete_prefix(f"{model_prefix(MODEL.version)}{METRICS_FILE}")  # training died before the end
    with pytest.raises(PipelineError, match="model version 20260302-abc is not in the model store at .*"
                                            "or its training did not finish"):
        store.load(MODEL.version)


def test_an_unknown_version_names_itself(services):
    with pytest.raises(PipelineError, match="model version nope is not in the model store"):
        ModelStore(services.storage).metrics("nope")


@pytest.mark.parametrize("file, damage", [("features.json", b'{"numeric": ['), ("params.json", b"not json"),
                                          ("model.ubj", None)])
def test_a_damaged_or_missing_artifact_is_named_with_the_way_out(services, file, damage):
    store = ModelStore(services.storage)
    store.save(MODEL, VALIDATION)
    key = f"{model_prefix(MODEL.version)}{file}"
    if damage is None:
        services.storage.delete_prefix(key)
    else:
        services.storage.write_bytes(key, damage)
    with pytest.raises(ModelStoreError, match=f"model version 20260302-abc: .*{file} is damaged .*"
                                              "run the week again to train a new model"):
        store.load(MODEL.version)
