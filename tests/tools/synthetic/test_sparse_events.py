"""The sparse-purchase world: seeded, sparse (most customers buy 1 to 5 times), each order with its visit, and an
event log that its own mapping file lands through ingest-events."""
import pyarrow.compute as pc

from pipeline.landing.event_mapping import read_mapping
from pipeline.landing.events import ingest_events
from tools.cli.app import main
from tools.synthetic.sparse_events import sparse_event_log, write_event_log


def test_the_log_is_seeded_sparse_and_in_time_order():
    log = sparse_event_log(2_000, 10, seed=5)
    assert log.equals(sparse_event_log(2_000, 10, seed=5)) and not log.equals(sparse_event_log(2_000, 10, seed=6))
    assert log.column("occurred_at").to_pylist() == sorted(log.column("occurred_at").to_pylist())
    orders = log.filter(pc.equal(log.column("event_name"), "order"))
    per_customer = orders.group_by("customer_id").aggregate([("event_id", "count")]).column("event_id_count")
    assert pc.mean(pc.less_equal(per_customer, 5)).as_py() > 0.8  # most buy 1 to 5 times
    assert len(per_customer) == 2_000  # every customer bought at signup
    assert pc.min(orders.column("amount")).as_py() > 0 and orders.column("amount").null_count == 0
    visits = log.filter(pc.equal(log.column("event_name"), "visit"))
    assert visits.num_rows >= orders.num_rows and visits.column("amount").null_count == visits.num_rows


def test_the_written_log_lands_through_its_own_mapping(services, tmp_path):
    mapping = write_event_log(sparse_event_log(300, 6, seed=2, history_days=28), tmp_path / "events.csv")
    landed = ingest_events(services, tmp_path / "events.csv", read_mapping(mapping))
    assert landed.ignored == 0 and landed.weeks and all(customers > 0 for _, customers in landed.weeks)


def test_generate_sparse_writes_the_log_or_lands_it(services, tmp_path, capsys):
    assert main(["generate", "--sparse", "--customers", "200", "--weeks", "6", "--events",
                 str(tmp_path / "log.parquet")]) == 0
    assert (tmp_path / "log.parquet").exists() and (tmp_path / "log.mapping.toml").exists()
    assert "ingest-events" in capsys.readouterr().out
    assert main(["generate", "--sparse", "--customers", "200", "--weeks", "6", "--history-days", "28"]) == 0
    assert "sparse-purchase customers" in capsys.readouterr().out
    assert services.sql.query("SELECT count(*) AS n FROM engagement.events").column(0)[0].as_py() > 200
    assert main(["generate", "--events", str(tmp_path / "x.csv")]) == 2
