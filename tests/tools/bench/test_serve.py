"""`make bench-serve` on a small store: the load is timed, each route is driven for its time and stops, and the
DynamoDB load is priced from the measured item size."""
import json

from tools.bench.serve import main


def test_bench_serve_loads_drives_each_route_and_prices_the_weekly_load(tmp_path, capsys):
    main(["--customers", "3000", "--seconds", "0.5", "--clients", "2", "--out-dir", str(tmp_path)])
    results = json.loads((tmp_path / "bench-serve-3000.json").read_text())
    assert results["load"]["customers"] == 3000 and results["load"]["size_mib"] > 0
    assert 100 < results["load"]["item_bytes"] < 1024  # one DynamoDB write unit an item
    lookup, batch, scored, cached = results["routes"]
    assert [route["route"] for route in results["routes"]] == ["lookup", "batch", "what_if", "what_if_cached"]
    # 100 rows asked again and again: each scored once, or once by each client asking it at the same moment
    assert scored["cached"] == 0 and cached["cached"] >= cached["requests"] - 100 * results["clients"]
    assert results["first_what_if_ms"] > 0
    for route in results["routes"]:
        assert route["requests"] > 10 and route["failed"] == 0
        assert 0 < route["p50_ms"] <= route["p95_ms"] <= route["p99_ms"]
    one_million, ten_million = results["dynamodb_weekly_load"]
    assert (one_million["write_units"], ten_million["write_units"]) == (1_000_000, 10_000_000)
    assert ten_million["dollars"] == 6.25 and ten_million["seconds_at_table_rate"] == 2500
    assert "lookup:" in capsys.readouterr().out
