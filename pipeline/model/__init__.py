"""The model: features, the booster's fit, the scorer, calibration, quality metrics, champion and challenger,
drift, explanations, the model store and the reference (true-state) scores."""
