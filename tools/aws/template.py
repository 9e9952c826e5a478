"""template.yaml as data: CloudFormation's short intrinsic tags read, the parameters' deployed values resolved, and
the size the template gives each state's Fargate task and Lambda function (for `make validate`'s parameter check
and the bench's cost and projection)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipeline.core.settings import REPO_ROOT

TEMPLATE_PATH = REPO_ROOT / "template.yaml"
# ASL state -> the template resource that runs it.
TASK_DEFINITIONS = {"Training": "TrainingTaskDefinition", "InferenceShard": "InferenceTaskDefinition"}
LAMBDA_FUNCTIONS = {"Cleanup": "CleanupFunction", "PrepareData": "PrepareDataFunction",
                    "KeepFeatures": "KeepFeaturesFunction", "Publish": "PublishFunction"}
CPU_UNITS_PER_VCPU = 1024
MIB_PER_GB = 1024  # Fargate and Lambda sizes are MiB; their "GB" prices are per GiB
FARGATE_DEFAULT_EPHEMERAL_GB = 20
# Valid Fargate task sizes (Linux): CPU units -> the memory (MiB) each allows.
FARGATE_MEMORY_MIB = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}


@dataclass(frozen=True)
class TaskSize:
    cpu_units: int
    memory_mib: int
    ephemeral_gb: int = FARGATE_DEFAULT_EPHEMERAL_GB

    @property
    def vcpu(self) -> float:
        return self.cpu_units / CPU_UNITS_PER_VCPU

    @property
    def memory_gb(self) -> float:
        return self.memory_mib / MIB_PER_GB

    def label(self) -> str:
        return f"{self.vcpu:g} vCPU, {self.memory_gb:g} GB"


class _CloudFormationLoader(yaml.SafeLoader):
    """Reads the short intrinsic tags (!Ref, !Sub, !GetAtt…) as their long form, {"Ref": …} or {"Fn::Sub": …}."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)  # !GetAtt Resource.Attribute is ["Resource", "Attribute"] in long form
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE_PATH) -> dict:
    return yaml.load(Path(path).read_text(), Loader=_CloudFormationLoader)


def _resolved(template: dict, value: Any, overrides: dict[str, str] | None = None) -> Any:
    """A property's value as deployed: `!Ref Parameter` -> its override, else its Default."""
    if isinstance(value, dict) and "Ref" in value:
        return (overrides or {}).get(value["Ref"], template["Parameters"][value["Ref"]]["Default"])
    return value


def parameter_default(template: dict, name: str) -> Any:
    """A stack parameter's value as deployed without overrides."""
    return _resolved(template, {"Ref": name})


def configured_task_sizes(template: dict, overrides: dict[str, str] | None = None) -> dict[str, TaskSize]:
    """ASL state -> the Fargate size its task definition gives it, with the deploy's parameter overrides."""
    sizes = {}
    for state, resource in TASK_DEFINITIONS.items():
        properties = template["Resources"][resource]["Properties"]
        ephemeral = properties.get("EphemeralStorage", {}).get("SizeInGiB", FARGATE_DEFAULT_EPHEMERAL_GB)
        sizes[state] = TaskSize(*(int(_resolved(template, value, overrides))
                                  for value in (properties["Cpu"], properties["Memory"], ephemeral)))
    return sizes


def configured_lambda_memory_mib(template: dict) -> dict[str, int]:
    """ASL state -> MemorySize of its function (the Globals' MemorySize when the function sets none)."""
    default = template.get("Globals", {}).get("Function", {}).get("MemorySize", 128)
    return {state: int(_resolved(template, template["Resources"][resource]["Properties"].get("MemorySize", default)))
            for state, resource in LAMBDA_FUNCTIONS.items()}


def smallest_fargate_size(needed_mib: float, preferred_cpu_units: int) -> tuple[int, int] | None:
    """(CPU units, memory MiB): the smallest valid memory >= needed_mib, with the preferred CPU if it allows that
    much, else with the smallest CPU that does; None if no Fargate task is that large."""
    candidates = [preferred_cpu_units] + sorted(cpu for cpu in FARGATE_MEMORY_MIB if cpu > preferred_cpu_units)
    for cpu in candidates:
        fitting = [memory for memory in FARGATE_MEMORY_MIB.get(cpu, ()) if memory >= needed_mib]
        if fitting:
            return cpu, min(fitting)
    return None
