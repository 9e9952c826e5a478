"""Champion and challenger: a week's new model (the challenger) scores the week only if its validation AUC is not
lower than the champion's on the same validation week by more than CHAMPION_AUC_TOLERANCE; otherwise the
champion scores it. Training decides and records the decision in the new model's metrics (so inference and
Publish read it from the model store); Publish moves the champion pointer to a promoted model after the week is
published, with a compare-and-swap, so a failed run never changes the champion and two runs never lose a move.

Only a champion of an earlier week is a fair opponent: one trained for a later week (a backfill running behind
the schedule) has seen this validation week's labels. The pointer never moves back to an older week.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass

from pipeline.execution.identity import Run
from pipeline.warehouse.layout import champion_key
from pipeline.warehouse.ports import Storage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Champion:
    model_version: str
    run_date: str  # the week it was trained for
    auc: float  # its validation AUC then


@dataclass(frozen=True)
class Decision:
    promoted: bool
    scored_with: str  # the model version that scores the week
    champion_version: str | None  # the champion it was compared with (None: no fair one)
    champion_auc: float | None  # that champion's AUC on this run's validation week

    def to_metrics(self) -> dict:
        return asdict(self)


def current(storage: Storage) -> tuple[Champion | None, bytes | None]:
    """The champion and the pointer's bytes (for the compare-and-swap), or (None, None)."""
    try:
        data = storage.read_bytes(champion_key())
    except FileNotFoundError:
        return None, None
    return Champion(**json.loads(data)), data


def opponent(storage: Storage, run: Run) -> Champion | None:
    champion, _ = current(storage)
    if champion is None or champion.run_date >= run.run_date.isoformat():
        return None
    return champion


def decide(run: Run, challenger_auc: float, champion: Champion | None, champion_auc: float | None,
           tolerance: float) -> Decision:
    if champion is None or champion_auc is None:
        return Decision(True, run.model_version, None, None)
    promoted = challenger_auc >= champion_auc - tolerance
    if not promoted:
        logger.warning("challenger %s (validation AUC %.4f) is worse than champion %s (%.4f) by more than %g: the "
                       "champion scores this week", run.model_version, challenger_auc, champion.model_version,
                       champion_auc, tolerance)
    return Decision(promoted, run.model_version if promoted else champion.model_version, champion.model_version,
                    champion_auc)


def crown(storage: Storage, run: Run, auc: float) -> bool:
    """Point the champion at the run's model (after its week is published); False if a newer week's champion
    stands. One retry when another run moved the pointer meanwhile."""
    new = json.dumps(asdict(Champion(run.model_version, run.run_date.isoformat(), auc))).encode()
    for _ in range(2):
        champion, data = current(storage)
        if champion is not None and champion.run_date > run.run_date.isoformat():
            return False
        written = storage.create_exclusive(champion_key(), new) if data is None else \
            storage.replace_if_unchanged(champion_key(), data, new)
        if written:
            return True
    logger.warning("the champion pointer kept changing under run %s: left as it is", run.execution_name)
    return False
