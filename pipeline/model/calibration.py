"""A week's map from the booster's probability to a calibrated one, as stored with the model and applied by
inference (numpy only: the Lambda image reads models without scikit-learn). Chosen by pipeline.model.quality."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

EPSILON = 1e-7


@dataclass(frozen=True)
class Calibration:
    """A map from the booster's probability to a calibrated one: none, platt (a, b on the log-odds) or isotonic
    (the fitted step function's knots)."""
    method: str = "none"
    platt: tuple[float, float] = (1.0, 0.0)
    knots_x: list[float] = field(default_factory=list)
    knots_y: list[float] = field(default_factory=list)

    def apply(self, probability: np.ndarray) -> np.ndarray:
        if self.method == "platt":
            slope, intercept = self.platt
            return 1 / (1 + np.exp(-(slope * log_odds(probability) + intercept)))
        if self.method == "isotonic":
            return np.interp(probability, self.knots_x, self.knots_y)
        return probability

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, document: dict | None) -> "Calibration":
        document = document or {}
        return cls(document.get("method", "none"), tuple(document.get("platt", (1.0, 0.0))),
                   list(document.get("knots_x", [])), list(document.get("knots_y", [])))


def log_odds(probability: np.ndarray) -> np.ndarray:
    clipped = np.clip(probability, EPSILON, 1 - EPSILON)
    return np.log(clipped / (1 - clipped))
