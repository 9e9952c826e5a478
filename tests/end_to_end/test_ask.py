"""`engagement-pipeline ask` after real runs: an answer printed with its SQL and rows, the exits (answered 0, not
answered 1, no model 2), and `--eval` over the shipped gold questions, proven to grade right and wrong SQL."""
import json
import shutil

import pytest

from local_runtime.host import install_local_host
from pipeline.core.settings import REPO_ROOT
from tests.end_to_end.published_weeks import published_panel
from tests.pipeline.assistant.scripted_models import oracle_server
from tools.cli.app import main
from tools.cli.ask_eval import KINDS, read_questions

QUESTIONS = REPO_ROOT / "athena_sql" / "assistant" / "questions.jsonl"
GOLD = {question.question: question.sql for question in read_questions(QUESTIONS)}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def published_home(tmp_path_factory):
    """Ten landed weeks, weeks 8 and 9 published (so week-on-week questions have a week before)."""
    return published_panel(tmp_path_factory.mktemp("ask") / "home", 1500, 10, seed=7, run_weeks=(8, 9))


@pytest.fixture
def published(published_home, home, monkeypatch):
    shutil.copytree(published_home, home)
    for name in ("ASSISTANT_BASE_URL", "ASSISTANT_MODEL", "BEDROCK_MODEL_ID"):
        monkeypatch.delenv(name, raising=False)
    return install_local_host()


def use_model(monkeypatch, server) -> None:
    monkeypatch.setenv("ASSISTANT_BASE_URL", server.base_url)
    monkeypatch.setenv("ASSISTANT_MODEL", "scripted")


def test_the_gold_questions_cover_every_kind():
    questions = read_questions(QUESTIONS)
    assert len(questions) >= 40 and {question.kind for question in questions} == set(KINDS)
    assert len(GOLD) == len(questions)  # no question asked twice


def test_a_question_is_answered_with_its_sql_and_rows(published, monkeypatch, capsys):
    with oracle_server(GOLD.get, "1,500 customers were scored this week.") as server:
        use_model(monkeypatch, server)
        assert main(["ask", "How many customers were scored this week?"]) == 0
    out = capsys.readouterr().out
    assert "1,500 customers were scored this week." in out and "1500" in out
    assert "SQL: SELECT COUNT(*) AS customers FROM engagement.predictions WHERE run_date = (SELECT MAX(run_date) " \
           "FROM engagement.predictions) LIMIT 1000" in out


def test_an_unanswered_question_exits_1_and_no_model_exits_2(published, monkeypatch, capsys):
    with oracle_server(lambda question: "DELETE FROM engagement.predictions") as server:
        use_model(monkeypatch, server)
        assert main(["ask", "--json", "Delete the predictions"]) == 1
    answer = json.loads(capsys.readouterr().out)
    assert not answer["answered"] and answer["attempts"][0]["rule"] == "select_only"
    monkeypatch.delenv("ASSISTANT_BASE_URL")
    assert main(["ask", "How many customers?"]) == 2
    assert "no model is configured" in capsys.readouterr().err


def test_eval_grades_a_model_that_answers_gold_sql_100_percent(published, monkeypatch, capsys):
    with oracle_server(GOLD.get) as server:
        use_model(monkeypatch, server)
        assert main(["ask", "--eval", str(QUESTIONS), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["right"] == result["questions"] == len(GOLD) and result["misses"] == []
    assert set(result["by_kind"]) == set(KINDS)


def test_eval_fails_a_model_that_answers_wrong_sql_and_lists_each_miss(published, monkeypatch, capsys):
    wrong = "SELECT 'no answer' AS answer FROM engagement.runs LIMIT 1"
    with oracle_server(lambda question: wrong) as server:
        use_model(monkeypatch, server)
        assert main(["ask", "--eval", str(QUESTIONS)]) == 0
    out = capsys.readouterr().out
    assert f"│ all          │ 0     │ {len(GOLD)}        │ 0.0%" in out
    assert out.count("\nmiss (") == len(GOLD) and f"assistant: {wrong}" in out
    first = read_questions(QUESTIONS)[0]
    assert f"gold:      {first.sql}" in out
