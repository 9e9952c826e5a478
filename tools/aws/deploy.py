"""`make deploy`: the stack and its Fargate image, in one command, tagged with the git commit.

    1. refuse uncommitted changes (the tag must name what was built), then `make validate`'s checks with the
       deploy's parameter values, every parameter without a default given
    2. `sam build` (the one Lambda image)
    3. the Fargate image (containers/Dockerfile) built and pushed as <TaskImageRepositoryUri>:<commit>, unless that
       tag is already there (tags are immutable)
    4. `sam deploy` with ImageTag=<commit> and the other parameter values

An update pushes the image before deploying, so the task definitions never name a tag that is not there yet; the
first deploy creates the repository, so it pushes right after. Parameter values: samconfig.toml's
parameter_overrides (`sam deploy --guided` saves them there), then PARAMETERS="Key=Value ..." of `make deploy`.
"""
from __future__ import annotations

import argparse
import base64
import shlex
import subprocess
import sys
from dataclasses import dataclass
from typing import Callable

from pipeline.core.settings import REPO_ROOT
from tools.aws import lint
from tools.aws.stack import parameter_overrides, stack_name, stack_outputs
from tools.aws.template import load_template

IMAGE_REPOSITORY_OUTPUT = "TaskImageRepositoryUri"
TAG_LENGTH = 12


class DeployError(Exception):
    pass


@dataclass(frozen=True)
class Step:
    name: str
    command: list[str]
    stdin: str | None = None  # a secret goes here, never into the command line


def commit_tag(git: Callable[..., str]) -> str:
    """The commit to tag the image with; refused while tracked files differ from it."""
    if git("status", "--porcelain", "--untracked-files=no").strip():
        raise DeployError("uncommitted changes: commit them first, so the image tag names what was built")
    return git("rev-parse", f"--short={TAG_LENGTH}", "HEAD").strip()


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout


def missing_parameters(overrides: dict[str, str]) -> list[str]:
    parameters = load_template(lint.TEMPLATE_PATH)["Parameters"]
    return sorted(name for name, spec in parameters.items() if "Default" not in spec and name not in overrides)


def image_steps(repository_uri: str, tag: str, registry_password: str) -> list[Step]:
    image = f"{repository_uri}:{tag}"
    registry = repository_uri.split("/", 1)[0]
    return [Step("docker login", ["docker", "login", "--username", "AWS", "--password-stdin", registry],
                 stdin=registry_password),
            Step("build the Fargate image", ["docker", "build", "--platform", "linux/amd64", "-f",
                                             "containers/Dockerfile", "-t", image, "."]),
            Step("push the Fargate image", ["docker", "push", image])]


def sam_deploy_step(stack: str, overrides: dict[str, str]) -> Step:
    values = [f"{key}={value}" for key, value in overrides.items()]
    return Step("sam deploy", ["sam", "deploy", "--stack-name", stack, "--parameter-overrides", *values])


class Aws:
    """What the deploy asks of AWS: the stack's outputs, whether a tag is pushed, a registry password."""

    def __init__(self, session) -> None:
        self.cloudformation = session.client("cloudformation")
        self.ecr = session.client("ecr")

    def stack_outputs(self, stack: str) -> dict[str, str] | None:
        """None before the first deploy."""
        try:
            return stack_outputs(self.cloudformation, stack)
        except self.cloudformation.exceptions.ClientError as error:
            if "does not exist" in str(error):
                return None
            raise

    def image_exists(self, repository_uri: str, tag: str) -> bool:
        name = repository_uri.split("/", 1)[1]
        try:
            self.ecr.describe_images(repositoryName=name, imageIds=[{"imageTag": tag}])
        except self.ecr.exceptions.ImageNotFoundException:
            return False
        return True

    def registry_password(self) -> str:
        token = self.ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        return base64.b64decode(token).decode().split(":", 1)[1]


def push_image(aws: Aws, stack: str, tag: str, run: Callable[[Step], None]) -> None:
    repository_uri = aws.stack_outputs(stack)[IMAGE_REPOSITORY_OUTPUT]
    if aws.image_exists(repository_uri, tag):
        print(f"{repository_uri}:{tag} is already pushed")
        return
    for step in image_steps(repository_uri, tag, aws.registry_password()):
        run(step)


def deploy(aws: Aws, tag: str, extra: list[str], run: Callable[[Step], None]) -> None:
    overrides = parameter_overrides(extra=extra) | {"ImageTag": tag}
    if missing := missing_parameters(overrides):
        raise DeployError(f"parameters without a default need a value: {', '.join(missing)}; give them as "
                          f"PARAMETERS=\"{' '.join(name + '=...' for name in missing)}\" or save them once with "
                          "`sam deploy --guided`")
    failed = [finding for finding in lint.validate(overrides) if not finding.passed]
    if failed:
        raise DeployError("validation failed (" + ", ".join(f.check for f in failed) + "): run `make validate "
                          "PARAMETERS=...` to see why")
    stack = stack_name()
    run(Step("sam build", ["sam", "build"]))
    first_deploy = aws.stack_outputs(stack) is None
    if not first_deploy:
        push_image(aws, stack, tag, run)
    run(sam_deploy_step(stack, overrides))
    if first_deploy:
        push_image(aws, stack, tag, run)
    print(f"deployed {stack} with image tag {tag}")


def run_step(step: Step) -> None:
    print(f"-- {step.name}: {shlex.join(step.command)}", flush=True)
    if subprocess.run(step.command, cwd=REPO_ROOT, input=step.stdin, text=True).returncode:
        raise DeployError(f"{step.name} failed; the stack and the images are as the last successful step left them")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.aws.deploy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    import boto3  # only a deploy needs credentials

    try:
        deploy(Aws(boto3.session.Session()), commit_tag(_git), args.parameter, run_step)
    except (DeployError, ValueError) as error:
        print(f"deploy: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
