"""Land a seeded synthetic panel through the same validation as `ingest`, with its true churn probabilities.

The generator knows each row's true probability; it leaves them as the week's reference scores (with the
landing they describe and the horizon they answer), and training reports their AUC on the validation week as
`bayes_auc`: the AUC of scores that know each customer's latent state, an upper bound for any model of the
snapshots (tools/research/observable_ceiling.py measures how close one can get).
"""
from __future__ import annotations

import pyarrow as pa

from pipeline.core.errors import PipelineError
from pipeline.landing.contract_checks import validate_snapshot
from pipeline.landing.ingest import land_snapshot
from pipeline.warehouse.layout import is_managed_folder, reference_scores_key
from pipeline.warehouse.objects import read_json, write_json, write_parquet
from pipeline.warehouse.ports import Services
from pipeline.warehouse.publication import withdraw
from pipeline.warehouse.retirement import retire
from pipeline.warehouse.tables import table
from tools.synthetic.generator import SyntheticSnapshot, generate_panel

PANEL_KEY = "reference/synthetic_panel.json"  # what was generated, and where each week landed
REFERENCE_PREFIX = "reference/"
# A panel generated before reference scores existed (its weeks count as generated, and are generated again).
LEGACY_PANEL_KEYS = ("raw/synthetic_panel.json", "raw/synthetic_truth/")


def land_synthetic_panel(services: Services, customers: int, weeks: int, seed: int, *, if_missing: bool,
                         force: bool = False, progress=None) -> str:
    """Generate a seeded panel and land it; return what happened.

    With if_missing, an already-landed panel of the same size is kept. Weeks a user ingested are never
    replaced without `force`.
    """
    horizon = services.settings.churn_horizon_weeks
    wanted = {"customers": customers, "weeks": weeks, "seed": seed, "churn_horizon_weeks": horizon}
    existing = services.catalog.partitions(table("snapshots"))
    panel = read_json(services.storage, PANEL_KEY) if services.storage.exists(PANEL_KEY) else {}
    generated = dict(existing) if services.storage.exists(LEGACY_PANEL_KEYS[0]) else panel.get("landed", {})
    ingested = [week for week, location in existing.items() if generated.get(week) != location]
    if ingested and not force:
        if if_missing:
            return f"kept {len(existing)} landed week(s); not generating synthetic data over your own"
        raise PipelineError(f"{len(ingested)} ingested week(s) ({ingested[0]} … {ingested[-1]}) would be deleted; "
                            "pass --force to replace them with synthetic data")
    if if_missing and existing and panel.get("panel") == wanted:
        return f"kept the synthetic panel already landed ({customers:,} customers x {weeks} weeks)"
    _drop_all_snapshots(services, existing)
    landed = {}
    for snapshot in generate_panel(customers, weeks, seed, churn_horizon_weeks=horizon):
        landed[snapshot.snapshot_date.isoformat()] = _land_week(services, snapshot, horizon)
        if progress:
            progress(snapshot.snapshot_date)
    write_json(services.storage, PANEL_KEY, {"panel": wanted, "landed": landed})
    return f"generated {customers:,} customers x {weeks} weeks (seed {seed})"


def _land_week(services: Services, snapshot: SyntheticSnapshot, churn_horizon_weeks: int) -> str:
    validated, _ = validate_snapshot(snapshot.customers, f"synthetic week {snapshot.snapshot_date}")
    location = land_snapshot(services, validated, snapshot.snapshot_date)
    scores = pa.table({"customer_id": snapshot.truth["customer_id"].astype(str),
                       "churn_probability": snapshot.truth["true_churn_probability"]})
    # The true probability depends on the horizon and on this very landing: say both, so a run with another
    # horizon, or over a week ingested since, reports no Bayes AUC rather than a wrong one.
    write_parquet(services.storage, reference_scores_key(snapshot.snapshot_date), scores.replace_schema_metadata(
        {"snapshot_key": services.storage.key_of(location), "churn_horizon_weeks": str(churn_horizon_weeks)}))
    return location


def _drop_all_snapshots(services: Services, existing: dict[str, str]) -> None:
    snapshots = table("snapshots")
    for value, location in existing.items():
        services.catalog.drop_partition(snapshots, value)
        withdraw(services.storage, "snapshots", value)
        if is_managed_folder(services.storage.key_of(location)):  # retired, not deleted: a reader may be on it
            retire(services.storage, services.storage.key_of(location), "snapshots", value,
                   "replaced by a new synthetic panel")
    for prefix in (REFERENCE_PREFIX, *LEGACY_PANEL_KEYS):
        services.storage.delete_prefix(prefix)
