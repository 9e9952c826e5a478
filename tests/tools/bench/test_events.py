"""`make bench-events` on a small log: it lands every event it wrote and their days, builds the newest week alone and
the newest 13, ingests a weekly upload, and reports them."""
import json

from tools.bench.events import main


def test_bench_events_lands_the_log_and_builds_its_newest_week(tmp_path, capsys):
    main(["--events", "20000", "--out-dir", str(tmp_path)])
    results = json.loads((tmp_path / "bench-events-20000.json").read_text())
    assert results["land"]["events"] == results["events"] > 15_000  # about what was asked, all landed
    assert results["land"]["events_per_second"] > 0 and results["land"]["peak_mib"] > 0
    assert results["build_week"]["weeks"] == 1 and results["build_week"]["customers"][0] > 0
    assert results["build_weeks"]["weeks"] == 13 and results["build_weeks"]["seconds"] > 0
    assert results["build_weeks"]["customers"][-1] == results["build_week"]["customers"][0]  # the same newest week
    assert results["days"]["uploads"] == 1
    weekly = results["weekly_upload"]
    assert weekly["events"] == weekly["events_in_log"] > 0 and weekly["weeks"] == 1 and weekly["customers"] > 0
    assert "events/s" in capsys.readouterr().out
