"""XGBoost without its scikit-learn estimators: every pipeline module imports XGBoost from here.

`import xgboost` imports scikit-learn, when it is installed, to build XGBClassifier and its kin, which the pipeline
never uses (it calls xgboost.train on its own matrices). In the one task image scikit-learn is installed, for
Training's calibration and metrics, so each Inference task paid for it at start-up: importing the inference stage
took 2.0 s and 206 MB, and takes 0.65 s and 109 MB without it (this 2-core machine). Training, which calibrates
and measures with scikit-learn, loads it anyway.

A None in sys.modules is Python's documented way to make an import raise ImportError; xgboost.compat catches it and
leaves its estimators out. The entry is removed at once, so scikit-learn stays importable. When scikit-learn or
XGBoost is loaded already (a test session, a notebook), XGBoost is imported as it is.
"""
from __future__ import annotations

import importlib
import sys
from types import ModuleType


def _xgboost_without_estimators() -> ModuleType:
    if "sklearn" in sys.modules or "xgboost" in sys.modules:
        return importlib.import_module("xgboost")
    sys.modules["sklearn"] = None  # type: ignore[assignment]
    try:
        return importlib.import_module("xgboost")
    finally:
        del sys.modules["sklearn"]


xgb = _xgboost_without_estimators()
