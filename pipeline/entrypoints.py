"""What every Lambda handler and container entrypoint shares: reading its inputs and reporting failure."""
from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Callable

from pipeline.errors import PipelineError

FAILURE_MARKER = "PIPELINE_ERROR "


def required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise PipelineError(f"environment variable {name} is required (set by the state machine's container overrides)")
    return value


def run_container_main(main: Callable[[], dict]) -> int:
    """Run a container's work; print its result as JSON, or one machine-readable failure line and exit non-zero.

    The failure line lets the launcher (and a human reading CloudWatch) see the typed error, not only an exit code.
    """
    try:
        result = main()
    except PipelineError as error:
        print(FAILURE_MARKER + json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}),
              file=sys.stderr, flush=True)
        return 2
    except Exception as error:  # an unexpected bug: keep the traceback for whoever debugs it
        traceback.print_exc()
        print(FAILURE_MARKER + json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}),
              file=sys.stderr, flush=True)
        return 1
    print(json.dumps(result, default=str), flush=True)
    return 0
