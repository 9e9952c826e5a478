"""The example queries of the README and the docs/ pages, run as typed (locally) after a run of the default weeks:
each answers with rows."""
import re
import shlex
from pathlib import Path

from pipeline.core.settings import REPO_ROOT
from tools.cli.app import main
from tools.synthetic.panel import land_synthetic_panel

COMMAND = ".venv/bin/engagement-pipeline "


def documented_pages() -> list[Path]:
    """README.md, then every docs/*.md page."""
    return [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]


def documented_queries() -> list[list[str]]:
    """Each `engagement-pipeline query …` of the bash blocks of the README and the docs/ pages, as its arguments
    (multi-line ones joined); those with --target aws are left out."""
    blocks = [block for page in documented_pages()
              for block in re.findall(r"```bash\n(.*?)```", page.read_text(), re.DOTALL)]
    commands = []
    for block in blocks:
        for command in re.split(rf"\n(?={re.escape(COMMAND)})", block.strip()):
            if command.startswith(f"{COMMAND}query ") and "--target aws" not in command:
                commands.append(shlex.split(command.removeprefix(COMMAND)))
    return commands


def test_the_readme_example_queries_run_as_typed_and_answer(services, capsys):
    land_synthetic_panel(services, 1500, 12, seed=7, if_missing=False)  # make run's weeks, fewer customers
    assert main(["run"]) == 0
    capsys.readouterr()
    queries = documented_queries()
    assert len(queries) >= 4
    for arguments in queries:
        assert main(arguments) == 0, arguments
        assert answer_rows(capsys.readouterr().out, arguments), arguments


def answer_rows(out: str, arguments: list[str]) -> list[str]:
    """The answer's data rows: CSV lines after the header, or the table's body lines (its header is drawn in ┃)."""
    lines = out.strip().splitlines()
    return lines[1:] if "csv" in arguments else [line for line in lines if line.startswith("│")]
