"""The house's shape, read from the imports of every module (function-local ones too): no import cycle, nothing
imports upward, no stage imports another stage, and the tools' groups borrow from each other only where a reason
is written down. Each rule is also shown to fail on a graph that breaks it."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pipeline.core.settings import REPO_ROOT

ROOMS = ("pipeline", "local_runtime", "tools", "lambdas", "containers")
# A room imports only the rooms listed for it (the entrypoints are loaded by the local runtime by name, not import).
ROOM_IMPORTS = {"pipeline": set(), "lambdas": {"pipeline"}, "containers": {"pipeline"},
                "local_runtime": {"pipeline"}, "tools": {"pipeline", "local_runtime"}}
# pipeline/'s wings along the data's path: a wing imports only the wings before it.
WINGS = ("core", "warehouse", "execution", "landing", "model", "results", "serving", "assistant", "stages", "aws",
         "edge")
# The tools' groups, and whom each may borrow from, with the reason.
TOOL_GROUPS = {
    "cli": {"aws",         # --target aws: executions and the stack's outputs
            "synthetic"},  # `generate` lands the synthetic panel
    "aws": set(),
    "bench": {"aws",       # the cost and the projection size tasks as template.yaml does
              "synthetic"},  # bench-events writes the sparse-purchase world's event log
    "synthetic": set(),
    "research": {"synthetic",   # the observable ceiling filters the generator's own hidden chain
                 "bench"},      # the studies run weeks in a data directory of their own, and the row-cap
                                # study reads each Training task's log, as the bench does
}

Graph = dict[str, set[str]]  # module -> the project modules it imports


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts).removesuffix(".__init__")


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The project modules a file imports: `from a.b import c` counts a.b.c if that is a module, else a.b."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in known else node.module
                      for alias in node.names}
    return {name for name in found if name in known}


def project_graph() -> Graph:
    paths = [path for room in ROOMS for path in (REPO_ROOT / room).rglob("*.py")]
    known = {module_name(path) for path in paths}
    return {module_name(path): imported_modules(path, known) - {module_name(path)} for path in paths}


def cycles(graph: Graph) -> list[list[str]]:
    """One cycle through each module that lies on one (depth-first, three colours)."""
    found, state, stack = [], {}, []

    def visit(module: str) -> None:
        state[module], _ = "open", stack.append(module)
        for imported in sorted(graph.get(module, ())):
            if state.get(imported) == "open":
                found.append(stack[stack.index(imported):] + [imported])
            elif imported not in state:
                visit(imported)
        state[module], _ = "done", stack.pop()

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return found


def part(module: str, depth: int) -> str:
    parts = module.split(".")
    return parts[depth] if len(parts) > depth else ""


def room_violations(graph: Graph) -> list[str]:
    return [f"{module} imports {imported}" for module, imports in graph.items() for imported in imports
            if part(imported, 0) != part(module, 0) and part(imported, 0) not in ROOM_IMPORTS[part(module, 0)]]


def upward_imports(graph: Graph) -> list[str]:
    """Imports of a wing of pipeline/ from a wing after it (or from a folder that is not a wing)."""
    def rank(module: str) -> int:
        wing = part(module, 1)
        return WINGS.index(wing) if wing in WINGS else len(WINGS)

    return [f"{module} ({part(module, 1)}) imports {imported} ({part(imported, 1)})"
            for module, imports in graph.items() if part(module, 0) == "pipeline" and part(module, 1)
            for imported in imports if part(imported, 0) == "pipeline" and rank(imported) > rank(module)]


def stage_to_stage_imports(graph: Graph) -> list[str]:
    def is_stage(module: str) -> bool:
        return module.startswith("pipeline.stages.")

    return [f"{module} imports {imported}" for module, imports in graph.items() if is_stage(module)
            for imported in imports if is_stage(imported) and imported != module]


def borrowed_from_stages(graph: Graph) -> list[str]:
    """A stage is called through its handler or entrypoint, never borrowed from by the local runtime or the tools."""
    return [f"{module} imports {imported}" for module, imports in graph.items()
            if part(module, 0) in ("tools", "local_runtime")
            for imported in imports if imported.startswith("pipeline.stages.")]


def sideways_tool_imports(graph: Graph) -> list[str]:
    return [f"{module} ({part(module, 1)}) imports {imported} ({part(imported, 1)})"
            for module, imports in graph.items() if part(module, 0) == "tools"
            for imported in imports if part(imported, 0) == "tools" and part(imported, 1) != part(module, 1)
            and part(imported, 1) not in TOOL_GROUPS.get(part(module, 1), set())]


def test_every_module_is_in_a_room_wing_or_group():
    graph = project_graph()
    assert not [module for module in graph if part(module, 0) == "pipeline" and module != "pipeline"
                and part(module, 1) not in WINGS]
    assert not [module for module in graph if part(module, 0) == "tools" and module != "tools"
                and part(module, 1) not in TOOL_GROUPS]


@pytest.mark.parametrize("rule", [cycles, room_violations, upward_imports, stage_to_stage_imports,
                                  borrowed_from_stages, sideways_tool_imports], ids=lambda rule: rule.__name__)
def test_the_project_keeps_the_rule(rule):
    assert rule(project_graph()) == []


def test_the_stages_import_the_wings_they_stand_on():
    """The graph is read at all: a stage that imports nothing would pass every rule above."""
    graph = project_graph()
    assert "pipeline.model.scorer" in graph["pipeline.stages.inference"]
    assert "pipeline.results.report" in graph["pipeline.stages.publish"]


BROKEN = {
    "pipeline.stages.training": {"pipeline.stages.inference"},  # a stage borrowing from another
    "pipeline.stages.inference": {"pipeline.model.scorer"},
    "pipeline.core.errors": {"pipeline.model.features"},  # the floor importing a wing above it
    "pipeline.model.features": {"pipeline.model.drift"},
    "pipeline.model.drift": {"pipeline.model.features"},  # a cycle
    "pipeline.model.scorer": {"local_runtime.host"},  # shipped code reaching the local runtime
    "local_runtime.host": set(),
    "tools.bench.measure": {"tools.cli.app"},  # a tool borrowing sideways without a reason
    "tools.cli.app": set(),
    "tools.bench.projection": {"pipeline.stages.prepare_data"},  # a tool borrowing a stage's constant
    "pipeline.stages.prepare_data": set(),
}


@pytest.mark.parametrize("rule, expected", [
    (stage_to_stage_imports, ["pipeline.stages.training imports pipeline.stages.inference"]),
    (upward_imports, ["pipeline.core.errors (core) imports pipeline.model.features (model)"]),
    (cycles, [["pipeline.model.features", "pipeline.model.drift", "pipeline.model.features"]]),
    (room_violations, ["pipeline.model.scorer imports local_runtime.host"]),
    (sideways_tool_imports, ["tools.bench.measure (bench) imports tools.cli.app (cli)"]),
    (borrowed_from_stages, ["tools.bench.projection imports pipeline.stages.prepare_data"]),
], ids=lambda value: getattr(value, "__name__", ""))
def test_each_rule_fails_on_a_graph_that_breaks_it(rule, expected):
    assert rule(BROKEN) == expected
