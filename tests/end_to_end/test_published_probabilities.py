"""What a week publishes is a probability, never a certainty: no score of exactly 0 or 1, and no more ties than
the booster's own scores have."""
from tools.cli.app import main


def test_no_published_probability_is_exactly_zero_or_one(home, capsys):
    # seed 2: a 2,000-customer panel on which isotonic calibration once published 724 scores of exactly 0.0
    assert main(["generate", "--customers", "2000", "--weeks", "10", "--seed", "2"]) == 0
    assert main(["run"]) == 0
    capsys.readouterr()
    assert main(["query", "SELECT count_if(churn_probability <= 0 OR churn_probability >= 1) AS certain, "
                 "count(DISTINCT churn_probability) AS scores FROM engagement.predictions", "--format", "csv"]) == 0
    certain, scores = capsys.readouterr().out.splitlines()[-1].split(",")
    assert int(certain) == 0
    assert int(scores) > 1000  # the booster's 1,150 distinct scores of 2,000 customers; isotonic's steps left 31
