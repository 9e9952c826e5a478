"""XGBoost is imported without scikit-learn's estimators (pipeline.model.lean_xgboost), so an Inference task does
not load scikit-learn, which stays importable for what uses it."""
from __future__ import annotations

import ast
import subprocess
import sys

from pipeline.core.settings import REPO_ROOT

INFERENCE_THEN_SKLEARN = """
import sys
import numpy as np
from pipeline.stages.inference import score_shard
from pipeline.model.lean_xgboost import xgb
assert "sklearn" not in sys.modules, sorted(name for name in sys.modules if name.startswith("sklearn"))
values = np.arange(200, dtype=np.float32).reshape(-1, 1)
labels = (values[:, 0] >= 100).astype(int)
booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(values, label=labels), 5)
from sklearn.metrics import roc_auc_score
print(roc_auc_score(labels, booster.predict(xgb.DMatrix(values))))
"""


def test_the_inference_stage_loads_no_scikit_learn_and_it_stays_importable():
    done = subprocess.run([sys.executable, "-c", INFERENCE_THEN_SKLEARN], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) == 1.0


def test_no_pipeline_module_imports_xgboost_but_the_lean_one():
    importers = set()
    for path in (REPO_ROOT / "pipeline").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name.split(".")[0] == "xgboost" for name in names):
                importers.add(path.relative_to(REPO_ROOT).as_posix())
    assert importers == set()  # lean_xgboost imports it by name, through importlib
