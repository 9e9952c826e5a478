"""`make validate`: template.yaml and the state machine definitions checked before anything reaches AWS.

Five checks; each prints what it found and the run fails if any does:
  cfn-lint       the template against CloudFormation's resource specifications
  sam validate   the SAM transform, then cfn-lint on the transformed template (--lint)
  asl-validator  every statemachine/*.asl.json against the Amazon States Language (a dangling Next, a bad path...)
  checkov        security rules; a rule may be skipped only in the resource's Metadata, with the reason beside it
  parameters     the deploy's values (template defaults, samconfig.toml's parameter_overrides, then --parameter):
                 every name is a template parameter, every value one it allows (AllowedValues, AllowedPattern,
                 MinValue, MaxValue), and each Fargate task gets a CPU/memory pair Fargate accepts

The tools live in their own environments (`make validate` installs them from tools/aws/validators/): the SAM CLI and
checkov each pin boto3 exactly, at versions the project cannot share.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.core.settings import REPO_ROOT
from tools.aws.stack import parameter_overrides
from tools.aws.template import FARGATE_MEMORY_MIB, TEMPLATE_PATH, configured_task_sizes, load_template

DEFINITIONS = sorted((REPO_ROOT / "statemachine").glob("*.asl.json"))
VALIDATORS = REPO_ROOT / ".venv" / "validators"
TOOLS = {"cfn-lint": Path(sys.executable).with_name("cfn-lint"),
         "sam": VALIDATORS / "sam" / "bin" / "sam",
         "checkov": VALIDATORS / "checkov" / "bin" / "checkov",
         "asl-validator": REPO_ROOT / "tools" / "aws" / "validators" / "node_modules" / ".bin" / "asl-validator"}
MIN_SKIP_REASON = 20  # characters: "false positive" alone does not say why
# Offline and quiet: no telemetry, no calls home (the checks run in CI with no network but package registries).
TOOL_ENVIRONMENT = {"SAM_CLI_TELEMETRY": "0", "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
                    "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}


@dataclass(frozen=True)
class Finding:
    check: str
    passed: bool
    output: str


def check_parameters(template_path: Path, overrides: dict[str, str]) -> Finding:
    try:
        template = load_template(template_path)
    except yaml.YAMLError as error:
        return Finding("parameters", False, f"{template_path} is not valid YAML: {error}")
    problems = [problem for name, value in overrides.items()
                for problem in _value_problems(name, template["Parameters"].get(name), value, template_path.name)]
    if problems:  # sizes are read only from values CloudFormation would take
        return Finding("parameters", False, "\n".join(problems))
    for state, size in configured_task_sizes(template, overrides).items():
        allowed = FARGATE_MEMORY_MIB.get(size.cpu_units)
        if allowed is None:
            problems.append(f"{state}: Fargate has no CPU size {size.cpu_units} (one of {sorted(FARGATE_MEMORY_MIB)})")
        elif size.memory_mib not in allowed:
            problems.append(f"{state}: Fargate does not run {size.cpu_units} CPU units with {size.memory_mib} MiB "
                            f"(it allows {_memory_choices(allowed)})")
    return Finding("parameters", not problems, "\n".join(problems) or f"{len(overrides)} override(s); sizes valid")


def _memory_choices(allowed: tuple[int, ...]) -> str:
    steps = {later - earlier for earlier, later in zip(allowed, allowed[1:])}
    if len(steps) == 1 and len(allowed) > 3:
        return f"{allowed[0]}-{allowed[-1]} MiB in steps of {steps.pop()}"
    return ", ".join(map(str, allowed)) + " MiB"


def _value_problems(name: str, spec: dict | None, value: str, template_name: str) -> list[str]:
    """What CloudFormation would refuse in a parameter value, said before the deploy rather than by a rollback.
    (cfn-lint checks values only on templates without the SAM transform.)"""
    if spec is None:
        return [f"{name}: not a parameter of {template_name}"]
    problems = []
    if "AllowedValues" in spec and value not in map(str, spec["AllowedValues"]):
        problems.append(f"{name}={value}: not one of {', '.join(map(str, spec['AllowedValues']))}")
    if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
        problems.append(f"{name}={value}: does not match {spec['AllowedPattern']}")
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            return [*problems, f"{name}={value}: not a number"]
        if number < spec.get("MinValue", number) or number > spec.get("MaxValue", number):
            problems.append(f"{name}={value}: outside {spec.get('MinValue', '')}..{spec.get('MaxValue', '')}")
    return problems


def check_skip_reasons(template_path: Path) -> list[str]:
    """Every checkov skip in a resource's Metadata, with a reason long enough to say why."""
    try:
        resources = load_template(template_path)["Resources"]
    except yaml.YAMLError:
        return []  # check_parameters names the error
    problems = []
    for name, resource in resources.items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            if len(str(skip.get("comment", "")).strip()) < MIN_SKIP_REASON:
                problems.append(f"{name}: checkov skip {skip.get('id')} needs a reason (comment) of its own")
    return problems


def _run(check: str, command: list[str]) -> Finding:
    tool = Path(command[0])
    if not tool.exists():
        return Finding(check, False, f"{tool} is not installed: run `make validate` (it installs the validators)")
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT,
                          env=os.environ | TOOL_ENVIRONMENT)
    return Finding(check, done.returncode == 0, (done.stdout + done.stderr).strip())


def check_cfn_lint(template_path: Path) -> Finding:
    return _run("cfn-lint", [str(TOOLS["cfn-lint"]), str(template_path)])


def check_sam(template_path: Path) -> Finding:
    return _run("sam validate", [str(TOOLS["sam"]), "validate", "--lint", "--template-file", str(template_path)])


def check_definitions(definitions: list[Path]) -> Finding:
    paths = [argument for path in definitions for argument in ("--json-path", str(path))]
    return _run("asl-validator", [str(TOOLS["asl-validator"]), *paths])


def check_checkov(template_path: Path) -> Finding:
    finding = _run("checkov", [str(TOOLS["checkov"]), "--file", str(template_path), "--framework", "cloudformation",
                               "--compact", "--quiet", "--skip-download"])
    problems = check_skip_reasons(template_path)
    return Finding("checkov", finding.passed and not problems, "\n".join([finding.output, *problems]).strip())


def validate(overrides: dict[str, str], template_path: Path = TEMPLATE_PATH,
             definitions: list[Path] = DEFINITIONS) -> list[Finding]:
    return [check_parameters(template_path, overrides), check_cfn_lint(template_path),
            check_sam(template_path), check_definitions(definitions), check_checkov(template_path)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.aws.lint", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--template", type=Path, default=TEMPLATE_PATH)
    parser.add_argument("--definition", type=Path, action="append", help="default: statemachine/*.asl.json")
    parser.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE",
                        help="a deploy parameter override, after samconfig.toml's")
    args = parser.parse_args(argv)
    findings = validate(parameter_overrides(extra=args.parameter), args.template, args.definition or DEFINITIONS)
    for finding in findings:
        print(f"{'ok  ' if finding.passed else 'FAIL'} {finding.check}")
        if not finding.passed:
            print("     " + finding.output.replace("\n", "\n     "))
    failed = [finding.check for finding in findings if not finding.passed]
    print(f"validate: {len(findings) - len(failed)} of {len(findings)} checks passed"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
