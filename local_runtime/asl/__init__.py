"""A local executor for Amazon States Language (Step Functions) definitions, JSONPath flavour.

    machine = load_state_machine(Path("statemachine/weekly.asl.json"), {"TrainFunctionArn": "..."})
    result = machine.execute({"week": "2024-06-03"}, invoke_task)

Everything is validated at load time (UnsupportedConstruct names the state and field); an execution ends
with ExecutionResult or raises ExecutionFailed carrying the ASL error, cause and history.
"""
from local_runtime.asl.errors import AslError, ExecutionFailed, TaskFailed, UnsupportedConstruct
from local_runtime.asl.events import ExecutionResult, StateEvent
from local_runtime.asl.executor import Redrive, StateMachine, TaskInvoker, load_state_machine

__all__ = [
    "AslError",
    "ExecutionFailed",
    "ExecutionResult",
    "Redrive",
    "StateEvent",
    "StateMachine",
    "TaskFailed",
    "TaskInvoker",
    "UnsupportedConstruct",
    "load_state_machine",
]
