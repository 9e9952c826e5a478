"""The repeat-purchase models marketers use, as yardsticks for the weekly model: BG/BB (bg_bb.py) and Pareto/NBD
(pareto_nbd.py), each fitted on the customers' weekly activity patterns alone (patterns.py; no label is used) and
scored on the question of the churn label, no activity in the horizon's weeks.

Training fits them on the holdout customers' patterns as of the validation week (athena_sql/training_set.sql
counts them from up to patterns.HISTORY_WEEKS of snapshots) and reports their AUC on the same rows and labels as
the model's holdout AUC (baselines.py): a team whose data is sparse purchases sees whether the pipeline beats the
textbook models. This package's __init__ imports nothing: PrepareData and Publish (Lambda, no scipy) read it.
"""

# Each model's AUC in model_metrics, and its name for people
AUC_METRICS = {"bg_bb_auc": "BG/BB", "pareto_nbd_auc": "Pareto/NBD"}
