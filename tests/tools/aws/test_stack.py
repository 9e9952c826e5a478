"""The deployed stack as the tools see it: samconfig.toml's stack name and parameter overrides, and the settings
the environment lacks filled from the stack's outputs."""
from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.stub import Stubber

from pipeline.core.errors import ConfigError
from tools.aws import stack
from tools.aws.stack import fill_from_stack, parameter_overrides, stack_name

REGION = "eu-west-1"
MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:churn-pipeline"


@pytest.fixture
def samconfig(tmp_path):
    def write(text: str):
        path = tmp_path / "samconfig.toml"
        path.write_text(text)
        return path
    return write


def test_overrides_saved_as_one_string_are_split_like_a_shell_and_the_command_line_wins(samconfig):
    path = samconfig('[default.deploy.parameters]\n'
                     'parameter_overrides = "TrainingMemory=9000 AlertEmail=a@b.co Note=\\"two words\\""\n')

    overrides = parameter_overrides(["AlertEmail=ops@example.com", "ImageTag=v2"], path)

    assert overrides == {"TrainingMemory": "9000", "AlertEmail": "ops@example.com", "Note": "two words",
                         "ImageTag": "v2"}


def test_overrides_saved_as_a_list_are_read_too(samconfig):
    path = samconfig('[default.deploy.parameters]\nparameter_overrides = ["TrainingCpu=2048", "Url=a=b"]\n')
    assert parameter_overrides([], path) == {"TrainingCpu": "2048", "Url": "a=b"}  # split at the first "="


def test_without_a_samconfig_or_saved_overrides_only_the_command_line_counts(tmp_path, samconfig):
    assert parameter_overrides(["ImageTag=v2"], tmp_path / "absent.toml") == {"ImageTag": "v2"}
    assert parameter_overrides([], samconfig('[default.global.parameters]\nstack_name = "x"\n')) == {}


def test_an_override_that_is_not_key_value_is_refused(samconfig):
    with pytest.raises(ValueError, match="parameter override 'TrainingCpu' is not KEY=VALUE"):
        parameter_overrides(["TrainingCpu"], samconfig(""))


def test_the_stack_name_is_samconfigs(monkeypatch, samconfig):
    monkeypatch.setattr(stack, "SAMCONFIG_PATH", samconfig('[default.global.parameters]\nstack_name = "team-churn"\n'))
    assert stack_name() == "team-churn"


def cloudformation():
    return boto3.client("cloudformation", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")


def described(name: str, outputs: list[dict]) -> dict:
    return {"Stacks": [{"StackName": name, "Outputs": outputs, "CreationTime": dt.datetime(2026, 11, 1),
                        "StackStatus": "UPDATE_COMPLETE"}]}


def test_settings_the_environment_lacks_come_from_the_stacks_outputs():
    client = boto3.client("cloudformation", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    outputs = [{"OutputKey": "BucketName", "OutputValue": "from-stack"},
               {"OutputKey": "AthenaWorkGroupName", "OutputValue": "churn-pipeline-pipeline"},
               {"OutputKey": "StateMachineArn", "OutputValue": MACHINE}]
    environ = {"PIPELINE_BUCKET": "mine", "PIPELINE_STACK": "team-churn"}
    with Stubber(client) as stubber:
        stubber.add_response("describe_stacks", {"Stacks": [{"StackName": "team-churn", "Outputs": outputs,
                                                             "CreationTime": dt.datetime(2026, 11, 1),
                                                             "StackStatus": "UPDATE_COMPLETE"}]},
                             {"StackName": "team-churn"})
        fill_from_stack(client, ("PIPELINE_STATE_MACHINE_ARN",), environ)
        fill_from_stack(client, ("PIPELINE_BUCKET",), environ)  # all there now: no second call

    assert environ == {"PIPELINE_BUCKET": "mine", "PIPELINE_STACK": "team-churn", "PIPELINE_STATE_MACHINE_ARN": MACHINE,
                       "ATHENA_WORKGROUP": "churn-pipeline-pipeline"}


def test_without_pipeline_stack_the_outputs_are_those_of_samconfigs_stack(monkeypatch, samconfig):
    monkeypatch.setattr(stack, "SAMCONFIG_PATH", samconfig('[default.global.parameters]\nstack_name = "from-config"\n'))
    client, environ = cloudformation(), {}
    with Stubber(client) as stubber:
        stubber.add_response("describe_stacks", described("from-config", [
            {"OutputKey": "BucketName", "OutputValue": "bucket"}]), {"StackName": "from-config"})
        fill_from_stack(client, ("PIPELINE_BUCKET",), environ)
        stubber.assert_no_pending_responses()
    assert environ == {"PIPELINE_BUCKET": "bucket"}  # an output the stack lacks stays unset


def test_an_unreadable_stack_is_a_config_error_naming_it_and_what_to_set():
    client, environ = cloudformation(), {"PIPELINE_STACK": "gone", "PIPELINE_BUCKET": "mine"}
    with Stubber(client) as stubber:
        stubber.add_client_error("describe_stacks", "ValidationError", "Stack with id gone does not exist")
        with pytest.raises(ConfigError, match=r"cannot read the outputs of stack gone \(.*does not exist\).*set "
                                              r"ATHENA_WORKGROUP, PIPELINE_STATE_MACHINE_ARN, ASSISTANT_WORKGROUP$"):
            fill_from_stack(client, ("PIPELINE_STATE_MACHINE_ARN",), environ)
    assert environ == {"PIPELINE_STACK": "gone", "PIPELINE_BUCKET": "mine"}
