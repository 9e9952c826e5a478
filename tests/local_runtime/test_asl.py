"""The local ASL executor, checked against the examples of the AWS Step Functions documentation."""
from __future__ import annotations

import json
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from local_runtime.asl import (
    ExecutionFailed,
    ExecutionResult,
    Redrive,
    StateEvent,
    TaskFailed,
    UnsupportedConstruct,
    load_state_machine,
)

EXAMPLES = Path(__file__).parent / "asl_examples"
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:HelloFunction"


def one_state(state: dict[str, Any], **more_states: dict[str, Any]) -> dict[str, Any]:
    """A definition starting at state "S"."""
    return {"StartAt": "S", "States": {"S": state, **more_states}}


def end_pass(result: Any = None) -> dict[str, Any]:
    return {"Type": "Pass", "End": True} if result is None else {"Type": "Pass", "Result": result, "End": True}


def no_tasks(resource: str, parameters: Any, context: dict[str, Any]) -> Any:
    raise AssertionError(f"unexpected task {resource}")


def echo(resource: str, parameters: Any, context: dict[str, Any]) -> Any:
    return parameters


def hello(resource: str, parameters: Any, context: dict[str, Any]) -> str:
    """The documentation's HelloFunction Lambda."""
    return f"Hello, {parameters['who']}!"


def run(definition: dict[str, Any], input: Any = None, invoke=no_tasks, **options: Any) -> ExecutionResult:
    options.setdefault("sleep", lambda seconds: None)
    return load_state_machine(definition).execute(input, invoke, **options)


def failing(*errors: str, then: Any = "ok"):
    """An invoker that raises the given ASL errors in turn, then returns `then`; it records its calls."""
    remaining = list(errors)
    calls: list[dict[str, Any]] = []

    def invoke(resource: str, parameters: Any, context: dict[str, Any]) -> Any:
        calls.append(context)
        if remaining:
            raise TaskFailed(remaining.pop(0), "it broke")
        return then

    invoke.calls = calls
    return invoke


def rejection(definition: dict[str, Any]) -> UnsupportedConstruct:
    with pytest.raises(UnsupportedConstruct) as caught:
        load_state_machine(definition)
    return caught.value


# ---------------------------------------------------------------- InputPath, Parameters, ResultSelector

def test_input_path_doc_example_selects_dataset2():
    doc_input = {"comment": "Example for InputPath.",
                 "dataset1": {"val1": 1, "val2": 2, "val3": 3},
                 "dataset2": {"val1": "a", "val2": "b", "val3": "c"}}
    result = run(one_state({"Type": "Task", "Resource": LAMBDA, "InputPath": "$.dataset2", "End": True}),
                 doc_input, echo)
    assert result.output == {"val1": "a", "val2": "b", "val3": "c"}


def test_parameters_doc_example_builds_the_task_input():
    doc_input = {"comment": "Example for Parameters.",
                 "product": {"details": {"color": "blue", "size": "small", "material": "cotton"},
                             "availability": "in stock", "sku": "2317", "cost": "$23"}}
    parameters = {"comment": "Selecting what I care about.",
                  "MyDetails": {"size.$": "$.product.details.size", "exists.$": "$.product.availability",
                                "StaticValue": "foo"}}
    result = run(one_state({"Type": "Task", "Resource": LAMBDA, "Parameters": parameters, "End": True}),
                 doc_input, echo)
    assert result.output == {"comment": "Selecting what I care about.",
                             "MyDetails": {"size": "small", "exists": "in stock", "StaticValue": "foo"}}


def test_result_selector_doc_example_with_result_path():
    emr_result = {"resourceType": "elasticmapreduce", "resource": "createCluster.sync",
                  "output": {"SdkHttpMetadata": {"HttpStatusCode": 200},
                             "SdkResponseMetadata": {"RequestId": "1234-5678-9011"},
                             "ClusterId": "AKIAIOSFODNN7EXAMPLE"}}
    state = {"Type": "Task", "Resource": "arn:aws:states:::elasticmapreduce:createCluster.sync",
             "ResultSelector": {"ClusterId.$": "$.output.ClusterId", "ResourceType.$": "$.resourceType"},
             "ResultPath": "$.EMROutput", "End": True}
    result = run(one_state(state), {"OtherDataFromInput": {}}, lambda *_: emr_result)
    assert result.output == {"OtherDataFromInput": {},
                             "EMROutput": {"ClusterId": "AKIAIOSFODNN7EXAMPLE", "ResourceType": "elasticmapreduce"}}


RESULT_PATH_DOC_INPUT = {"comment": "This is a test of the input and output of a Task state.",
                         "details": "Default example", "who": "AWS Step Functions"}


@pytest.mark.parametrize("result_path, expected", [
    ("$", "Hello, AWS Step Functions!"),
    (None, RESULT_PATH_DOC_INPUT),
    ("$.taskresult", {**RESULT_PATH_DOC_INPUT, "taskresult": "Hello, AWS Step Functions!"}),
])
def test_result_path_doc_examples(result_path, expected):
    state = {"Type": "Task", "Resource": LAMBDA, "ResultPath": result_path, "End": True}
    assert run(one_state(state), RESULT_PATH_DOC_INPUT, hello).output == expected


def test_input_result_and_output_path_doc_example():
    doc_input = {"comment": "An input comment.", "data": {"val1": 23, "val2": 17}, "extra": "foo",
                 "lambda": {"who": "AWS Step Functions"}}
    state = {"Type": "Task", "Resource": LAMBDA, "InputPath": "$.lambda",
             "ResultPath": "$.data.lambdaresult", "OutputPath": "$.data", "End": True}
    # ResultPath writes into the raw input (not the InputPath selection); OutputPath then filters it.
    assert run(one_state(state), doc_input, hello).output == {
        "val1": 23, "val2": 17, "lambdaresult": "Hello, AWS Step Functions!"}


def test_null_input_path_and_null_output_path_select_an_empty_object():
    received = []
    state = {"Type": "Task", "Resource": LAMBDA, "InputPath": None, "Next": "Drop"}
    drop = {"Type": "Pass", "Result": {"x": 1}, "OutputPath": None, "End": True}
    result = run(one_state(state, Drop=drop), {"a": 1}, lambda r, p, c: received.append(p) or "done")
    assert received == [{}]
    assert result.output == {}


def test_result_path_into_a_non_object_is_a_runtime_error():
    state = {"Type": "Pass", "Result": 1, "ResultPath": "$.x", "End": True}
    with pytest.raises(ExecutionFailed) as failed:
        run(one_state(state), "just a string")
    assert failed.value.error == "States.Runtime"


def test_missing_parameter_path_is_a_runtime_error_that_no_retry_or_catch_handles():
    sleeps: list[float] = []
    state = {"Type": "Task", "Resource": LAMBDA, "Parameters": {"x.$": "$.missing"},
             "Retry": [{"ErrorEquals": ["States.ALL"]}],
             "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}], "End": True}
    with pytest.raises(ExecutionFailed) as failed:
        run(one_state(state, Handled=end_pass()), {"present": 1}, sleep=sleeps.append)
    assert failed.value.error == "States.Runtime"
    assert "$.missing" in failed.value.cause
    assert sleeps == []


# ------------------------------------------------------------------------------------ Retry and Catch

def test_retry_backoff_sleeps_interval_times_backoff_rate_and_exposes_retry_count():
    sleeps: list[float] = []
    invoke = failing("Lambda.ServiceException", "Lambda.ServiceException", "Lambda.ServiceException")
    state = {"Type": "Task", "Resource": LAMBDA, "End": True,
             "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 3, "MaxAttempts": 3,
                        "BackoffRate": 2}]}
    result = run(one_state(state), {}, invoke, sleep=sleeps.append)
    assert sleeps == [3, 6, 12]
    assert result.output == "ok"
    assert [context["State"]["RetryCount"] for context in invoke.calls] == [0, 1, 2, 3]
    assert [event.status for event in result.history] == ["retried", "retried", "retried", "succeeded"]


def test_retry_doc_example_timeout_with_backoff_rate_1_5():
    sleeps: list[float] = []
    state = {"Type": "Task", "Resource": LAMBDA, "End": True,
             "Retry": [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 3, "MaxAttempts": 2,
                        "BackoffRate": 1.5}]}
    with pytest.raises(ExecutionFailed) as failed:
        run(one_state(state), {}, failing("States.Timeout", "States.Timeout", "States.Timeout"),
            sleep=sleeps.append)
    assert sleeps == [3, 4.5]
    assert failed.value.error == "States.Timeout"


def test_max_delay_seconds_caps_the_backoff():
    sleeps: list[float] = []
    state = {"Type": "Task", "Resource": LAMBDA, "End": True,
             "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 3, "MaxAttempts": 5, "BackoffRate": 2,
                        "MaxDelaySeconds": 10}]}
    with pytest.raises(ExecutionFailed):
        run(one_state(state), {}, failing(*["Flaky"] * 6), sleep=sleeps.append)
    assert sleeps == [3, 6, 10, 10, 10]


def test_full_jitter_scales_each_delay_by_the_random_fraction():
    sleeps: list[float] = []
    state = {"Type": "Task", "Resource": LAMBDA, "End": True,
             "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 4, "MaxAttempts": 2,
                        "JitterStrategy": "FULL"}]}
    run(one_state(state), {}, failing("Flaky", "Flaky"), sleep=sleeps.append, random_fraction=lambda: 0.25)
    assert sleeps == [1.0, 2.0]


def test_max_attempts_zero_never_retries():
    sleeps: list[float] = []
    invoke = failing("Flaky")
    state = {"Type": "Task", "Resource": LAMBDA, "End": True,
             "Retry": [{"ErrorEquals": ["Flaky"], "MaxAttempts": 0}]}
    with pytest.raises(ExecutionFailed) as failed:
        run(one_state(state), {}, invoke, sleep=sleeps.append)
    assert (failed.value.error, len(invoke.calls), sleeps) == ("Flaky", 1, [])


def test_retry_doc_example_each_retrier_counts_separately_then_catch_places_error_output():
    sleeps: list[float] = []
    state = {"Type": "Task", "Resource": LAMBDA, "Next": "Done", "ResultPath": "$.result",
             "Retry": [{"ErrorEquals": ["ErrorA", "ErrorB"], "IntervalSeconds": 1, "BackoffRate": 2.0,
                        "MaxAttempts": 2},
                       {"ErrorEquals": ["ErrorC"], "IntervalSeconds": 5}],
             "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Z"}]}
    definition = one_state(state, Done=end_pass(), Z=end_pass())
    result = run(definition, {"week": "2024-06-03"}, failing("ErrorA", "ErrorB", "ErrorC", "ErrorB"),
                 sleep=sleeps.append)
    # ErrorC's retrier has its own count; the third ErrorA/ErrorB exhausts the first retrier.
    assert sleeps == [1, 2, 5]
    assert result.output == {"week": "2024-06-03", "error": {"Error": "ErrorB", "Cause": "it broke"}}
    assert [event.name for event in result.history][-2:] == ["S", "Z"]
    assert result.history[-2].status == "caught"


@pytest.mark.parametrize("error, expected_next", [
    ("Payments.Declined", "Declined"), ("States.Timeout", "Everything"), ("Other.Error", "Everything"),
])
def test_catchers_are_tried_in_order_and_states_all_catches_the_rest(error, expected_next):
    state = {"Type": "Task", "Resource": LAMBDA, "End": True,
             "Catch": [{"ErrorEquals": ["Payments.Declined"], "Next": "Declined"},
                       {"ErrorEquals": ["States.ALL"], "Next": "Everything"}]}
    definition = one_state(state, Declined=end_pass("declined"), Everything=end_pass("everything"))
    result = run(definition, {}, failing(error))
    assert result.history[-1].name == expected_next


def test_states_task_failed_catches_invoker_exceptions_with_their_message_as_cause():
    def broken(resource, parameters, context):
        raise OSError("disk full")

    state = {"Type": "Task", "Resource": LAMBDA, "End": True,
             "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Handled"}]}
    result = run(one_state(state, Handled={"Type": "Pass", "End": True}), {}, broken)
    assert result.output == {"Error": "States.TaskFailed", "Cause": "disk full"}


def test_timeout_seconds_raises_states_timeout_which_states_task_failed_does_not_match():
    release = threading.Event()
    sleeps: list[float] = []
    state = {"Type": "Task", "Resource": LAMBDA, "TimeoutSeconds": 1, "End": True,
             "Retry": [{"ErrorEquals": ["States.TaskFailed"]}],
             "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Wrong"},
                       {"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"}]}
    definition = one_state(state, Wrong=end_pass(), TimedOut=end_pass("timed out"))
    try:
        result = run(definition, {}, lambda *_: release.wait(10), sleep=sleeps.append)
    finally:
        release.set()
    assert (result.output, sleeps) == ("timed out", [])


# -------------------------------------------------------------------------------------------- Choice

CHOICE_DOC_STATE = {
    "Type": "Choice",
    "Choices": [
        {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
        {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
        {"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20},
                 {"Variable": "$.value", "NumericLessThan": 30}],
         "Next": "ValueInTwenties"},
    ],
    "Default": "DefaultState",
}


@pytest.mark.parametrize("doc_input, expected", [
    ({"type": "Public", "value": 0}, "Public"),
    ({"type": "Private", "value": 0}, "ValueIsZero"),
    ({"type": "Private", "value": 25}, "ValueInTwenties"),
    ({"type": "Private", "value": 30}, "DefaultState"),
])
def test_choice_doc_example_with_not_and_default(doc_input, expected):
    targets = {name: end_pass(name) for name in ("Public", "ValueIsZero", "ValueInTwenties", "DefaultState")}
    assert run(one_state(CHOICE_DOC_STATE, **targets), doc_input).output == expected


def choose(rule: dict[str, Any], data: Any) -> str:
    definition = one_state({"Type": "Choice", "Choices": [{**rule, "Next": "Yes"}], "Default": "No"},
                           Yes=end_pass("yes"), No=end_pass("no"))
    return run(definition, data).output


@pytest.mark.parametrize("rule, data, expected", [
    ({"Variable": "$.file", "StringMatches": "log-*.txt"}, {"file": "log-2024.txt"}, "yes"),
    ({"Variable": "$.file", "StringMatches": "log-*.txt"}, {"file": "log-2024.csv"}, "no"),
    ({"Variable": "$.s", "StringMatches": "a\\*b"}, {"s": "a*b"}, "yes"),
    ({"Variable": "$.s", "StringMatches": "a\\*b"}, {"s": "axb"}, "no"),
    ({"Variable": "$.n", "StringEquals": "1"}, {"n": 1}, "no"),  # wrong type: false, not an error
    ({"Variable": "$.n", "NumericLessThan": 2}, {"n": 1.5}, "yes"),
    ({"Variable": "$.a", "NumericGreaterThanEqualsPath": "$.b"}, {"a": 5, "b": 5}, "yes"),
    ({"Variable": "$.a", "StringEqualsPath": "$.b"}, {"a": "x", "b": "y"}, "no"),
    ({"Variable": "$.flag", "BooleanEquals": False}, {"flag": False}, "yes"),
    ({"Variable": "$.at", "TimestampGreaterThan": "2024-06-01T09:00:00Z"},
     {"at": "2024-06-01T12:00:00+02:00"}, "yes"),
    ({"Variable": "$.at", "TimestampLessThanEqualsPath": "$.deadline"},
     {"at": "2024-06-01T10:00:00Z", "deadline": "2024-06-01T10:00:00.000Z"}, "yes"),
    ({"Variable": "$.at", "IsTimestamp": True}, {"at": "2024-06-01"}, "no"),
    ({"Variable": "$.n", "IsNumeric": True}, {"n": True}, "no"),  # a boolean is not a number
    ({"Variable": "$.n", "IsNull": True}, {"n": None}, "yes"),
    ({"Variable": "$.gone", "IsPresent": False}, {}, "yes"),
    ({"Or": [{"Variable": "$.n", "NumericEquals": 1}, {"Not": {"Variable": "$.s", "IsString": True}}]},
     {"n": 2, "s": 3}, "yes"),
])
def test_choice_comparison_operators(rule, data, expected):
    assert choose(rule, data) == expected


def test_choice_without_match_or_default_fails_with_no_choice_matched():
    definition = one_state({"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "A"}]},
                           A=end_pass())
    with pytest.raises(ExecutionFailed) as failed:
        run(definition, {"n": 2})
    assert failed.value.error == "States.NoChoiceMatched"


def test_choice_on_a_missing_variable_is_a_runtime_error():
    with pytest.raises(ExecutionFailed) as failed:
        choose({"Variable": "$.missing", "NumericEquals": 1}, {})
    assert failed.value.error == "States.Runtime"


# ---------------------------------------------------------------------------------------------- Wait

@pytest.mark.parametrize("wait, data, expected_sleeps", [
    ({"Seconds": 10}, {}, [10]),
    ({"SecondsPath": "$.delay"}, {"delay": 7}, [7]),
    ({"Timestamp": "2001-01-01T00:00:00Z"}, {}, []),  # already past: no wait
])
def test_wait_uses_the_injected_sleep(wait, data, expected_sleeps):
    sleeps: list[float] = []
    result = run(one_state({"Type": "Wait", **wait, "End": True}), data, sleep=sleeps.append)
    assert sleeps == expected_sleeps
    assert result.output == data


def test_wait_timestamp_path_sleeps_until_that_moment():
    sleeps: list[float] = []
    soon = (datetime.now(timezone.utc) + timedelta(seconds=60)).isoformat().replace("+00:00", "Z")
    run(one_state({"Type": "Wait", "TimestampPath": "$.until", "End": True}), {"until": soon},
        sleep=sleeps.append)
    assert len(sleeps) == 1 and 58 < sleeps[0] <= 60


# ----------------------------------------------------------------------------------------------- Map

MAP_DOC_INPUT = {
    "ship-date": "2016-03-14T01:59:00Z",
    "detail": {
        "delivery-partner": "UQS",
        "shipped": [
            {"prod": "R31", "dest-code": 9511, "quantity": 1344},
            {"prod": "S39", "dest-code": 9511, "quantity": 40},
            {"prod": "R31", "dest-code": 9833, "quantity": 12},
            {"prod": "R40", "dest-code": 9860, "quantity": 887},
            {"prod": "R40", "dest-code": 9511, "quantity": 1220},
        ],
    },
}


def test_map_doc_example_with_item_selector_honours_max_concurrency_and_keeps_order():
    lock, running, peak, seen = threading.Lock(), [0], [0], []

    def validate(resource, parcel_input, context):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            seen.append(parcel_input)
        # Earlier items take longer, so completion order differs from item order.
        time.sleep(0.01 * (5 - parcel_input["parcel"]["quantity"] % 5) + 0.02)
        with lock:
            running[0] -= 1
        return {"prod": parcel_input["parcel"]["prod"], "ok": True}

    state = {"Type": "Map", "InputPath": "$.detail", "ItemsPath": "$.shipped", "MaxConcurrency": 2,
             "ItemSelector": {"parcel.$": "$$.Map.Item.Value", "courier.$": "$.delivery-partner"},
             "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Validate",
                               "States": {"Validate": {"Type": "Task", "Resource": LAMBDA, "End": True}}},
             "ResultPath": "$.detail.shipped", "End": True}
    result = run(one_state(state), MAP_DOC_INPUT, validate)
    assert peak[0] == 2
    assert sorted(seen, key=lambda s: s["parcel"]["quantity"]) == sorted(
        ({"parcel": parcel, "courier": "UQS"} for parcel in MAP_DOC_INPUT["detail"]["shipped"]),
        key=lambda s: s["parcel"]["quantity"])
    assert result.output == {
        "ship-date": "2016-03-14T01:59:00Z",
        "detail": {"delivery-partner": "UQS",
                   "shipped": [{"prod": prod, "ok": True} for prod in ("R31", "S39", "R31", "R40", "R40")]},
    }


@pytest.mark.parametrize("selector_field, processor_field", [("ItemSelector", "ItemProcessor"),
                                                              ("Parameters", "Iterator")])
def test_map_context_item_index_and_value(selector_field, processor_field):
    state = {"Type": "Map", "ItemsPath": "$.weeks", "MaxConcurrency": 0,
             selector_field: {"index.$": "$$.Map.Item.Index", "week.$": "$$.Map.Item.Value", "run.$": "$.run"},
             processor_field: {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}},
             "End": True}
    result = run(one_state(state), {"run": "r1", "weeks": ["w1", "w2", "w3"]})
    assert result.output == [{"index": 0, "week": "w1", "run": "r1"}, {"index": 1, "week": "w2", "run": "r1"},
                             {"index": 2, "week": "w3", "run": "r1"}]


def test_failed_map_iteration_fails_the_map_and_its_catch_handles_it():
    def score(resource, parameters, context):
        if parameters == 2:
            raise TaskFailed("Model.NotFound", "no model for segment 2")
        return parameters * 10

    state = {"Type": "Map", "ItemProcessor": {"StartAt": "Score", "States": {
                 "Score": {"Type": "Task", "Resource": LAMBDA, "End": True}}},
             "ItemsPath": "$.segments", "MaxConcurrency": 1,
             "Catch": [{"ErrorEquals": ["Model.NotFound"], "ResultPath": "$.failure", "Next": "Report"}],
             "End": True}
    result = run(one_state(state, Report=end_pass()), {"segments": [1, 2, 3]}, score)
    assert result.output == {"segments": [1, 2, 3],
                             "failure": {"Error": "Model.NotFound", "Cause": "no model for segment 2"}}
    failed_iteration = [event for event in result.history if event.status == "failed"]
    assert [(event.name, event.scope) for event in failed_iteration] == [("Score", "S[1]")]


# ------------------------------------------------------------------------------------------ Parallel

def test_parallel_doc_example_outputs_branch_results_in_branch_order():
    def lookup(resource, parameters, context):
        if resource.endswith("AddressFinder"):
            time.sleep(0.05)  # the first branch finishes last
            return {"address": "1 Main St"}
        return {"phone": "555-0100"}

    state = {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "LookupAddress", "States": {"LookupAddress": {
            "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:AddressFinder",
            "End": True}}},
        {"StartAt": "LookupPhone", "States": {"LookupPhone": {
            "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:PhoneFinder",
            "End": True}}},
    ]}
    result = run(one_state(state), {"customer": 7}, lookup)
    assert result.output == [{"address": "1 Main St"}, {"phone": "555-0100"}]
    assert {event.scope for event in result.history if event.type == "Task"} == {
        "S.Branches[0]", "S.Branches[1]"}


def parallel_with_failing_branch(**extra: Any) -> dict[str, Any]:
    return {"Type": "Parallel", "End": True, **extra, "Branches": [
        {"StartAt": "Fine", "States": {"Fine": end_pass("fine")}},
        {"StartAt": "Broken", "States": {"Broken": {"Type": "Fail", "Error": "Branch.Broken", "Cause": "boom"}}},
    ]}


def test_parallel_failing_branch_is_caught_with_that_branch_error():
    state = parallel_with_failing_branch(
        Catch=[{"ErrorEquals": ["Branch.Broken"], "ResultPath": "$.error", "Next": "Recover"}])
    result = run(one_state(state, Recover=end_pass()), {"week": 1})
    assert result.output == {"week": 1, "error": {"Error": "Branch.Broken", "Cause": "boom"}}


def test_parallel_failing_branch_without_catch_fails_the_execution():
    with pytest.raises(ExecutionFailed) as failed:
        run(one_state(parallel_with_failing_branch()), {})
    assert (failed.value.error, failed.value.cause) == ("Branch.Broken", "boom")


# ---------------------------------------------------------------------------------------------- Fail

def test_fail_state_ends_the_execution_with_its_error_and_cause():
    definition = one_state({"Type": "Pass", "Next": "Stop"},
                           Stop={"Type": "Fail", "Error": "Pipeline.NoData", "Cause": "week 23 is empty"})
    with pytest.raises(ExecutionFailed) as failed:
        run(definition, {})
    assert (failed.value.error, failed.value.cause) == ("Pipeline.NoData", "week 23 is empty")
    assert [(e.name, e.status) for e in failed.value.history] == [("S", "succeeded"), ("Stop", "failed")]


def test_fail_state_error_path_and_cause_path_accept_paths_and_intrinsics():
    state = {"Type": "Fail", "ErrorPath": "$.error", "CausePath": "States.Format('week {} failed', $.week)"}
    with pytest.raises(ExecutionFailed) as failed:
        run(one_state(state), {"error": "Pipeline.Bad", "week": 23})
    assert (failed.value.error, failed.value.cause) == ("Pipeline.Bad", "week 23 failed")


# -------------------------------------------------------------------------------- Intrinsic functions

def test_intrinsic_functions_doc_examples():
    data = {"name": "Arnav", "inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9],
            "escapedJsonString": "{\"foo\": \"bar\"}", "unescapedJson": {"foo": "bar"},
            "value1": 111, "step": -1, "Data": "input data", "Algorithm": "SHA-1",
            "json1": {"a": {"a1": 1, "a2": 2}, "b": 2}, "json2": {"a": {"a3": 1, "a4": 2}, "c": 3},
            "duplicates": [1, 2, 3, 3, 3, 3, 3, 3, 4], "inputString": "This.is+a,test=string", "splitter": ".+,="}
    parameters = {
        "format.$": "States.Format('Hello, my name is {}.', $.name)",
        "escaped.$": "States.Format('\\{\\} and {} and \\'quotes\\'', $.unescapedJson)",
        "partition.$": "States.ArrayPartition($.inputArray, 4)",
        "range.$": "States.ArrayRange(1, 9, 2)",
        "add.$": "States.MathAdd($.value1, $.step)",
        "parsed.$": "States.StringToJson($.escapedJsonString)",
        "text.$": "States.JsonToString($.unescapedJson)",
        "hash.$": "States.Hash($.Data, $.Algorithm)",
        "contains.$": "States.ArrayContains($.inputArray, 5)",
        "item.$": "States.ArrayGetItem($.inputArray, 5)",
        "length.$": "States.ArrayLength($.inputArray)",
        "unique.$": "States.ArrayUnique($.duplicates)",
        "encoded.$": "States.Base64Encode('Data to encode')",
        "decoded.$": "States.Base64Decode('RGF0YSB0byBlbmNvZGU=')",
        "merged.$": "States.JsonMerge($.json1, $.json2, false)",
        "split.$": "States.StringSplit($.inputString, $.splitter)",
        "nested.$": "States.ArrayGetItem(States.StringSplit('a/b/c', '/'), States.MathAdd(1, 0))",
        "array.$": "States.Array('x', 1, null, true, $.step)",
        "rounded.$": "States.MathAdd(2.5, -0.5)",  # Java rounding (half up): 3 + 0
    }
    result = run(one_state({"Type": "Pass", "Parameters": parameters, "End": True}), data)
    assert result.output == {
        "format": "Hello, my name is Arnav.",
        "escaped": "{} and {foo=bar} and 'quotes'",
        "partition": [[1, 2, 3, 4], [5, 6, 7, 8], [9]],
        "range": [1, 3, 5, 7, 9],
        "add": 110,
        "parsed": {"foo": "bar"},
        "text": "{\"foo\":\"bar\"}",
        "hash": "aaff4a450a104cd177d28d18d74485e8cae074b7",
        "contains": True,
        "item": 6,
        "length": 9,
        "unique": [1, 2, 3, 4],
        "encoded": "RGF0YSB0byBlbmNvZGU=",
        "decoded": "Data to encode",
        "merged": {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3},
        "split": ["This", "is", "a", "test", "string"],
        "nested": "b",
        "array": ["x", 1, None, True, -1],
        "rounded": 3,
    }


def test_uuid_and_seeded_math_random_shapes():
    parameters = {"id.$": "States.UUID()", "dice.$": "States.MathRandom(1, 6, 42)"}
    output = run(one_state({"Type": "Pass", "Parameters": parameters, "End": True}), {}).output
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", output["id"])
    assert 1 <= output["dice"] <= 6


def test_intrinsic_misuse_is_a_catchable_intrinsic_failure():
    state = {"Type": "Task", "Resource": LAMBDA, "Parameters": {"x.$": "States.ArrayGetItem($.items, 5)"},
             "Catch": [{"ErrorEquals": ["States.IntrinsicFailure"], "Next": "Handled"}], "End": True}
    result = run(one_state(state, Handled=end_pass()), {"items": [1, 2]})
    assert result.output["Error"] == "States.IntrinsicFailure"
    assert "out of range" in result.output["Cause"]


# ----------------------------------------------------------------------------------- Context object

def test_context_object_reaches_parameters_and_the_invoker():
    contexts: list[dict[str, Any]] = []
    parameters = {"ExecutionId.$": "$$.Execution.Id", "ExecutionName.$": "$$.Execution.Name",
                  "Machine.$": "$$.StateMachine.Name", "State.$": "$$.State.Name",
                  "Input.$": "$$.Execution.Input.week", "Started.$": "$$.Execution.StartTime"}
    state = {"Type": "Task", "Resource": LAMBDA, "Parameters": parameters, "End": True}
    machine = load_state_machine(one_state(state), name="weekly")
    result = machine.execute({"week": "2024-06-03"}, lambda r, p, c: contexts.append(c) or p,
                             execution_name="run-1")
    expected_id = "arn:aws:states:local:000000000000:execution:weekly:run-1"
    assert result.execution_id == expected_id
    assert {key: value for key, value in result.output.items() if key != "Started"} == {
        "ExecutionId": expected_id, "ExecutionName": "run-1", "Machine": "weekly", "State": "S",
        "Input": "2024-06-03"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", result.output["Started"])
    assert contexts[0]["Execution"]["Id"] == expected_id


def test_the_redrive_count_is_0_then_the_redrives_number():
    state = {"Type": "Pass", "Parameters": {"attempt.$": "$$.Execution.RedriveCount"}, "End": True}
    machine = load_state_machine(one_state(state))
    assert machine.execute({}, lambda r, p, c: p).output == {"attempt": 0}
    assert machine.execute({}, lambda r, p, c: p, redrive=Redrive("S", {}, count=2)).output == {"attempt": 2}


def test_input_that_is_not_json_fails_the_execution():
    with pytest.raises(ExecutionFailed) as failed:
        run(one_state(end_pass()), {"when": datetime.now()})
    assert (failed.value.error, failed.value.history) == ("States.Runtime", [])


def test_on_event_reports_each_start_and_end_in_order():
    events: list[StateEvent] = []
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": end_pass()}}
    run(definition, {}, on_event=events.append)
    assert [(event.name, event.status) for event in events] == [
        ("A", "started"), ("A", "succeeded"), ("B", "started"), ("B", "succeeded")]
    assert events[0].ended is None and events[1].ended >= events[1].started


# ------------------------------------------------------------------------------ ${Name} substitution

TEXT_DEFINITION = '{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${TrainFn}", "End": true}}}'


def test_substitutions_replace_placeholders_before_parsing():
    resources: list[str] = []
    machine = load_state_machine(TEXT_DEFINITION, {"TrainFn": "arn:aws:lambda:eu-west-1:1:function:train"})
    machine.execute({}, lambda resource, p, c: resources.append(resource), sleep=lambda s: None)
    assert resources == ["arn:aws:lambda:eu-west-1:1:function:train"]


def test_unknown_substitution_is_rejected_at_load():
    with pytest.raises(UnsupportedConstruct) as rejected:
        load_state_machine(TEXT_DEFINITION, {"Other": "x"})
    assert (rejected.value.state, rejected.value.field) == (None, "${TrainFn}")


def test_definition_file_is_substituted_and_named_after_the_file():
    calls: list[tuple[str, Any]] = []
    machine = load_state_machine(EXAMPLES / "substituted.asl.json",
                                 {"TrainFunctionArn": "arn:train", "DataBucket": "churn-data"})
    machine.execute({"week": 23}, lambda resource, p, c: calls.append((resource, p)))
    assert machine.name == "substituted"
    assert calls == [("arn:train", {"bucket": "churn-data", "week": 23})]


# -------------------------------------------------------------------------------- Load-time rejection

def task(**fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": LAMBDA, "End": True, **fields}


def map_state(processor_states: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    processor = {"StartAt": "Inner", "States": processor_states or {"Inner": end_pass()}}
    return {"Type": "Map", "ItemProcessor": processor, "End": True, **fields}


@pytest.mark.parametrize("definition, state, field", [
    (one_state({"Type": "Loop", "End": True}), "S", "Type"),
    (one_state(task(Bogus=1)), "S", "Bogus"),
    (one_state({"Type": "Pass", "Resource": LAMBDA, "End": True}), "S", "Resource"),
    ({**one_state(task()), "QueryLanguage": "JSONata"}, None, "QueryLanguage"),
    (one_state(task(QueryLanguage="JSONata")), "S", "QueryLanguage"),
    (one_state(task(Arguments={"a": "{% $states.input %}"})), "S", "Arguments"),
    (one_state({"Type": "Pass", "Next": "Nowhere"}), "S", "Next"),
    (one_state({"Type": "Pass"}), "S", "Next"),
    ({"StartAt": "Missing", "States": {"S": end_pass()}}, None, "StartAt"),
    (one_state(task(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Nowhere"}])), "S", "Catch[0].Next"),
    (one_state(task(Retry=[{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["E"]}])), "S", "Retry[0].ErrorEquals"),
    (one_state(task(Parameters={"x.$": "States.Nope($.a)"})), "S", "Parameters.x.$"),
    (one_state(task(Parameters={"x.$": "States.Format('{} {}', $.a)"})), "S", "Parameters.x.$"),
    (one_state(task(Parameters={"deep": {"x.$": "$.items[?(@.ok)]"}})), "S", "Parameters.deep.x.$"),
    (one_state(task(Parameters={"token.$": "$$.Task.Token"})), "S", "Parameters.token.$"),
    (one_state(task(Parameters={"index.$": "$$.Map.Item.Index"})), "S", "Parameters.index.$"),
    (one_state(task(InputPath="$..name")), "S", "InputPath"),
    (one_state(task(ResultPath="$.rows[*]")), "S", "ResultPath"),
    (one_state(task(Resource="arn:aws:states:::sqs:sendMessage.waitForTaskToken")), "S", "Resource"),
    (one_state({"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": True}), "S", "SecondsPath"),
    (one_state({"Type": "Choice", "Choices": [{"Variable": "$.a", "StringContains": "x", "Next": "S"}]}),
     "S", "Choices[0].StringContains"),
    (one_state({"Type": "Choice", "Choices": [{"Not": {"Variable": "$.a", "IsNull": True, "Next": "S"},
                                               "Next": "S"}]}), "S", "Choices[0].Not.Next"),
    (one_state({"Type": "Choice", "Choices": [{"Variable": "$.a", "TimestampEquals": "yesterday",
                                               "Next": "S"}]}), "S", "Choices[0].TimestampEquals"),
    (one_state(map_state(ItemReader={"Resource": "arn:aws:states:::s3:getObject"})), "S", "ItemReader"),
    (one_state(map_state(ToleratedFailurePercentage=5)), "S", "ToleratedFailurePercentage"),
    (one_state(map_state({"Inner": {"Type": "Pass", "End": True, "Bogus": 1}})), "Inner", "Bogus"),
    (one_state(map_state({"Other": end_pass()})), "S", "ItemProcessor.StartAt"),
    ({"StartAt": "S", "States": {"S": end_pass(), "Orphan": end_pass()}}, "Orphan", "States"),
])
def test_unsupported_or_invalid_constructs_are_rejected_at_load(definition, state, field):
    rejected = rejection(definition)
    assert (rejected.state, rejected.field) == (state, field)


def distributed_map(**fields: Any) -> dict[str, Any]:
    processor = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "Inner",
                 "States": {"Inner": {"Type": "Task", "Resource": LAMBDA, "End": True}}}
    return {"Type": "Map", "ItemProcessor": processor, "End": True, **fields}


ITEM_READER = {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
               "Parameters": {"Bucket.$": "$.bucket", "Key": "items.json"}}
RESULT_WRITER = {"Resource": "arn:aws:states:::s3:putObject",
                 "Parameters": {"Bucket.$": "$.bucket", "Prefix": "results/"}}


def test_a_distributed_map_reads_its_items_from_s3_and_writes_its_results_there():
    bucket: dict[str, str] = {"items.json": "[1, 2, 3]"}

    def invoke(resource, parameters, context):
        if resource == ITEM_READER["Resource"]:
            return {"Body": bucket[parameters["Key"]]}
        if resource == RESULT_WRITER["Resource"]:
            bucket[parameters["Key"]] = parameters["Body"]
            return {}
        return {"double": parameters["n"] * 2, "from": parameters["bucket"]}

    state = distributed_map(ItemReader=ITEM_READER, ResultWriter=RESULT_WRITER, ToleratedFailurePercentage=0,
                            ItemSelector={"n.$": "$$.Map.Item.Value", "bucket.$": "$.bucket"})
    output = load_state_machine(one_state(state)).execute({"bucket": "b"}, invoke).output

    manifest_key = output["ResultWriterDetails"]["Key"]
    assert output["ResultWriterDetails"]["Bucket"] == "b" and manifest_key.startswith("results/")
    (results_file,) = json.loads(bucket[manifest_key])["ResultFiles"]["SUCCEEDED"]
    assert [json.loads(result["Output"]) for result in json.loads(bucket[results_file["Key"]])] == [
        {"double": 2, "from": "b"}, {"double": 4, "from": "b"}, {"double": 6, "from": "b"}]
    assert ":mapRun:" in output["MapRunArn"]


def test_an_item_reader_object_that_is_not_a_json_array_fails_the_map_naming_it():
    def invoke(resource, parameters, context):
        return {"Body": '{"not": "a list"}'}

    machine = load_state_machine(one_state(distributed_map(ItemReader=ITEM_READER)))
    with pytest.raises(ExecutionFailed) as failed:
        machine.execute({"bucket": "b"}, invoke)
    assert failed.value.error == "States.Runtime" and "s3://b/items.json must hold an array" in failed.value.cause


@pytest.mark.parametrize("fields, field", [
    ({"ToleratedFailurePercentage": 5}, "ToleratedFailurePercentage"),
    ({"ItemReader": {**ITEM_READER, "ReaderConfig": {"InputType": "CSV"}}}, "ReaderConfig.InputType"),
    ({"ItemReader": ITEM_READER, "ItemsPath": "$.items"}, "ItemsPath"),
    ({"ResultWriter": {**RESULT_WRITER, "Resource": "arn:aws:states:::s3:listObjectsV2"}}, "ResultWriter.Resource"),
])
def test_what_a_distributed_map_cannot_do_locally_is_refused_at_load(fields, field):
    rejected = rejection(one_state(distributed_map(**fields)))
    assert rejected.field.endswith(field.rsplit(".", 1)[-1])


def test_rejection_inside_a_map_names_where_the_state_lives():
    rejected = rejection(one_state(map_state({"Inner": {"Type": "Pass", "End": True, "Bogus": 1}})))
    assert "inside S.ItemProcessor" in str(rejected)
    assert str(rejected).startswith("state 'Inner', field 'Bogus': unknown field")


def test_a_redrive_continues_from_the_failed_state_with_its_input():
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:a", "ResultPath": "$.a", "Next": "B"},
        "B": {"Type": "Task", "Resource": "arn:b", "ResultPath": "$.b", "End": True}}}
    calls = []

    def invoke(resource, parameters, context):
        calls.append((resource, parameters, context["Execution"]["Input"]))
        return resource

    machine = load_state_machine(definition)
    result = machine.execute({"x": 1}, invoke, redrive=Redrive("B", {"x": 1, "a": "arn:a"}))
    assert result.output == {"x": 1, "a": "arn:a", "b": "arn:b"}
    assert calls == [("arn:b", {"x": 1, "a": "arn:a"}, {"x": 1})]  # A is not run again; the input stays the original
    with pytest.raises(ValueError, match="no such top-level state"):
        machine.execute({}, invoke, redrive=Redrive("Nope", {}))
