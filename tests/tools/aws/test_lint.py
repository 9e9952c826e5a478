"""`make validate` fails when the template or the definition is broken on purpose. (`make test` runs it on the shipped
files first; these break copies of them.) Each check runs its real tool, installed by `make validate`."""
from __future__ import annotations

import json

import pytest

from local_runtime.launcher import STATE_MACHINE_PATH
from tools.aws import lint
from tools.aws.stack import parameter_overrides
from tools.aws.template import TEMPLATE_PATH


@pytest.fixture
def template_copy(tmp_path):
    def copy(replace: str = "", by: str = ""):
        text = TEMPLATE_PATH.read_text()
        assert not replace or text.count(replace) == 1, replace
        path = tmp_path / "template.yaml"
        path.write_text(text.replace(replace, by) if replace else text)
        return path
    return copy


def test_a_dangling_next_fails_the_asl_check(tmp_path):
    definition = json.loads(STATE_MACHINE_PATH.read_text())
    definition["States"]["Cleanup"]["Next"] = "Nowhere"
    broken = tmp_path / "pipeline.asl.json"
    broken.write_text(json.dumps(definition))

    finding = lint.check_definitions([broken])

    assert not finding.passed
    assert "Nowhere" in finding.output and "PrepareData is not reachable" in finding.output
    assert lint.check_definitions([STATE_MACHINE_PATH]).passed


WILDCARD_WRITE = """              - Sid: WriteTheModelAndHoldTheWeek  # faults/: PIPELINE_FAULTS markers, only when fault injection is on
                Effect: Allow
                Action: s3:PutObject
"""


@pytest.mark.slow
def test_a_wildcard_resource_fails_checkov(template_copy):
    broken = template_copy(WILDCARD_WRITE, """              - Effect: Allow
                Action: [s3:PutObject]
                Resource: '*'
""" + WILDCARD_WRITE)
    finding = lint.check_checkov(broken)

    assert not finding.passed
    assert "FAILED for resource: AWS::IAM::Role.TrainingTaskRole" in finding.output


@pytest.mark.slow
def test_a_skip_without_a_reason_fails_checkov(template_copy):
    reason = "comment: 'It receives the access logs: logging its own writes would log each log delivery.'"
    broken = template_copy(reason, "comment: 'noisy'")

    finding = lint.check_checkov(broken)

    assert not finding.passed
    assert "AccessLogBucket: checkov skip CKV_AWS_18 needs a reason" in finding.output


@pytest.mark.parametrize("overrides, problem", [
    ({"TrainingCpu": "256"}, "Training: Fargate does not run 256 CPU units with 8192 MiB"),
    ({"InferenceMemory": "9000"}, "InferenceShard: Fargate does not run 1024 CPU units with 9000 MiB"),
    ({"TrainingCpus": "4096"}, "TrainingCpus: not a parameter of template.yaml"),
])
def test_an_invalid_override_fails_the_parameter_check(overrides, problem):
    finding = lint.check_parameters(TEMPLATE_PATH, overrides)

    assert not finding.passed
    assert problem in finding.output


def test_overrides_saved_in_samconfig_are_checked_too(tmp_path):
    samconfig = tmp_path / "samconfig.toml"
    samconfig.write_text('[default.deploy.parameters]\nparameter_overrides = "TrainingMemory=9000 AlertEmail=a@b.co"\n')

    overrides = parameter_overrides(["AlertEmail=ops@example.com"], samconfig)

    assert overrides == {"TrainingMemory": "9000", "AlertEmail": "ops@example.com"}  # the command line wins
    assert "with 9000 MiB" in lint.check_parameters(TEMPLATE_PATH, overrides).output


@pytest.mark.parametrize("overrides, problem", [
    ({"TrainingCpu": "3000"}, "TrainingCpu=3000: not one of 256, 512, 1024"),
    ({"ImageTag": "-bad tag"}, "ImageTag=-bad tag: does not match"),
    ({"TrainingWeeks": "0"}, "TrainingWeeks=0: outside 1.."),
    ({"RetentionWeeks": "eight"}, "RetentionWeeks=eight: not a number"),
])
def test_a_value_cloudformation_would_refuse_fails_the_parameter_check(overrides, problem):
    finding = lint.check_parameters(TEMPLATE_PATH, overrides)

    assert not finding.passed
    assert problem in finding.output


@pytest.mark.slow
def test_a_template_that_does_not_parse_is_named_not_a_traceback(template_copy):
    broken = template_copy("Conditions:\n", "Conditions: [\n")

    findings = {finding.check: finding for finding in lint.validate({}, broken, [STATE_MACHINE_PATH])}

    assert "is not valid YAML" in findings["parameters"].output
    assert not findings["cfn-lint"].passed and not findings["sam validate"].passed
    assert findings["asl-validator"].passed  # the definition itself is fine


@pytest.mark.slow
def test_main_exits_1_and_names_the_failed_check(capsys):
    assert lint.main(["--parameter", "TrainingCpu=256", "--definition", str(STATE_MACHINE_PATH)]) == 1

    out = capsys.readouterr().out
    assert "FAIL parameters" in out and "ok   asl-validator" in out
    assert out.rstrip().endswith("validate: 4 of 5 checks passed; failed: parameters")
