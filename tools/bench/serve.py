"""`make bench-serve`: the serving API measured on this machine, with a weekly load's DynamoDB time and cost on paper.

    python -m tools.bench.serve [--customers N] [--seconds S] [--clients C] [--out-dir DIR]

In a temporary data directory:
1. load N customers' risks into the local store (SQLite) as the Inference shards do, batch by batch, and point the
   API at the week as Publish does: the load's seconds, the store's size on disk, the mean item's size;
2. start `engagement-pipeline serve` as a process on 127.0.0.1 (bounded: it stops by itself after the bench's time);
3. store a model of the pipeline's shape (its booster settings, 85 trees, every feature) as the week's model;
4. for each route (lookups, batch lookups of 100, what-if rows scored, what-if rows answered from the cache), C
   client threads on keep-alive connections send requests for S seconds, then stop: latency
   p50/p95/p99 and the rate. Clients and server share this machine's cores, so the client's own time is in the
   latencies;
5. on paper, from the measured item size and tools/bench/aws_prices.json: a weekly load into DynamoDB at 1M and
   10M customers (write units, seconds at the table's write rate, dollars) and the API's cost per million lookups.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from local_runtime.folder_storage import FolderStorage
from local_runtime.host import SERVING_FILE, WAREHOUSE_DIR
from local_runtime.sqlite_items import SqliteItems
from pipeline.core.settings import REPO_ROOT
from pipeline.serving.store import Reason, Risk, ServedWeek, expiry, load_risks, publish_week, risk_item
from pipeline.serving.what_if import FIELDS
from tools.bench.cost import DEFAULT_PRICES_PATH, item_bytes, load_prices, write_units

KEY = "bench-key"
RUN_DATE, VERSION, MODEL = "2026-03-23", "bench", "bench-model"
LOAD_BATCH = 65_536  # rows per batch, as Inference reads its shard
PAPER_CUSTOMERS = (1_000_000, 10_000_000)
FEATURES = ("sessions_7d", "days_since_last_session", "sessions_4w", "plan", "tenure_days", "minutes_7d")
MODEL_ROUNDS = 85  # as many trees as the pipeline's model keeps at 100K customers (early stopping)
PLANS = ("free", "basic", "premium")
# The what-if route asks about a new row each time (every answer scored by the model), the cached one about the
# same few rows again and again (every answer but the first few from the cache).
WHAT_IF_ROWS = {"what_if": 10**12, "what_if_cached": 100}


def customer_id(index: int) -> str:
    return f"C{index:08d}"


def synthetic_risks(start: int, count: int, rng: random.Random) -> list[Risk]:
    """Risks shaped like the pipeline's: a probability, its band, three reasons with values."""
    risks = []
    for index in range(start, start + count):
        probability = round(rng.random(), 6)
        reasons = [Reason(feature, round(rng.random() * 30, 6), round(rng.random(), 6))
                   for feature in rng.sample(FEATURES, 3)]
        risks.append(Risk(customer_id(index), RUN_DATE, probability,
                          "high" if probability >= 0.5 else "medium" if probability >= 0.2 else "low", MODEL,
                          reasons))
    return risks


def load_store(home: Path, customers: int) -> dict:
    table, rng = SqliteItems(home / SERVING_FILE), random.Random(7)
    expires_at, seconds = expiry(35), 0.0
    for start in range(0, customers, LOAD_BATCH):
        batch = synthetic_risks(start, min(LOAD_BATCH, customers - start), rng)  # made outside the timing
        started = time.monotonic()
        load_risks(table, batch, VERSION, expires_at)
        seconds += time.monotonic() - started
    started = time.monotonic()
    publish_week(table, ServedWeek(RUN_DATE, VERSION, MODEL, "2026-03-24T06:00:00+00:00", customers), expires_at)
    seconds += time.monotonic() - started
    sample = [risk_item(risk, VERSION, expires_at) for risk in synthetic_risks(0, 1000, random.Random(8))]
    sized = float(np.mean([item_bytes(item) for item in sample]))
    files = [home / name for name in os.listdir(home) if name.startswith(SERVING_FILE)]
    return {"customers": customers, "seconds": seconds, "rows_per_second": customers / seconds,
            "size_mib": sum(path.stat().st_size for path in files) / 2**20, "item_bytes": sized}


def numeric_fields() -> list[str]:
    return [name for name, column in FIELDS.items() if column.type in ("bigint", "double")]


def store_model(home: Path) -> None:
    """A booster of the pipeline's settings and size over every numeric field and the plan, stored as the week's
    model: what-if scores cost what they would with a real one."""
    import pyarrow as pa
    import xgboost as xgb

    from pipeline.model.features import feature_matrix, fit_feature_spec
    from pipeline.model.fit import BOOSTER_PARAMS
    from pipeline.model.store import ModelStore, StoredModel

    rng = np.random.default_rng(5)
    rows = pa.table({**{name: rng.poisson(3.0, 5_000) for name in numeric_fields()},
                     "plan": rng.choice(PLANS, 5_000)})
    labels = (rows.column("sessions_7d").to_numpy() == 0) | (rng.random(5_000) < 0.1)
    spec = fit_feature_spec([rows])
    matrix = xgb.DMatrix(feature_matrix(rows, spec), label=labels.astype(int), feature_names=spec.names,
                         feature_types=spec.feature_types, enable_categorical=True)
    booster = xgb.train({**BOOSTER_PARAMS, "nthread": 1}, matrix, MODEL_ROUNDS)
    ModelStore(FolderStorage(home / WAREHOUSE_DIR)).save(
        StoredModel(MODEL, bytes(booster.save_raw("ubj")), spec, {}, {"best_iteration": MODEL_ROUNDS - 1}),
        pa.table({"customer_id": ["x"], "churned": [0], "churn_probability": [0.1]}))


def start_server(home: Path, seconds: float) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "PIPELINE_HOME": str(home), "PIPELINE_API_KEY": KEY}
    process = subprocess.Popen([sys.executable, "-m", "tools.cli.app", "serve", "--port", "0", "--rate", "1000000",
                                "--burst", "1000000", "--max-seconds", str(seconds)],
                               cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith("serving http://"):
            return process, int(line.split(":")[2].split("/")[0])
    raise RuntimeError("serve did not start")


def drive(port: int, route: str, customers: int, clients: int, seconds: float) -> dict:
    """`clients` threads each sending `route` requests over one keep-alive connection for `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures, cached = [0] * clients, [0] * clients
    deadline = time.monotonic() + seconds

    def client(number: int) -> None:
        rng = random.Random(number)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < deadline:
            method, path, body = request(route, rng, customers)
            started = time.perf_counter()
            connection.request(method, path, body=body, headers={"x-api-key": KEY})
            answer = connection.getresponse()
            body = answer.read()
            latencies[number].append(time.perf_counter() - started)
            failures[number] += answer.status != 200
            cached[number] += route in WHAT_IF_ROWS and json.loads(body).get("cached") is True
        connection.close()

    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    every = np.array([value for values in latencies for value in values]) * 1000
    return {"route": route, "requests": len(every), "failed": sum(failures), "cached": sum(cached),
            "per_second": len(every) / elapsed,
            **{f"p{q}_ms": float(np.percentile(every, q)) for q in (50, 95, 99)}}


def first_answer_ms(port: int, route: str, customers: int) -> float:
    """One request, timed, before the load: the what-if route's first loads XGBoost and the model."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    method, path, body = request(route, random.Random("first"), customers)  # a row no client asks about
    started = time.perf_counter()
    connection.request(method, path, body=body, headers={"x-api-key": KEY})
    answer = connection.getresponse()
    answer.read()
    connection.close()
    if answer.status != 200:
        raise RuntimeError(f"{method} {path} answered {answer.status}")
    return (time.perf_counter() - started) * 1000


def request(route: str, rng: random.Random, customers: int) -> tuple[str, str, str | None]:
    if route == "lookup":
        return "GET", f"/v1/customers/{customer_id(rng.randrange(customers))}/risk", None
    if route == "batch":
        ids = [customer_id(rng.randrange(customers)) for _ in range(100)]
        return "POST", "/v1/customers/risk", json.dumps({"customer_ids": ids})
    return "POST", "/v1/score", json.dumps({"row": what_if_row(rng.randrange(WHAT_IF_ROWS[route]))})


def what_if_row(variant: int) -> dict:
    """A row of every numeric field and the plan, as a CRM screen would send it: the same for the same variant."""
    rng = random.Random(variant)
    return {**{name: rng.randrange(10) for name in numeric_fields() if name != "active_weeks_4w"},
            "active_weeks_4w": rng.randrange(5), "plan": rng.choice(PLANS)}


def on_paper(bytes_per_item: float, prices: dict) -> list[dict]:
    """A weekly load into DynamoDB: each item (and each week's pointer) costs ceil(size / 1 KB) write units."""
    dynamodb = prices["dynamodb"]

    def load(customers: int) -> dict:
        units = write_units(customers, bytes_per_item, prices)
        return {"customers": customers, "write_units": units,
                "seconds_at_table_rate": units / dynamodb["new_on_demand_table_write_units_per_second"],
                "dollars": units / 1e6 * dynamodb["per_million_write_request_units"],
                "storage_gb": customers * bytes_per_item / 1e9}
    return [load(customers) for customers in PAPER_CUSTOMERS]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="the load on each route")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--out-dir", type=Path, default=REPO_ROOT / "bench-results")
    args = parser.parse_args(argv)
    prices = load_prices(DEFAULT_PRICES_PATH)
    with tempfile.TemporaryDirectory(prefix="serving-bench-") as scratch:
        home = Path(scratch)
        load = load_store(home, args.customers)
        print(f"loaded {args.customers:,} customers in {load['seconds']:.1f} s, {load['size_mib']:,.0f} MiB on disk")
        store_model(home)
        routes = ("lookup", "batch", *WHAT_IF_ROWS)
        server, port = start_server(home, seconds=len(routes) * args.seconds + 30)
        try:
            first_what_if_ms = first_answer_ms(port, "what_if", args.customers)
            served = [drive(port, route, args.customers, args.clients, args.seconds) for route in routes]
        finally:
            server.terminate()
            server.wait(timeout=10)
    results = {"customers": args.customers, "clients": args.clients, "seconds_per_route": args.seconds,
               "machine_cpus": os.cpu_count(), "load": load, "routes": served,
               "first_what_if_ms": first_what_if_ms,
               "dynamodb_weekly_load": on_paper(load["item_bytes"], prices),
               "api_gateway_per_million_requests": prices["api_gateway"]["per_million_rest_requests"]}
    args.out_dir.mkdir(parents=True, exist_ok=True)
    path = args.out_dir / f"bench-serve-{args.customers}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    for route in served:
        print(f"{route['route']}: {route['per_second']:,.0f}/s, p50 {route['p50_ms']:.2f} ms, p95 "
              f"{route['p95_ms']:.2f} ms, p99 {route['p99_ms']:.2f} ms ({route['failed']} failed, "
              f"{route['cached']} from the what-if cache)")
    print(f"the first what-if (loads XGBoost and the model): {first_what_if_ms:,.0f} ms")
    for paper in results["dynamodb_weekly_load"]:
        print(f"DynamoDB weekly load of {paper['customers']:,}: {paper['write_units']:,} write units, "
              f"{paper['seconds_at_table_rate']:,.0f} s at a new on-demand table's rate, ${paper['dollars']:.2f}")
    print(f"written: {path}")


if __name__ == "__main__":
    main()
