"""The SAM template (template.yaml) agrees with the code it deploys: the state machine, the handlers, the containers
and the Glue tables. Fast and offline: no network, no Docker, no AWS account (moto stands in for Step Functions).
"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from local_runtime.launcher import (
    EXECUTION_ENDED_HANDLER,
    LAMBDA_FUNCTIONS,
    STATE_MACHINE_PATH,
    TASK_FAMILIES,
    local_substitutions,
)
from pipeline.core.settings import DATABASE, REPO_ROOT, load_settings
from pipeline.execution.identity import ExecutionInput
from pipeline.warehouse.tables import GLUE_DIR, table_definitions
from tests.deploy.test_images import SHIPPED_WINGS
from tools.aws.template import FARGATE_MEMORY_MIB, load_template  # shared with the cost estimate

TEMPLATE_PATH = REPO_ROOT / "template.yaml"
ECS_RUN_TASK_SYNC = "arn:aws:states:::ecs:runTask.sync"
PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
# What pipeline.core.settings reads: Lambdas all of it; tasks get the rest of their run in RUN.
LAMBDA_ENVIRONMENT = {"PIPELINE_BUCKET", "ATHENA_WORKGROUP", "PIPELINE_NAME", "CHURN_HORIZON_WEEKS",
                      "INFERENCE_ROWS_PER_SHARD", "WEEKLY_SHRINK_LIMIT", "WEEKLY_GROWTH_LIMIT", "RETENTION_WEEKS",
                      "TRAINING_WEEKS", "OLDER_WEEKS_SAMPLE_RATE", "RETAINED_SAMPLE_RATE", "SERVING_TABLE"}
TASK_ENVIRONMENT = {"PIPELINE_BUCKET", "ATHENA_WORKGROUP", "PIPELINE_NAME", "SERVING_TABLE"}

# ---------------------------------------------------------------------------------------------- loading


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template(TEMPLATE_PATH)


@pytest.fixture(scope="module")
def resources(template) -> dict:
    return template["Resources"]


@pytest.fixture(scope="module")
def asl_text() -> str:
    return STATE_MACHINE_PATH.read_text()


@pytest.fixture(scope="module")
def state_machine(resources) -> dict:
    return resources["PipelineStateMachine"]["Properties"]


def of_type(resources: dict, type_: str) -> dict[str, dict]:
    return {name: resource for name, resource in resources.items() if resource["Type"] == type_}


def referenced(resources: dict, value) -> dict:
    """The resource a {"Ref": name} or {"Fn::GetAtt": [name, attribute]} points at."""
    name = value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0]
    return resources[name]


def walk(node):
    """Every dict inside a JSON-like document."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def ecs_tasks(asl: dict) -> list[dict]:
    return [state for state in walk(asl) if state.get("Resource") == ECS_RUN_TASK_SYNC]


def policy_statements(policies: list) -> list[dict]:
    return [statement for policy in policies if isinstance(policy, dict) and "Statement" in policy
            for statement in policy["Statement"]]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------------------------------------- state machine


def test_definition_substitutions_cover_every_asl_placeholder(state_machine, asl_text):
    placeholders = set(PLACEHOLDER.findall(asl_text))
    assert placeholders, "the ASL has no ${...} placeholders: has its format changed?"
    assert set(state_machine["DefinitionSubstitutions"]) == placeholders


def test_local_substitutions_cover_the_same_keys(state_machine, asl_text):
    assert set(local_substitutions()) == set(PLACEHOLDER.findall(asl_text))
    assert set(local_substitutions()) == set(state_machine["DefinitionSubstitutions"])


def test_state_machine_resource(state_machine):
    assert state_machine["Type"] == "STANDARD"
    assert REPO_ROOT / state_machine["DefinitionUri"] == STATE_MACHINE_PATH
    assert state_machine["Logging"]["Destinations"], "execution logging is not configured"


def test_lambda_substitutions_point_at_the_launchers_handlers(resources, state_machine):
    """Each ${...FunctionArn} is the function whose image command is the handler the local launcher calls."""
    substitutions = state_machine["DefinitionSubstitutions"]
    for key, name in LAMBDA_FUNCTIONS.items():
        function = referenced(resources, substitutions[key])
        assert function["Type"] == "AWS::Serverless::Function"
        assert function["Properties"]["ImageConfig"]["Command"] == [f"lambdas.{name}.app.handler"]
        assert (REPO_ROOT / "lambdas" / name / "app.py").is_file()


def test_lambda_functions_are_images_of_one_dockerfile(template, resources):
    functions = of_type(resources, "AWS::Serverless::Function")
    # and RecordFailure, which EventBridge calls, the API's and the assistant's
    assert len(functions) == len(LAMBDA_FUNCTIONS) + 3
    stages = re.findall(r"^FROM \S+ AS (\S+)$", (REPO_ROOT / "lambdas" / "Dockerfile").read_text(), re.MULTILINE)
    for name, function in functions.items():
        assert function["Properties"]["PackageType"] == "Image", name
        assert function["Metadata"]["Dockerfile"] == "lambdas/Dockerfile", name
        assert function["Metadata"]["DockerContext"] == ".", name
        # The API's image adds XGBoost; the others build the last stage, without it
        assert function["Metadata"].get("DockerBuildTarget", stages[-1]) == ("api" if name == "ApiFunction" else
                                                                            stages[-1]), name
    assert "api" in stages
    assert functions["PrepareDataFunction"]["Properties"]["Timeout"] < 900  # the UNLOADs wait in PrepareSets
    environment = template["Globals"]["Function"]["Environment"]["Variables"]
    assert set(environment) == LAMBDA_ENVIRONMENT
    assert environment["PIPELINE_BUCKET"] == {"Ref": "DataBucket"}
    # With the parameters' defaults stood in, the functions' environment is a valid configuration.
    defaults = {name: str(parameter.get("Default", "")) for name, parameter in template["Parameters"].items()}
    settings = load_settings({key: defaults.get(value["Ref"], "stand-in") for key, value in environment.items()})
    assert (settings.churn_horizon_weeks, settings.rows_per_shard) == (4, 250_000)
    assert (settings.weekly_shrink_limit, settings.weekly_growth_limit, settings.retention_weeks) == (0.5, 2.0, 8)


def test_the_api_is_one_function_behind_a_rest_api_that_requires_a_key_and_throttles_it(resources):
    function = resources["ApiFunction"]["Properties"]
    assert function["ImageConfig"]["Command"] == ["lambdas.api.app.handler"]
    (event,) = function["Events"].values()
    assert event["Type"] == "Api" and event["Properties"]["RestApiId"] == {"Ref": "ServingApi"}
    assert (event["Properties"]["Path"], event["Properties"]["Method"]) == ("/{proxy+}", "ANY")
    api = resources["ServingApi"]["Properties"]
    assert api["Auth"]["ApiKeyRequired"] and api["AccessLogSetting"]["DestinationArn"]
    plan = resources["ApiUsagePlan"]["Properties"]
    assert plan["Throttle"] == {"RateLimit": {"Ref": "ApiRateLimit"}, "BurstLimit": {"Ref": "ApiBurstLimit"}}
    assert plan["Quota"]["Limit"] == {"Ref": "ApiQuotaPerDay"}
    assert resources["ApiUsagePlanKey"]["Properties"]["KeyId"] == {"Ref": "ApiKey"}
    actions = {action for policy in function["Policies"] for statement in policy["Statement"]
               for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])}
    # reads the scores, caches what-if answers, reads the served model: nothing else
    assert actions == {"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "kms:Decrypt", "kms:Encrypt",
                       "kms:GenerateDataKey", "s3:ListBucket", "s3:GetObject"}


def test_a_failed_execution_is_recorded_by_eventbridge_not_by_a_state(resources, asl_text):
    """No Catch leads to a final Fail state, so the failing state is where RedriveExecution resumes."""
    assert not [state for state in walk(json.loads(asl_text)) if "Catch" in state]
    function = resources["RecordFailureFunction"]["Properties"]
    assert function["ImageConfig"]["Command"] == [f"lambdas.{EXECUTION_ENDED_HANDLER}.app.handler"]
    (event,) = function["Events"].values()
    assert event["Type"] == "EventBridgeRule"
    assert event["Properties"]["Pattern"] == {
        "source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"status": ["FAILED", "TIMED_OUT", "ABORTED"], "stateMachineArn": [{"Ref": "PipelineStateMachine"}]}}


def test_task_substitutions_point_at_the_launchers_families(resources, state_machine):
    substitutions = state_machine["DefinitionSubstitutions"]
    for key, family in TASK_FAMILIES.items():
        task_definition = referenced(resources, substitutions[key])["Properties"]
        assert task_definition["Family"] == family
        assert (REPO_ROOT / "containers" / family / "entrypoint.py").is_file()
    assert referenced(resources, substitutions["ClusterArn"])["Type"] == "AWS::ECS::Cluster"
    assert referenced(resources, substitutions["TaskSecurityGroupId"])["Type"] == "AWS::EC2::SecurityGroup"
    assert substitutions["SubnetIdA"] == {"Ref": "VpcSubnetIdA"}
    assert substitutions["SubnetIdB"] == {"Ref": "VpcSubnetIdB"}


def test_container_names_match_the_asl_overrides(resources, state_machine, asl_text):
    asl = json.loads(asl_text)
    tasks = ecs_tasks(asl)
    assert len(tasks) == len(TASK_FAMILIES)
    for task in tasks:
        key = PLACEHOLDER.fullmatch(task["Parameters"]["TaskDefinition"]).group(1)
        task_definition = referenced(resources, state_machine["DefinitionSubstitutions"][key])["Properties"]
        containers = {container["Name"] for container in task_definition["ContainerDefinitions"]}
        overridden = {override["Name"] for override in task["Parameters"]["Overrides"]["ContainerOverrides"]}
        assert overridden == containers == {TASK_FAMILIES[key]}


def test_task_definitions_give_containers_the_aws_settings(resources, template):
    defaults = {name: str(parameter.get("Default", "")) for name, parameter in template["Parameters"].items()}
    for name, task_definition in of_type(resources, "AWS::ECS::TaskDefinition").items():
        properties = task_definition["Properties"]
        assert properties["RequiresCompatibilities"] == ["FARGATE"] and properties["NetworkMode"] == "awsvpc"
        assert properties["TaskRoleArn"] and properties["ExecutionRoleArn"]
        for container in properties["ContainerDefinitions"]:
            environment = {item["Name"]: item["Value"] for item in container["Environment"]}
            # Training decides the champion and caps its rows
            own = {"CHAMPION_AUC_TOLERANCE", "MAX_TRAINING_ROWS"} if name == "TrainingTaskDefinition" else set()
            assert set(environment) == TASK_ENVIRONMENT | own, name
            assert container["LogConfiguration"]["LogDriver"] == "awslogs", name
            # With CloudFormation values stood in for, the container's environment is a valid aws configuration.
            resolved = {key: defaults.get(value["Ref"], "stand-in") if isinstance(value, dict) else value
                        for key, value in environment.items()}
            settings = load_settings(resolved)
            assert settings.bucket == "stand-in" and settings.athena_workgroup == "stand-in"


def test_state_machine_may_invoke_run_and_pass_what_it_uses(resources, state_machine):
    policies = state_machine["Policies"]
    invoked = {policy["LambdaInvokePolicy"]["FunctionName"]["Ref"] for policy in policies
               if isinstance(policy, dict) and "LambdaInvokePolicy" in policy}
    substitutions = state_machine["DefinitionSubstitutions"]
    assert invoked == {substitutions[key]["Fn::GetAtt"][0] for key in LAMBDA_FUNCTIONS}

    statements = policy_statements(policies)

    def resources_for(action: str) -> list:
        return [resource for statement in statements if action in as_list(statement["Action"])
                for resource in as_list(statement["Resource"])]

    task_definitions = [substitutions[key] for key in TASK_FAMILIES]
    assert sorted(map(str, resources_for("ecs:RunTask"))) == sorted(map(str, task_definitions))
    passed = {resource["Fn::GetAtt"][0] for resource in resources_for("iam:PassRole")}
    for task_definition in task_definitions:
        properties = referenced(resources, task_definition)["Properties"]
        assert {properties["TaskRoleArn"]["Fn::GetAtt"][0], properties["ExecutionRoleArn"]["Fn::GetAtt"][0]} <= passed
    for action in ("events:PutTargets", "events:PutRule", "events:DescribeRule"):
        (rule,) = resources_for(action)
        assert rule["Fn::Sub"].endswith(":rule/StepFunctionsGetEventsForECSTaskRule")


# ---------------------------------------------------------------------------------------------- Fargate sizes


def fargate_size_is_valid(cpu: int, memory: int) -> bool:
    return memory in FARGATE_MEMORY_MIB.get(cpu, ())


@pytest.mark.parametrize("cpu, memory, valid", [
    (256, 512, True), (256, 4096, False), (1024, 4096, True), (1024, 16384, False), (4096, 16384, True),
    (4096, 31744, False), (8192, 20480, True), (8192, 18432, False), (16384, 40960, True), (16384, 36864, False),
    (3072, 8192, False),
])
def test_fargate_table(cpu, memory, valid):
    assert fargate_size_is_valid(cpu, memory) is valid


@pytest.mark.parametrize("prefix", ["Training", "Inference"])
def test_fargate_defaults_are_valid_combinations(template, prefix):
    parameters = template["Parameters"]
    cpu, memory = int(parameters[f"{prefix}Cpu"]["Default"]), int(parameters[f"{prefix}Memory"]["Default"])
    assert fargate_size_is_valid(cpu, memory), f"{prefix}: {cpu} CPU with {memory} MiB is not a Fargate size"
    assert {int(value) for value in parameters[f"{prefix}Cpu"]["AllowedValues"]} <= set(FARGATE_MEMORY_MIB)


def test_task_definitions_use_the_sizing_parameters(resources, template):
    training = resources["TrainingTaskDefinition"]["Properties"]
    inference = resources["InferenceTaskDefinition"]["Properties"]
    assert (training["Cpu"], training["Memory"]) == ({"Ref": "TrainingCpu"}, {"Ref": "TrainingMemory"})
    assert (inference["Cpu"], inference["Memory"]) == ({"Ref": "InferenceCpu"}, {"Ref": "InferenceMemory"})
    assert training["EphemeralStorage"]["SizeInGiB"] == {"Ref": "EphemeralStorageGiB"}
    storage = template["Parameters"]["EphemeralStorageGiB"]
    assert (storage["MinValue"], storage["MaxValue"]) == (21, 200)
    assert 21 <= storage["Default"] <= 200


# ---------------------------------------------------------------------------------------------- schedule


def test_schedule_default_is_a_six_field_weekly_cron(template):
    expression = template["Parameters"]["ScheduleExpression"]["Default"]
    match = re.fullmatch(r"cron\((.*)\)", expression)
    assert match, expression
    fields = match.group(1).split()
    assert len(fields) == 6, "EventBridge cron has six fields: minutes hours day-of-month month day-of-week year"
    day_of_month, day_of_week = fields[2], fields[4]
    assert (day_of_month == "?") != (day_of_week == "?"), "exactly one of day-of-month / day-of-week must be ?"
    assert day_of_week == "MON"
    assert template["Parameters"]["ScheduleTimezone"]["Default"] == "UTC"


def test_schedule_event_carries_the_scheduled_time(state_machine):
    (event,) = state_machine["Events"].values()
    assert event["Type"] == "ScheduleV2"
    properties = event["Properties"]
    assert properties["ScheduleExpression"] == {"Ref": "ScheduleExpression"}
    assert properties["ScheduleExpressionTimezone"] == {"Ref": "ScheduleTimezone"}
    assert properties["FlexibleTimeWindow"] == {"Mode": "OFF"}
    scheduled = json.loads(properties["Input"]["Fn::Sub"])
    assert scheduled == {"scheduled_time": "<aws.scheduler.scheduled-time>", "schedule_timezone": "${ScheduleTimezone}"}
    as_started = scheduled | {"scheduled_time": "2026-11-15T23:30:00Z", "schedule_timezone": "Europe/Paris"}
    assert ExecutionInput.model_validate(as_started).scheduled_day() == dt.date(2026, 11, 16)  # Paris's Monday
    assert properties["RetryPolicy"]["MaximumRetryAttempts"] >= 1


# ---------------------------------------------------------------------------------------------- data


def test_glue_tables_match_table_definitions(resources):
    documents = {doc["name"]: doc for doc in (json.loads(p.read_text()) for p in sorted(GLUE_DIR.glob("*.json")))}
    tables = {table["Properties"]["TableInput"]["Name"]: table["Properties"]
              for table in of_type(resources, "AWS::Glue::Table").values()}
    definitions = table_definitions()
    assert set(tables) == set(definitions)
    for name, definition in definitions.items():
        table = tables[name]
        assert referenced(resources, table["DatabaseName"])["Properties"]["DatabaseInput"]["Name"] == DATABASE
        table_input = table["TableInput"]
        storage = table_input["StorageDescriptor"]
        assert [(c["Name"], c["Type"]) for c in storage["Columns"]] == list(definition.columns), name
        assert [(k["Name"], k["Type"]) for k in table_input["PartitionKeys"]] == list(definition.partition_keys), name
        assert storage["Location"] == {"Fn::Sub": f"s3://${{DataBucket}}/{definition.location}"}, name
        assert storage["SerdeInfo"]["SerializationLibrary"] == PARQUET_SERDE, name
        assert table_input["TableType"] == "EXTERNAL_TABLE", name
        # Documentation travels too: the comments are those of glue/<name>.json.
        assert [c["Comment"] for c in storage["Columns"]] == [c["comment"] for c in documents[name]["columns"]]
        assert table_input["Description"] == definition.description


def test_bucket_and_workgroup(resources):
    bucket = resources["DataBucket"]["Properties"]
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    configuration = resources["AthenaWorkGroup"]["Properties"]["WorkGroupConfiguration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["ResultConfiguration"]["OutputLocation"]["Fn::Sub"].startswith("s3://${DataBucket}/")


# ---------------------------------------------------------------------------------------------- alerts, outputs


def test_failed_executions_alert_the_topic(template, resources):
    rule = resources["ExecutionFailedRule"]["Properties"]
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.states"]
    assert set(pattern["detail"]["status"]) == {"FAILED", "TIMED_OUT", "ABORTED"}
    assert pattern["detail"]["stateMachineArn"] == [{"Ref": "PipelineStateMachine"}]
    assert [target["Arn"] for target in rule["Targets"]] == [{"Ref": "AlertTopic"}]
    subscription = resources["AlertEmailSubscription"]
    assert subscription["Condition"] == "HasAlertEmail"
    assert template["Parameters"]["AlertEmail"]["Default"] == ""


MAX_ALARM_WINDOW_SECONDS = 7 * 86400  # CloudWatch's longest evaluation range


def test_every_alarm_alerts_the_topic_within_cloudwatchs_window(resources):
    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    assert set(alarms) == {"FailedExecutionAlarm", "MissingWeekAlarm", "AucDropAlarm", "UnrecordedFailuresAlarm"}
    for name, alarm in alarms.items():
        properties = alarm["Properties"]
        assert properties["AlarmActions"] == [{"Ref": "AlertTopic"}], name
        periods = [metric["MetricStat"]["Period"] for metric in properties.get("Metrics", []) if "MetricStat" in metric]
        window = max(periods or [properties["Period"]]) * properties["EvaluationPeriods"]
        assert window <= MAX_ALARM_WINDOW_SECONDS, name


def test_the_missing_week_alarm_counts_no_data_as_no_success(resources):
    alarm = resources["MissingWeekAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/States", "ExecutionsSucceeded")
    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == 7 and alarm["Period"] == 86400
    assert alarm["TreatMissingData"] == "breaching" and alarm["ComparisonOperator"] == "LessThanThreshold"


def test_the_auc_alarm_watches_what_publish_emits(resources, template):
    from pipeline.core.emf import NAMESPACE

    alarm = resources["AucDropAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (NAMESPACE, "AucDrop")
    assert alarm["Dimensions"] == [{"Name": "Pipeline", "Value": {"Ref": "AWS::StackName"}}]
    assert template["Globals"]["Function"]["Environment"]["Variables"]["PIPELINE_NAME"] == {"Ref": "AWS::StackName"}
    assert alarm["Threshold"] == {"Ref": "AucDropAlarmThreshold"}


def test_the_alert_topic_is_encrypted_and_lets_only_its_rule_and_this_accounts_alarms_publish(resources):
    assert resources["AlertTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "PipelineKey"}
    statements = resources["AlertTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert {statement["Principal"]["Service"] for statement in statements} == {"events.amazonaws.com",
                                                                                "cloudwatch.amazonaws.com"}
    assert all(statement["Condition"] for statement in statements)
    key_statements = resources["PipelineKey"]["Properties"]["KeyPolicy"]["Statement"]
    publishers = next(statement for statement in key_statements if statement["Sid"].startswith("EventsAndAlarms"))
    assert set(publishers["Principal"]["Service"]) == {"events.amazonaws.com", "cloudwatch.amazonaws.com"}


def test_vpc_endpoints_are_optional_and_reachable_only_from_the_tasks(resources, template):
    endpoints = of_type(resources, "AWS::EC2::VPCEndpoint")
    services = {endpoint["Properties"]["ServiceName"]["Fn::Sub"].rsplit(".", 2)[-1].removeprefix("${AWS::Region}.")
                for endpoint in endpoints.values()}
    assert services == {"s3", "api", "dkr", "logs", "sts"}
    assert all(endpoint["Condition"] == "WithVpcEndpoints" for endpoint in endpoints.values())
    assert template["Parameters"]["CreateVpcEndpoints"]["Default"] == "false"
    (ingress,) = resources["EndpointSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert ingress["SourceSecurityGroupId"] == {"Fn::GetAtt": ["TaskSecurityGroup", "GroupId"]}
    assert (ingress["FromPort"], ingress["ToPort"]) == (443, 443)


def test_each_task_has_a_role_of_its_own(resources):
    roles = {name: definition["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0]
             for name, definition in of_type(resources, "AWS::ECS::TaskDefinition").items()}
    assert roles == {"TrainingTaskDefinition": "TrainingTaskRole", "InferenceTaskDefinition": "InferenceTaskRole"}


def unload_states(definition: dict) -> dict[str, dict]:
    return {name: state for branch in definition["States"]["PrepareSets"]["Branches"]
            for name, state in branch["States"].items()}


def test_prepare_sets_composes_each_unload_from_pipeline_sqls_template(asl_text):
    from pipeline.warehouse.sql import UNLOAD_TEMPLATE

    states = unload_states(json.loads(asl_text))
    assert set(states) == {"UnloadTrainingSet", "UnloadScoringSet"}
    for name, state in states.items():
        assert state["Resource"] == "arn:aws:states:::athena:startQueryExecution.sync", name
        assert state["Parameters"]["WorkGroup"] == "${AthenaWorkGroup}"
        literal = re.match(r"States\.Format\('(.*?)(?<!\\)',", state["Parameters"]["QueryString.$"])[1]
        assert literal.replace("\\'", "'") == UNLOAD_TEMPLATE, name
        assert "$$.Execution.RedriveCount" in state["Parameters"]["QueryString.$"]  # a folder per attempt
        assert all(error.startswith("Athena.") for retry in state["Retry"] for error in retry["ErrorEquals"])


def test_the_state_machine_may_run_the_unloads_and_write_only_work_and_results(resources):
    statements = [statement for policy in resources["PipelineStateMachine"]["Properties"]["Policies"]
                  for statement in policy.get("Statement", [])]
    athena = next(statement for statement in statements if statement.get("Sid") == "RunPrepareSetsQueries")
    assert athena["Resource"]["Fn::Sub"].endswith(":workgroup/${AthenaWorkGroup}")
    writes = next(statement for statement in statements if statement.get("Sid") == "WriteTheSetsAndQueryResults")
    assert [resource["Fn::Sub"] for resource in writes["Resource"]] == [
        "${DataBucket.Arn}/work/*", "${DataBucket.Arn}/athena-results/*", "${DataBucket.Arn}/inference-results/*"]


def test_inference_is_a_distributed_map_over_the_shard_list_prepare_data_writes(asl_text, resources):
    inference = json.loads(asl_text)["States"]["Inference"]
    assert inference["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert inference["ItemReader"]["Parameters"] == {"Bucket": "${DataBucketName}",
                                                     "Key.$": "$.prepared.shard_list_key"}
    assert inference["ResultWriter"]["Parameters"]["Bucket"] == "${DataBucketName}"
    assert inference["ToleratedFailurePercentage"] == 0  # one failed shard fails the week
    machine = resources["PipelineStateMachine"]["Properties"]
    statements = {statement.get("Sid"): statement for policy in machine["Policies"]
                  for statement in policy.get("Statement", [])}
    own_name = machine["Name"]["Fn::Sub"]
    assert statements["RunInferenceChildExecutions"]["Resource"]["Fn::Sub"].endswith(f":stateMachine:{own_name}")
    assert statements["FollowInferenceChildExecutions"]["Resource"]["Fn::Sub"].endswith(f":execution:{own_name}/*")


def test_outputs(template):
    outputs = template["Outputs"]
    assert {"BucketName", "StateMachineArn", "AthenaWorkGroupName", "BackfillCommand", "TaskImageRepositoryUri"} \
        <= set(outputs)
    command = outputs["BackfillCommand"]["Value"]["Fn::Sub"]
    assert command.startswith("aws stepfunctions start-execution") and '{"run_date": "YYYY-MM-DD"}' in command


# ---------------------------------------------------------------------------------------------- images


TASK_DOCKERFILE = REPO_ROOT / "containers" / "Dockerfile"


def dockerfile_exec_form(dockerfile: str, instruction: str) -> list[str]:
    """The JSON (exec form) argument list of the Dockerfile's last ENTRYPOINT or CMD."""
    (*_, line) = re.findall(rf"^{instruction} (\[.*\])\s*$", dockerfile, re.MULTILINE)
    return json.loads(line)


def module_file(module: str) -> Path:
    """The file `python -m module` runs, relative to the repository root (= the image's /app)."""
    path = REPO_ROOT / module.replace(".", "/")
    return path / "__main__.py" if path.is_dir() else path.with_suffix(".py")


def test_container_dockerfile():
    dockerfile = TASK_DOCKERFILE.read_text()
    assert dockerfile.startswith("#") and "\nFROM python:3.11-slim\n" in dockerfile
    assert "pip install --no-cache-dir -c constraints.txt -r /tmp/requirements.txt" in dockerfile
    assert not re.search(r"pip install[^\n]* \.(\[|\s|$)", dockerfile), "installing the project would ship the tools"
    assert re.search(r"^USER (?!root)\S+", dockerfile, re.MULTILINE), "the container must not run as root"
    for folder in (*SHIPPED_WINGS, "athena_sql/", "glue/", "containers/"):
        assert f"COPY {folder} {folder}" in dockerfile
    # One image for every task: no task-specific entrypoint, the task definitions' Command names the module.
    assert dockerfile_exec_form(dockerfile, "ENTRYPOINT") == ["python", "-m"]
    (default_module, *_) = dockerfile_exec_form(dockerfile, "CMD")
    assert module_file(default_module).is_file(), default_module


@pytest.mark.parametrize("family", sorted(TASK_FAMILIES.values()))
def test_no_per_task_dockerfiles(family):
    assert not (REPO_ROOT / "containers" / family / "Dockerfile").exists(), "containers/Dockerfile serves every task"


def test_task_definitions_share_one_image_repository(template, resources):
    (name,) = of_type(resources, "AWS::ECR::Repository")
    expected_image = {"Fn::Sub": f"${{{name}.RepositoryUri}}:${{ImageTag}}"}
    task_definitions = of_type(resources, "AWS::ECS::TaskDefinition")
    assert {task["Properties"]["Family"] for task in task_definitions.values()} == set(TASK_FAMILIES.values())
    for task_name, task in task_definitions.items():
        for container in task["Properties"]["ContainerDefinitions"]:
            assert container["Image"] == expected_image, task_name
        # The task's execution role may pull from that repository.
        role = referenced(resources, task["Properties"]["ExecutionRoleArn"])["Properties"]
        statements = policy_statements([policy["PolicyDocument"] for policy in role["Policies"]])
        pullable = [resource for statement in statements if "ecr:BatchGetImage" in as_list(statement["Action"])
                    for resource in as_list(statement["Resource"])]
        assert pullable == [{"Fn::GetAtt": [name, "Arn"]}], task_name
    # The stack tells where to push the image.
    assert template["Outputs"][f"{name}Uri"]["Value"] == {"Fn::GetAtt": [name, "RepositoryUri"]}


def test_task_definition_commands_run_their_entrypoint(resources, state_machine):
    """Each task definition runs `python -m containers.<family>.entrypoint` in the shared image."""
    image_entrypoint = dockerfile_exec_form(TASK_DOCKERFILE.read_text(), "ENTRYPOINT")
    substitutions = state_machine["DefinitionSubstitutions"]
    for key, family in TASK_FAMILIES.items():
        task_definition = referenced(resources, substitutions[key])["Properties"]
        (container,) = task_definition["ContainerDefinitions"]
        argv = [*container.get("EntryPoint", image_entrypoint), *container["Command"]]
        assert argv[:2] == ["python", "-m"], (family, argv)
        module = argv[2]
        assert module == f"containers.{family}.entrypoint", (family, argv)
        assert module_file(module) == REPO_ROOT / "containers" / family / "entrypoint.py"
        assert module_file(module).is_file(), module


def test_lambda_dockerfile():
    dockerfile = (REPO_ROOT / "lambdas" / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -c constraints.txt -r /tmp/requirements.txt" in dockerfile
    assert not re.search(r"pip install[^\n]* \.(\[|\s|$)", dockerfile), "installing the project would ship the tools"
    for folder in (*SHIPPED_WINGS, "athena_sql/", "glue/", "lambdas/"):
        assert f"COPY {folder} {folder}" in dockerfile
    assert 'ENTRYPOINT ["python", "-m", "awslambdaric"]' in dockerfile


def test_dockerignore_keeps_local_state_out_of_images():
    ignored = {line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()}
    assert {".venv", "local_data", "tests", ".aws-sam", "**/__pycache__"} <= ignored
    assert not ignored & {"pipeline", "containers", "lambdas", "athena_sql", "glue", "pyproject.toml",
                          "constraints.txt"}


# ---------------------------------------------------------------------------------------------- cfn-lint


# ---------------------------------------------------------------------------------------------- moto


def test_moto_step_functions_accepts_the_definition(monkeypatch, asl_text):
    import boto3
    from moto import mock_aws

    for variable, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                            "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)

    account, region = "123456789012", "us-east-1"
    fake = {key: f"arn:aws:lambda:{region}:{account}:function:churn-{name}" for key, name in LAMBDA_FUNCTIONS.items()}
    fake |= {key: f"arn:aws:ecs:{region}:{account}:task-definition/{family}:1" for key, family in TASK_FAMILIES.items()}
    fake |= {"ClusterArn": f"arn:aws:ecs:{region}:{account}:cluster/churn", "SubnetIdA": "subnet-0123456789abcdef0",
             "SubnetIdB": "subnet-0fedcba9876543210", "TaskSecurityGroupId": "sg-0123456789abcdef0",
             "AthenaWorkGroup": "churn-pipeline-pipeline", "DataBucketName": "churn-pipeline-data"}
    definition = PLACEHOLDER.sub(lambda match: fake[match.group(1)], asl_text)
    assert "${" not in definition
    json.loads(definition)  # still valid JSON once filled

    with mock_aws():
        iam = boto3.client("iam", region_name=region)
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                          "Principal": {"Service": "states.amazonaws.com"}}]}
        role_arn = iam.create_role(RoleName="churn-pipeline-states",
                                   AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        sfn = boto3.client("stepfunctions", region_name=region)
        arn = sfn.create_state_machine(name="churn-pipeline", definition=definition, roleArn=role_arn,
                                       type="STANDARD")["stateMachineArn"]
        described = sfn.describe_state_machine(stateMachineArn=arn)
        assert described["definition"] == definition
        assert described["roleArn"] == role_arn
        assert described["type"] == "STANDARD"


def test_the_assistant_may_invoke_its_model_only_read_the_tables_and_write_its_query_results(resources):
    function = resources["AssistantFunction"]["Properties"]
    statements = [statement for policy in function["Policies"] for statement in policy["Statement"]]
    actions = {action for statement in statements for action in
               (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])}
    assert {action.split(":")[0] for action in actions} == {"bedrock", "athena", "glue", "s3"}
    assert not {action for action in actions if action.startswith("glue:") and not action.startswith("glue:Get")
                and action != "glue:BatchGetPartition"}
    (invoke,) = [statement for statement in statements if statement["Action"] == "bedrock:InvokeModel"]
    assert invoke["Resource"]["Fn::Sub"].endswith(":foundation-model/${AssistantModelId}")
    (athena,) = [statement for statement in statements if "athena:StartQueryExecution" in statement["Action"]]
    assert athena["Resource"]["Fn::Sub"].endswith(":workgroup/${AssistantWorkGroup}")
    (writes,) = [statement for statement in statements if "s3:PutObject" in statement["Action"]]
    assert writes["Resource"] == {"Fn::Sub": "${DataBucket.Arn}/athena-results/assistant/*"}
    assert function["Environment"]["Variables"] == {"ATHENA_WORKGROUP": {"Ref": "AssistantWorkGroup"},
                                                    "BEDROCK_MODEL_ID": {"Ref": "AssistantModelId"}}
    ask = function["Events"]["Ask"]["Properties"]
    assert (ask["Path"], ask["Method"], ask["Auth"]["ApiKeyRequired"]) == ("/v1/ask", "POST", True)


def test_each_assistant_query_is_cancelled_past_the_bytes_cutoff(template, resources):
    configuration = resources["AssistantWorkGroup"]["Properties"]["WorkGroupConfiguration"]
    assert configuration["BytesScannedCutoffPerQuery"] == {"Ref": "AssistantBytesScannedCutoff"}
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert template["Parameters"]["AssistantBytesScannedCutoff"]["Default"] == 2 ** 30
    assert configuration["ResultConfiguration"]["OutputLocation"] == {
        "Fn::Sub": "s3://${DataBucket}/athena-results/assistant/"}
