"""The deployed stack as the tools see it: its name and parameter overrides (samconfig.toml, which `make deploy`
writes with) and its outputs (bucket, workgroup, state machine), read in one place."""
from __future__ import annotations

import os
import shlex
import tomllib
from pathlib import Path

from pipeline.core.errors import ConfigError
from pipeline.core.settings import REPO_ROOT

SAMCONFIG_PATH = REPO_ROOT / "samconfig.toml"
STACK_OUTPUTS = {"PIPELINE_BUCKET": "BucketName", "ATHENA_WORKGROUP": "AthenaWorkGroupName",
                 "PIPELINE_STATE_MACHINE_ARN": "StateMachineArn", "ASSISTANT_WORKGROUP": "AssistantWorkGroupName"}


def parameter_overrides(extra: list[str] = (), samconfig: Path | None = None) -> dict[str, str]:
    """The values `sam deploy` would pass: samconfig.toml's parameter_overrides, then `extra` (KEY=VALUE)."""
    samconfig = samconfig or SAMCONFIG_PATH
    config = tomllib.loads(samconfig.read_text()) if samconfig.exists() else {}
    saved = config.get("default", {}).get("deploy", {}).get("parameters", {}).get("parameter_overrides", [])
    pairs = shlex.split(saved) if isinstance(saved, str) else list(saved)
    overrides = {}
    for pair in [*pairs, *extra]:
        key, separator, value = pair.partition("=")
        if not separator:
            raise ValueError(f"parameter override {pair!r} is not KEY=VALUE")
        overrides[key] = value
    return overrides


def stack_name() -> str:
    """The stack `make deploy` creates: samconfig.toml's stack_name."""
    config = tomllib.loads(SAMCONFIG_PATH.read_text())
    return config["default"]["global"]["parameters"]["stack_name"]


def stack_outputs(cloudformation, stack: str) -> dict[str, str]:
    """The deployed stack's outputs (botocore's ClientError if the stack cannot be read)."""
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}


def fill_from_stack(cloudformation, needed: tuple[str, ...], environ=os.environ) -> None:
    """When a `needed` variable is unset: bucket, workgroup and state machine from the deployed stack's outputs
    ($PIPELINE_STACK, else the stack `make deploy` creates), for each the environment does not name."""
    if all(environ.get(variable) for variable in needed):
        return
    missing = [variable for variable in STACK_OUTPUTS if not environ.get(variable)]
    stack = environ.get("PIPELINE_STACK") or stack_name()
    try:
        outputs = stack_outputs(cloudformation, stack)
    except cloudformation.exceptions.ClientError as error:
        raise ConfigError(f"cannot read the outputs of stack {stack} ({error}); deploy it (`make deploy`), set "
                          f"PIPELINE_STACK to its name, or set {', '.join(missing)}") from None
    for variable in missing:
        if STACK_OUTPUTS[variable] in outputs:
            environ[variable] = outputs[STACK_OUTPUTS[variable]]
