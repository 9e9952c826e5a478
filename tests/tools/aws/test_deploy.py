"""`make deploy`: the image tagged with the commit, pushed before an update and right after a first deploy, the
parameters checked before anything is built. ECR is moto; the stack's outputs are a dict (moto's CloudFormation
needs the whole of moto installed); `sam` and `docker` are recorded, not run (no Docker engine here)."""
from __future__ import annotations

import json

import boto3
import pytest

from tools.aws import deploy, lint

TAG = "0123456789ab"
STACK = "churn-pipeline"
NETWORK = ["VpcId=vpc-1", "VpcSubnetIdA=subnet-a", "VpcSubnetIdB=subnet-b"]


class Account(deploy.Aws):
    """moto's ECR; the stacks `sam deploy` created, as their outputs."""

    def __init__(self, session) -> None:
        super().__init__(session)
        self.stacks: dict[str, dict[str, str]] = {}

    def stack_outputs(self, stack: str) -> dict[str, str] | None:
        return self.stacks.get(stack)


@pytest.fixture
def aws_account(mocked_aws):
    repository = boto3.client("ecr").create_repository(repositoryName="pipeline-tasks")["repository"]
    return Account(boto3.session.Session()), repository["repositoryUri"]


@pytest.fixture
def passing_validation(monkeypatch):
    checked = []
    monkeypatch.setattr(lint, "validate",
                        lambda overrides: checked.append(overrides) or [lint.Finding("all", True, "")])
    return checked


def create_stack(aws: Account, repository_uri: str) -> None:
    """What `sam deploy` leaves behind, as far as the deploy reads it: the stack and its image repository output."""
    aws.stacks[STACK] = {deploy.IMAGE_REPOSITORY_OUTPUT: repository_uri}


def recorder(on_sam_deploy=lambda: None):
    steps = []

    def run(step: deploy.Step) -> None:
        steps.append(step)
        if step.name == "sam deploy":
            on_sam_deploy()
    return steps, run


def test_a_first_deploy_creates_the_stack_then_pushes_the_commits_image(aws_account, passing_validation):
    aws, repository_uri = aws_account
    steps, run = recorder(on_sam_deploy=lambda: create_stack(aws, repository_uri))

    deploy.deploy(aws, TAG, NETWORK, run)

    assert [step.name for step in steps] == ["sam build", "sam deploy", "docker login", "build the Fargate image",
                                             "push the Fargate image"]
    assert f"{repository_uri}:{TAG}" in steps[3].command and steps[4].command == ["docker", "push",
                                                                                   f"{repository_uri}:{TAG}"]
    assert "ImageTag=" + TAG in steps[1].command and "VpcId=vpc-1" in steps[1].command
    assert passing_validation[0]["ImageTag"] == TAG  # the values deployed are the values validated


def test_an_update_pushes_before_deploying_so_no_task_names_a_missing_tag(aws_account, passing_validation):
    aws, repository_uri = aws_account
    create_stack(aws, repository_uri)
    steps, run = recorder()

    deploy.deploy(aws, TAG, NETWORK, run)

    assert [step.name for step in steps] == ["sam build", "docker login", "build the Fargate image",
                                             "push the Fargate image", "sam deploy"]


def test_the_registry_password_goes_to_stdin_not_the_command_line(aws_account, passing_validation):
    aws, repository_uri = aws_account
    create_stack(aws, repository_uri)
    steps, run = recorder()

    deploy.deploy(aws, TAG, NETWORK, run)

    login = next(step for step in steps if step.name == "docker login")
    assert "--password-stdin" in login.command and login.stdin and login.stdin not in " ".join(login.command)


def test_a_tag_already_pushed_is_not_built_again(aws_account, passing_validation):
    aws, repository_uri = aws_account
    create_stack(aws, repository_uri)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {"digest": "sha256:" + "0" * 64}, "layers": []})
    boto3.client("ecr").put_image(repositoryName="pipeline-tasks", imageManifest=manifest, imageTag=TAG)
    steps, run = recorder()

    deploy.deploy(aws, TAG, NETWORK, run)

    assert [step.name for step in steps] == ["sam build", "sam deploy"]


def test_missing_network_parameters_are_named_before_anything_runs(aws_account, passing_validation):
    aws, _ = aws_account
    steps, run = recorder()

    with pytest.raises(deploy.DeployError, match="need a value: VpcId, VpcSubnetIdA, VpcSubnetIdB"):
        deploy.deploy(aws, TAG, [], run)
    assert steps == [] and passing_validation == []


@pytest.mark.slow
def test_an_invalid_fargate_size_stops_the_deploy_before_the_build(aws_account):
    aws, _ = aws_account
    steps, run = recorder()

    with pytest.raises(deploy.DeployError, match=r"validation failed \(parameters\)"):
        deploy.deploy(aws, TAG, [*NETWORK, "TrainingCpu=256"], run)
    assert steps == []


def fake_git(status: str):
    answers = {"status": status, "rev-parse": TAG + "\n"}
    return lambda command, *args: answers[command]


def test_the_tag_is_the_commit():
    assert deploy.commit_tag(fake_git(status="")) == TAG


def test_uncommitted_changes_are_refused():
    with pytest.raises(deploy.DeployError, match="uncommitted changes"):
        deploy.commit_tag(fake_git(status=" M template.yaml\n"))
