"""KeepFeatures (Lambda, after UnloadFeatures): keep the weeks of feature rows the UNLOAD computed in the execution's
work folder as partitions of engagement.features, each in a folder of its own, recorded, then cataloged (see
pipeline.warehouse.kept_features). The state machine skips both states when every week's rows are kept already."""
from __future__ import annotations

import logging

from pipeline.execution.identity import Run
from pipeline.execution.week_lock import hold_week
from pipeline.warehouse.kept_features import Sources, keep
from pipeline.warehouse.layout import features_prefix
from pipeline.warehouse.objects import newest_attempt
from pipeline.warehouse.ports import Services

logger = logging.getLogger(__name__)


def keep_features(services: Services, run: Run, weeks: dict[str, Sources]) -> dict:
    hold_week(services, run)
    unloaded = newest_attempt(services.storage, features_prefix(run))  # a redrive may resume here, past UNLOAD
    folders = keep(services, unloaded, run.execution_name, weeks)
    logger.info("kept the feature rows of %d week(s): %s", len(folders), ", ".join(sorted(folders)))
    return {"weeks_kept": sorted(folders)}
