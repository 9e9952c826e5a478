"""template.yaml as data: the short intrinsic tags, the parameters' deployed values and the size of each state's
Fargate task and Lambda function."""
import pytest

from tools.aws.template import (
    FARGATE_MEMORY_MIB,
    TaskSize,
    configured_lambda_memory_mib,
    configured_task_sizes,
    load_template,
    smallest_fargate_size,
)


def test_task_sizes_are_the_templates_defaults_and_valid_on_fargate():
    template = load_template()
    sizes, parameters = configured_task_sizes(template), template["Parameters"]
    assert sizes["Training"] == TaskSize(int(parameters["TrainingCpu"]["Default"]),
                                         parameters["TrainingMemory"]["Default"],
                                         parameters["EphemeralStorageGiB"]["Default"])
    assert sizes["InferenceShard"].memory_mib == parameters["InferenceMemory"]["Default"]
    for size in sizes.values():
        assert size.memory_mib in FARGATE_MEMORY_MIB[size.cpu_units]
    assert set(configured_lambda_memory_mib(template)) == {"Cleanup", "PrepareData", "KeepFeatures", "Publish"}


@pytest.mark.parametrize("needed, preferred_cpu, expected", [
    (5000, 1024, (1024, 5120)),  # the next 1 GB step of the preferred CPU
    (9000, 1024, (2048, 9216)),  # past 1 vCPU's 8 GB: the smallest CPU that allows it
    (3000, 4096, (4096, 8192)),  # the preferred CPU's smallest memory, even if more than needed
    (200_000, 4096, None),  # larger than any Fargate task
])
def test_smallest_fargate_size(needed, preferred_cpu, expected):
    assert smallest_fargate_size(needed, preferred_cpu) == expected



SMALL_TEMPLATE = """\
Parameters:
  TrainingCpu: {Type: String, Default: "4096"}
  TrainingMemory: {Type: Number, Default: 16384}
Globals:
  Function:
    MemorySize: 256
Resources:
  TrainingTaskDefinition:
    Properties:
      Cpu: !Ref TrainingCpu
      Memory: !Ref TrainingMemory
      EphemeralStorage:
        SizeInGiB: 50
      TaskRoleArn: !GetAtt TrainingTaskRole.Arn
      Family: !Sub "${AWS::StackName}-training"
  InferenceTaskDefinition:
    Properties:
      Cpu: 1024
      Memory: 4096
      ContainerDefinitions: [{Image: !Join [":", [repo, !Ref TrainingCpu]]}]
  CleanupFunction:
    Properties: {MemorySize: 1024}
  PrepareDataFunction:
    Properties: {MemorySize: 2048}
  KeepFeaturesFunction:
    Properties: {MemorySize: 512}
  PublishFunction:
    Properties: {}
"""


@pytest.fixture
def small_template(tmp_path) -> dict:
    path = tmp_path / "template.yaml"
    path.write_text(SMALL_TEMPLATE)
    return load_template(path)


def test_short_intrinsic_tags_read_as_their_long_form(small_template):
    training = small_template["Resources"]["TrainingTaskDefinition"]["Properties"]
    assert training["Cpu"] == {"Ref": "TrainingCpu"}
    assert training["TaskRoleArn"] == {"Fn::GetAtt": ["TrainingTaskRole", "Arn"]}
    assert training["Family"] == {"Fn::Sub": "${AWS::StackName}-training"}
    image = small_template["Resources"]["InferenceTaskDefinition"]["Properties"]["ContainerDefinitions"][0]["Image"]
    assert image == {"Fn::Join": [":", ["repo", {"Ref": "TrainingCpu"}]]}


def test_task_sizes_resolve_parameters_to_their_defaults_or_the_deploys_overrides(small_template):
    assert configured_task_sizes(small_template) == {"Training": TaskSize(4096, 16384, 50),
                                                     "InferenceShard": TaskSize(1024, 4096, 20)}  # 20 GB: the default
    overridden = configured_task_sizes(small_template, {"TrainingCpu": "2048", "TrainingMemory": "8192"})
    assert overridden["Training"] == TaskSize(2048, 8192, 50)


def test_a_function_without_its_own_memory_size_has_the_globals(small_template):
    assert configured_lambda_memory_mib(small_template) == {"Cleanup": 1024, "PrepareData": 2048, "KeepFeatures": 512,
                                                            "Publish": 256}
    del small_template["Globals"]
    assert configured_lambda_memory_mib(small_template)["Publish"] == 128  # Lambda's own default


def test_a_task_size_is_read_in_vcpu_and_gb():
    size = TaskSize(512, 3072)
    assert (size.vcpu, size.memory_gb, size.ephemeral_gb) == (0.5, 3.0, 20)
    assert size.label() == "0.5 vCPU, 3 GB" and TaskSize(4096, 16384).label() == "4 vCPU, 16 GB"


def test_a_preferred_cpu_fargate_does_not_have_falls_back_to_one_it_has():
    assert smallest_fargate_size(1000, 3000) == (4096, 8192)  # 3000 units is no Fargate size: the next larger one
