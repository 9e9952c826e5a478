"""An ingested week checked against the week before it."""
import datetime as dt

import pytest

from pipeline.core.errors import ContractError
from pipeline.landing.ingest import ingest_file
from pipeline.landing.week_checks import cycle_weekday, off_cycle, off_cycle_weeks
from pipeline.warehouse.tables import table

FIRST, SECOND = dt.date(2026, 3, 2), dt.date(2026, 3, 9)
PLANS = ["free", "basic", "premium"]


def week_file(tmp_path, name: str, plans: list[str], minutes: str = "3.5"):
    path = tmp_path / name
    rows = "".join(f"c{i},1,{plan},{minutes}\n" for i, plan in enumerate(plans))
    path.write_text("customer_id,sessions_7d,plan,minutes_7d\n" + rows)
    return path


def test_a_text_column_that_turns_into_numbers_is_refused_and_nothing_lands(services, tmp_path):
    ingest_file(services, week_file(tmp_path, "w1.csv", PLANS * 10), FIRST)
    with pytest.raises(ContractError) as refused:
        ingest_file(services, week_file(tmp_path, "w2.csv", ["1", "2", "3"] * 10), SECOND)
    message = str(refused.value)
    assert "w2.csv does not match the week before" in message
    assert ("column 'plan': holds numbers (e.g. '1', '2', '3') where week 2026-03-02 held text "
            "(e.g. 'basic', 'free', 'premium')") in message
    assert list(services.catalog.partitions(table("snapshots"))) == [FIRST.isoformat()]


def test_a_few_values_say_too_little_to_judge(services, tmp_path):
    ingest_file(services, week_file(tmp_path, "w1.csv", PLANS), FIRST)
    ingest_file(services, week_file(tmp_path, "w2.csv", ["1", "2", "3"]), SECOND)
    assert len(services.catalog.partitions(table("snapshots"))) == 2


def test_a_column_filled_last_week_and_empty_now_is_noted(services, tmp_path):
    ingest_file(services, week_file(tmp_path, "w1.csv", PLANS * 10), FIRST)
    _, _, notes = ingest_file(services, week_file(tmp_path, "w2.csv", PLANS * 10, minutes=""), SECOND)
    assert notes == [f"{tmp_path / 'w2.csv'}: column 'minutes_7d' was filled for 100% of customers in week "
                     "2026-03-02 and is empty now: is the extract complete?"]


def test_the_cycle_is_the_weekday_most_weeks_keep_and_the_odd_one_is_named():
    mondays = [FIRST, SECOND, SECOND + dt.timedelta(weeks=1)]
    wednesday = FIRST + dt.timedelta(days=9)
    assert off_cycle_weeks(mondays) == {}
    [(week, problem)] = off_cycle_weeks([*mondays, wednesday]).items()
    assert week == wednesday and "is a Wednesday" in problem and "2026-03-09 and 2026-03-16" in problem
    assert cycle_weekday([wednesday, SECOND]) == SECOND.weekday()  # a tie: the oldest week's weekday
    assert off_cycle(wednesday, [wednesday]) is None  # the first week sets the cycle; re-landing it is on it
