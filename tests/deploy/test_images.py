"""What each image carries, rebuilt from its Dockerfile: production code only, and all that its handlers or
entrypoints import. No Docker here, so each image's files are copied into a folder as its COPY lines say, and its
handlers are imported there by a Python that sees only the packages the image's pip install would bring."""
from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from local_runtime.launcher import TASK_FAMILIES
from pipeline.core.settings import REPO_ROOT

PROJECT = "engagement-pipeline"
PRODUCTION_ROOTS = ("pipeline", "lambdas", "containers")
NEVER_SHIPPED = ("local_runtime", "tools", "tests")
# Wings of pipeline/ that only the CLI runs, on the user's machine: landing validates and lands with --target aws too.
CLI_ONLY_WINGS = ("landing",)
SHIPPED_WINGS = tuple(f"pipeline/{folder.name}/" for folder in sorted((REPO_ROOT / "pipeline").iterdir())
                      if (folder / "__init__.py").is_file() and folder.name not in CLI_ONLY_WINGS)
API_HANDLER = "lambdas.api.app"
# name -> (Dockerfile, build target (None: the last stage), the modules it runs)
IMAGES = {
    "lambda": (REPO_ROOT / "lambdas" / "Dockerfile", None,
               [f"lambdas.{path.parent.name}.app" for path in sorted((REPO_ROOT / "lambdas").glob("*/app.py"))
                if f"lambdas.{path.parent.name}.app" != API_HANDLER]),
    "api": (REPO_ROOT / "lambdas" / "Dockerfile", "api", [API_HANDLER]),
    "task": (REPO_ROOT / "containers" / "Dockerfile", None,
             [f"containers.{family}.entrypoint" for family in TASK_FAMILIES.values()]),
}
# Imported in the image's Python: every module given, then the services a Lambda or task builds on AWS, then what
# the production modules so loaded import inside their functions (an entrypoint imports its stage when it has its
# run, the Athena adapter awswrangler at its first query), until nothing new is loaded.
SANDBOX_SCRIPT = """
import ast, importlib, importlib.abc, json, os, sys
image_root, blocked, modules = sys.argv[1], set(json.loads(sys.argv[2])), json.loads(sys.argv[3])

class NotInTheImage(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r} in this image", name=name)
        return None

sys.meta_path.insert(0, NotInTheImage())
sys.path.insert(0, image_root)
os.environ.update(PIPELINE_BUCKET="churn-data", AWS_DEFAULT_REGION="eu-west-1")
for module in modules:
    importlib.import_module(module)
from pipeline.edge.host import current_services
current_services()

def imported_in_functions(path):
    functions = [node for node in ast.walk(ast.parse(open(path).read()))
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for node in (inner for function in functions for inner in ast.walk(function)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module

done = set()
while pending := {name for name, module in list(sys.modules.items()) if name not in done
                  and name.partition(".")[0] in ("pipeline", "lambdas", "containers")
                  and (getattr(module, "__file__", None) or "").startswith(image_root)}:
    for name in sorted(pending):
        done.add(name)
        for imported in imported_in_functions(sys.modules[name].__file__):
            importlib.import_module(imported)
loaded = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
print(json.dumps(loaded))
"""


def dockerfile_lines(dockerfile: Path, target: str | None = None) -> list[str]:
    """The instructions that build `target` (None: the last stage), its base stages' first, with their continuation
    lines joined, comments dropped."""
    text = re.sub(r"\\\n", "", dockerfile.read_text())
    stages: dict[str, tuple[str, list[str]]] = {}  # name -> (what it is FROM, its instructions)
    for line in (line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")):
        if line.startswith("FROM "):
            words = line.split()
            name = words[3] if len(words) > 3 else str(len(stages))
            stages[name] = (words[1], [])
        stages[name][1].append(line)
    name = target or name
    lines = []
    while name in stages:
        parent, instructions = stages[name]
        lines, name = instructions + lines, parent
    return lines


def copied_files(dockerfile: Path, target: str | None) -> set[str]:
    """The files the COPY lines put in the image, relative to its WORKDIR (the build context is the repo)."""
    files = set()
    for line in dockerfile_lines(dockerfile, target):
        if line.startswith("COPY "):
            *sources, destination = line.split()[1:]
            for source in sources:
                path = REPO_ROOT / source
                found = [path] if path.is_file() else [item for item in path.rglob("*") if item.is_file()]
                files |= {str(Path(destination) / item.relative_to(path)) if path.is_dir()
                          else str(Path(destination) / item.name) if destination.endswith("/") else destination
                          for item in found if "__pycache__" not in item.parts}
    return files


def installed_requirements(dockerfile: Path, target: str | None) -> list[Requirement]:
    """What the image's `pip install` lines install: the requirement list the first one prints, plus named ones."""
    first, *more = [line for line in dockerfile_lines(dockerfile, target) if "pip install" in line]
    printer = re.search(r'python -c "(.*?)"\s*> /tmp/requirements.txt', first).group(1)
    printed = subprocess.run([sys.executable, "-c", printer], cwd=REPO_ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    named = re.search(r"-r /tmp/requirements.txt(.*?)(&&|$)", first).group(1).split()
    for line in more:  # pip install [--no-cache-dir] -c constraints.txt NAME...
        named += re.search(r"-c constraints.txt(.*?)(&&|$)", line).group(1).split()
    return [Requirement(text) for text in printed + named]


def distribution_closure(requirements: list[Requirement]) -> tuple[set[str], set[str]]:
    """Every distribution that installing `requirements` brings, read from this environment's metadata, and the
    ones this environment does not have (so cannot follow)."""
    found, missing, pending = set(), set(), [(requirement, ()) for requirement in requirements]
    while pending:
        requirement, extras = pending.pop()
        name = canonicalize_name(requirement.name)
        if requirement.marker and not any(requirement.marker.evaluate({"extra": extra}) for extra in extras or ("",)):
            continue
        if name in found:
            continue
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            missing.add(name)
            continue
        found.add(name)
        pending += [(Requirement(text), tuple(requirement.extras)) for text in distribution.requires or []]
    return found, missing


def modules_not_in_image(installed: set[str]) -> set[str]:
    """Top-level modules of this environment that the image would not have."""
    blocked = set(NEVER_SHIPPED)
    for module, distributions in importlib.metadata.packages_distributions().items():
        names = {canonicalize_name(name) for name in distributions}
        if PROJECT not in names and not names & installed:
            blocked.add(module)
    return blocked


def build_image(name: str, root: Path) -> dict:
    dockerfile, target, entrypoints = IMAGES[name]
    files = copied_files(dockerfile, target)
    for file in files:
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / file, root / file)
    installed, not_here = distribution_closure(installed_requirements(dockerfile, target))
    return {"name": name, "root": root, "files": files, "installed": installed, "not_here": not_here,
            "blocked": modules_not_in_image(installed), "entrypoints": entrypoints}


@pytest.fixture(scope="module")
def lambda_image(tmp_path_factory) -> dict:
    return build_image("lambda", tmp_path_factory.mktemp("lambda"))


@pytest.fixture(scope="module")
def api_image(tmp_path_factory) -> dict:
    return build_image("api", tmp_path_factory.mktemp("api"))


@pytest.fixture(scope="module")
def task_image(tmp_path_factory) -> dict:
    return build_image("task", tmp_path_factory.mktemp("task"))


@pytest.fixture(params=sorted(IMAGES))
def image(request) -> dict:
    return request.getfixturevalue(f"{request.param}_image")


def import_in_image(image: dict, modules: list[str]) -> dict[str, str | None]:
    result = subprocess.run([sys.executable, "-I", "-c", SANDBOX_SCRIPT, str(image["root"]),
                             json.dumps(sorted(image["blocked"])), json.dumps(modules)],
                            capture_output=True, text=True)
    assert result.returncode == 0, f"{image['name']} image: {result.stderr[-3000:]}"
    return json.loads(result.stdout)


def test_the_image_copies_production_code_and_nothing_else(image):
    tops = {Path(file).parts[0] for file in image["files"]}
    assert tops == {"pyproject.toml", "constraints.txt", "pipeline", "athena_sql", "glue",
                    "containers" if image["name"] == "task" else "lambdas"}
    assert not tops & set(NEVER_SHIPPED)


def test_the_images_leave_out_the_wings_only_the_cli_runs(image):
    shipped = {Path(file).parts[1] for file in image["files"] if Path(file).parts[0] == "pipeline"}
    assert not shipped & set(CLI_ONLY_WINGS)
    assert {wing.split("/")[1] for wing in SHIPPED_WINGS} <= shipped


@pytest.mark.slow
def test_every_handler_and_entrypoint_imports_from_the_image_alone(image):
    loaded = import_in_image(image, [*image["entrypoints"], "pipeline.aws"])
    ours = {name: file for name, file in loaded.items() if name.partition(".")[0] in PRODUCTION_ROOTS and file}
    assert set(image["entrypoints"]) <= set(loaded)
    outside = {name: file for name, file in ours.items() if not file.startswith(str(image["root"]))}
    assert not outside, f"loaded from outside the image: {outside}"
    assert not {name for name in loaded if name.partition(".")[0] in NEVER_SHIPPED}


@pytest.mark.slow
def test_an_import_deferred_into_a_function_is_checked_too(tmp_path):
    """A handler that imports what its image lacks only when it works is caught as if it imported it at the top."""
    image = build_image("lambda", tmp_path)
    (image["root"] / "lambdas" / "deferring.py").write_text("def handler():\n    import xgboost\n")
    with pytest.raises(AssertionError, match="No module named 'xgboost' in this image"):
        import_in_image(image, ["lambdas.deferring"])


def test_only_the_lambda_runtime_client_is_pinned_outside_the_project(lambda_image, api_image, task_image):
    """Everything else an image installs is in this environment, so the import checks see all of it."""
    assert lambda_image["not_here"] == api_image["not_here"] == {"awslambdaric", "simplejson", "snapshot-restore-py"}
    assert task_image["not_here"] == set()


def test_the_lambda_image_installs_no_machine_learning_libraries(lambda_image, api_image, task_image):
    assert not lambda_image["installed"] & {"xgboost-cpu", "scikit-learn", "scipy"}
    assert {"xgboost-cpu", "scikit-learn", "scipy"} <= task_image["installed"]  # the check sees them when there
    # The API's scores what-if rows: XGBoost, without scikit-learn (which XGBoost would import on every cold start)
    assert "xgboost-cpu" in api_image["installed"] and "scikit-learn" not in api_image["installed"]
    for image in (lambda_image, api_image, task_image):
        assert not image["installed"] & {"duckdb", "rich", "typer", "openai"}  # local runtime and tools only
        assert {"pandas", "pyarrow", "boto3", "awswrangler", "pydantic", "sqlglot"} <= image["installed"]


@pytest.mark.slow
def test_every_production_module_imports_in_the_task_image(task_image):
    """Training and inference need all of pipeline/; the Lambda image, without xgboost, needs less."""
    modules = [".".join(path.relative_to(task_image["root"]).with_suffix("").parts).removesuffix(".__init__")
               for path in (task_image["root"] / "pipeline").rglob("*.py")]
    loaded = import_in_image(task_image, modules)
    assert set(modules) <= set(loaded)


def production_sources() -> list[Path]:
    return sorted(path for root in PRODUCTION_ROOTS for path in (REPO_ROOT / root).rglob("*.py"))


@pytest.mark.parametrize("path", production_sources(), ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_production_code_never_names_the_local_runtime_or_the_tools(path):
    """Neither an import nor a module name in a string (importlib, runpy) reaches outside production."""
    tree = ast.parse(path.read_text())
    named = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module]
    named += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    named += [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
              and re.fullmatch(r"[a-z_]+(\.[a-z_]+)*", node.value)]
    assert not [name for name in named if name.partition(".")[0] in ("local_runtime", "tools")]


def test_the_boundary_check_catches_an_import_of_the_local_runtime(tmp_path):
    """The check above can fail: a production file that imports the launcher is caught."""
    offender = tmp_path / "offender.py"
    offender.write_text("from local_runtime.launcher import execute_locally\n")
    with pytest.raises(AssertionError):
        test_production_code_never_names_the_local_runtime_or_the_tools(offender)
