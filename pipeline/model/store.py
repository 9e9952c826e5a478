"""Versioned model artifacts, and the only code that knows their keys.

A version holds the fitted model (XGBoost's UBJSON bytes), the feature spec it was fitted on, its training
parameters, the calibration of its probabilities, its validation scores and its metrics. `metrics.json` is written
last: a version whose metrics exist is complete, so a training task killed half-way never leaves a model that
inference would load.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar

import pyarrow as pa

from pipeline.core.errors import ModelStoreError
from pipeline.model.calibration import Calibration
from pipeline.model.features import FeatureSpec
from pipeline.warehouse.layout import model_prefix
from pipeline.warehouse.objects import read_json, read_parquet, write_json, write_parquet
from pipeline.warehouse.ports import Storage

MODEL_FILE = "model.ubj"
FEATURES_FILE = "features.json"
PARAMS_FILE = "params.json"
VALIDATION_FILE = "validation.parquet"
METRICS_FILE = "metrics.json"
CALIBRATION_FILE = "calibration.json"
T = TypeVar("T")


@dataclass(frozen=True)
class StoredModel:
    version: str
    model: bytes
    features: FeatureSpec
    params: dict
    metrics: dict
    calibration: Calibration = Calibration()  # versions stored before calibration existed have none


class ModelStore:
    def __init__(self, storage: Storage):
        self.storage = storage

    def save(self, model: StoredModel, validation_scores: pa.Table) -> None:
        prefix = model_prefix(model.version)
        self.storage.write_bytes(f"{prefix}{MODEL_FILE}", model.model)
        write_json(self.storage, f"{prefix}{FEATURES_FILE}", model.features.to_dict())
        write_json(self.storage, f"{prefix}{PARAMS_FILE}", model.params)
        write_json(self.storage, f"{prefix}{CALIBRATION_FILE}", model.calibration.to_dict())
        write_parquet(self.storage, f"{prefix}{VALIDATION_FILE}", validation_scores)
        write_json(self.storage, f"{prefix}{METRICS_FILE}", model.metrics)

    def metrics(self, version: str) -> dict:
        self._require_complete(version)
        return self._read(version, METRICS_FILE, lambda key: read_json(self.storage, key))

    def load(self, version: str) -> StoredModel:
        metrics = self.metrics(version)
        return StoredModel(
            version=version, model=self._read(version, MODEL_FILE, self.storage.read_bytes),
            features=self._read(version, FEATURES_FILE,
                                lambda key: FeatureSpec.from_dict(read_json(self.storage, key))),
            params=self._read(version, PARAMS_FILE, lambda key: read_json(self.storage, key)), metrics=metrics,
            calibration=self._calibration(version))

    def _calibration(self, version: str) -> Calibration:
        key = f"{model_prefix(version)}{CALIBRATION_FILE}"
        if not self.storage.exists(key):
            return Calibration()
        return self._read(version, CALIBRATION_FILE, lambda key: Calibration.from_dict(read_json(self.storage, key)))

    def damaged(self, version: str, file: str, reason: object) -> ModelStoreError:
        return ModelStoreError(f"model version {version}: {self.storage.uri(model_prefix(version) + file)} is "
                               f"damaged ({reason}); run the week again to train a new model")

    def _read(self, version: str, file: str, reader: Callable[[str], T]) -> T:
        try:
            return reader(f"{model_prefix(version)}{file}")
        except FileNotFoundError:
            raise self.damaged(version, file, "missing") from None
        except (ValueError, KeyError, TypeError) as error:  # truncated or edited JSON
            raise self.damaged(version, file, error) from None

    def validation_scores(self, version: str) -> pa.Table:
        """customer_id, churned and churn_probability of the validation week, as the evaluation model scored it."""
        self._require_complete(version)
        return read_parquet(self.storage, f"{model_prefix(version)}{VALIDATION_FILE}")

    def _require_complete(self, version: str) -> None:
        if not self.storage.exists(f"{model_prefix(version)}{METRICS_FILE}"):
            raise ModelStoreError(f"model version {version} is not in the model store at "
                                f"{self.storage.uri(model_prefix(version))} (or its training did not finish)")
