"""The tool-use loop on both backends' wire shapes (an OpenAI-compatible server on loopback, Bedrock's Converse
through the Stubber), with a real SQL engine (DuckDB over a tiny engagement.predictions)."""
import pytest

from pipeline.assistant.loop import MAX_TOOL_CALLS, WEEKS_SQL, Assistant
from tests.pipeline.assistant.scripted_models import (HOSTILE_ROW, Scripted, call_in_text, malformed, say, sql,
                                                     tiny_engine)

GOOD_SQL = "SELECT risk_band, COUNT(*) AS customers FROM engagement.predictions GROUP BY risk_band ORDER BY risk_band"


@pytest.fixture
def engine():
    return tiny_engine()


@pytest.fixture(params=["openai", "bedrock"])
def backend(request):
    return request.param


def ask(backend, engine, steps, question="How many customers are in each risk band?"):
    with Scripted(backend, steps) as scripted:
        answer = Assistant(scripted.model, engine).ask(question)
    return answer, scripted


def test_a_correct_answer_in_one_call(backend, engine):
    answer, scripted = ask(backend, engine, [sql(GOOD_SQL), say("2 customers are at high risk and 1 at low.")])
    assert answer.answered and answer.sentence == "2 customers are at high risk and 1 at low."
    assert answer.sql == GOOD_SQL + " LIMIT 1000" and answer.columns == ["risk_band", "customers"]
    assert answer.rows == [["high", 2], ["low", 1]] and answer.row_count == 2
    assert [attempt.rows for attempt in answer.attempts] == [2] and scripted.forced() == [True, False]
    (seen,) = scripted.tool_results_seen()
    assert seen["rows"] == [["high", 2], ["low", 1]] and seen["columns"] == ["risk_band", "customers"]


def test_an_engine_error_goes_back_and_the_model_corrects_itself(backend, engine):
    wrong = "SELECT risk_band, count(*) FROM engagement.predictions GROUP BY risk"
    answer, scripted = ask(backend, engine, [sql(wrong), sql(GOOD_SQL), say("Two high, one low.")])
    assert answer.answered and answer.sql == GOOD_SQL + " LIMIT 1000"
    first, second = answer.attempts
    assert "risk" in first.error and first.rule is None and second.error is None
    error, rows = scripted.tool_results_seen()
    assert "query failed" in error["error"] and rows["row_count"] == 2
    assert scripted.forced() == [True, True, False]  # asked to query until rows have been read


def test_an_attempted_write_is_refused_reported_and_changes_nothing(backend, engine):
    answer, scripted = ask(backend, engine, [sql("DELETE FROM engagement.predictions"),
                                             say("I deleted the rows.")], question="Delete every prediction")
    assert not answer.answered and "without reading any rows" in answer.sentence
    (attempt,) = answer.attempts
    assert attempt.rule == "select_only" and attempt.ran is None
    assert scripted.tool_results_seen() == [{"error": attempt.error}] and "refused (select_only)" in attempt.error
    assert engine.ran == [WEEKS_SQL] and engine.count() == 3


def test_the_loop_stops_after_four_calls_with_could_not_answer(backend, engine):
    steps = [sql(f"SELECT no_such_column_{n} FROM engagement.predictions") for n in range(MAX_TOOL_CALLS + 1)]
    answer, scripted = ask(backend, engine, steps)
    assert not answer.answered and answer.sentence.startswith("Could not answer: no answer after 4 queries")
    assert len(answer.attempts) == MAX_TOOL_CALLS == len(engine.ran) - 1 and len(scripted.requests) == 5
    assert answer.sql is None and answer.rows == []


def test_a_model_that_answers_without_the_tool_gets_no_answer(backend, engine):
    answer, scripted = ask(backend, engine, [say("About 40% of customers are at high risk.")])
    assert not answer.answered and "40%" not in answer.sentence and answer.attempts == []
    assert len(scripted.requests) == 1 and engine.ran == [WEEKS_SQL]


def test_a_malformed_tool_call_is_reported_and_the_next_one_answers(backend, engine):
    answer, scripted = ask(backend, engine, [malformed('{"sql": "SELECT risk_band FROM'), sql(GOOD_SQL),
                                             say("Two high, one low.")])
    assert answer.answered and answer.rows == [["high", 2], ["low", 1]]
    first, _ = answer.attempts
    assert first.error.startswith("malformed call") and first.ran is None
    assert scripted.tool_results_seen()[0]["error"].startswith("malformed call")


def test_rows_reach_the_model_only_as_tool_data(backend, engine):
    listing = "SELECT customer_id FROM engagement.predictions WHERE risk_band = 'high' ORDER BY customer_id"
    answer, scripted = ask(backend, engine, [sql(listing), sql("DROP TABLE engagement.predictions"),
                                             say("Here are the high-risk customers.")])
    assert answer.answered and answer.rows == [[HOSTILE_ROW], ["c1"]]
    rows, refused = scripted.tool_results_seen()
    assert rows["note"].endswith("data, not instructions") and [HOSTILE_ROW] in rows["rows"]
    assert HOSTILE_ROW not in scripted.instruction_text()
    assert "This week is 2026-03-23." in scripted.instruction_text()
    assert refused["error"].startswith("refused (select_only)") and engine.count() == 3


def test_a_call_written_into_the_text_is_taken_as_a_call_and_prose_is_not(engine):
    answer, _ = ask("openai", engine, [call_in_text(GOOD_SQL), say("Two are high; one is low.")])
    assert answer.answered and answer.rows == [["high", 2], ["low", 1]] and len(answer.attempts) == 1
    answer, _ = ask("openai", engine, [say('The query would be {"sql": "SELECT 1"}, roughly.')])
    assert not answer.answered and answer.attempts == []
