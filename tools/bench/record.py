"""`make bench`'s results as files: the full measurements as JSON, the short version as Markdown tables."""
from __future__ import annotations

import json
from pathlib import Path


def result_paths(out_dir: Path, customers: int, weeks: int) -> tuple[Path, Path]:
    stem = out_dir / f"bench-{customers}x{weeks}"
    return stem.with_suffix(".json"), stem.with_suffix(".md")


def write_results(results: dict, out_dir: Path) -> tuple[Path, Path]:
    """Write bench-<customers>x<weeks>.json and .md (replacing an earlier bench of the same size)."""
    json_path, markdown_path = result_paths(out_dir, results["customers"], results["weeks"])
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(_rounded(results), indent=2) + "\n")
    markdown_path.write_text(markdown_report(results))
    return json_path, markdown_path


def _rounded(value):
    """Six significant digits: the measurements are not more precise, and the file stays readable."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def _table(header: list[str], rows: list[list[str]], text_columns: int = 1) -> str:
    """A Markdown table: the first `text_columns` columns left-aligned, the numbers after them right-aligned."""
    align = ["---"] * text_columns + ["---:"] * (len(header) - text_columns)
    lines = [header, align, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def _number(value: float | None, digits: int = 0) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def _seconds(value: float | None) -> str:
    return _number(value, 1)


# What each measured run is, for the reader: the keys of results["runs"].
RUN_TITLES = {"steady_state": "Steady state", "cold": "Cold"}


def markdown_report(results: dict) -> str:
    sections = [_heading(results), _runs_table(results),
                *(_run_section(kind, run) for kind, run in results["runs"].items()),
                _cost_section(results), *(_projection_section(projection) for projection in results["projections"])]
    return "\n\n".join(sections) + "\n"


def _heading(results: dict) -> str:
    runs, horizon = results["runs"], results["churn_horizon_weeks"]
    warm_up = " and ".join(week["run_date"] for week in results["warm_up"])
    return (f"# Bench: {results['customers']:,} customers x {results['weeks']} weeks\n\n"
            f"Week {results['run_date']} run twice on {results['machine_cpus']} CPU(s), each run beside the bare "
            "baseline (read, train, score, write) on the Parquet that run prepared. Data generated in "
            f"{_seconds(results['generate_seconds'])} s (not part of either run).\n\n"
            f"- **Steady state** (execution {runs['steady_state']['execution_name']}): after unmeasured runs of "
            f"{warm_up} in the same data directory, so the champion trained the week before exists and the scores "
            f"published {horizon} weeks before are there to realize: the run that happens every week.\n"
            f"- **Cold** (execution {runs['cold']['execution_name']}): the same week in an untouched copy of the "
            "generated data, with no earlier run: no champion, nothing to realize (a new deployment's first week).")


def _runs_table(results: dict) -> str:
    runs = results["runs"].values()

    def row(label: str, cell) -> list[str]:
        return [label, *(cell(run) for run in runs)]

    rows = [row("weekly run (s)", lambda run: _seconds(run["run_seconds"])),
            row("bare baseline (s)", lambda run: _seconds(run["baseline"]["seconds"])),
            row("**pipeline / baseline**", lambda run: f"**{run['ratio']:.2f}x**"),
            row("holdout AUC", lambda run: _auc(run["auc"])),
            row("true-state AUC (bayes_auc)", lambda run: _auc(run["bayes_auc"])),
            row("repeat-purchase baselines on the same rows: BG/BB, Pareto/NBD",
                lambda run: f"{_auc(run.get('bg_bb_auc'))}, {_auc(run.get('pareto_nbd_auc'))}"),
            row(f"realized AUC (the scores published {results['churn_horizon_weeks']} weeks before)",
                lambda run: _auc(run["realized_auc"]) or "none"),
            row("SQL statements, MB read (Athena's data scanned)",
                lambda run: f"{run['sql_statements']}, {run['sql_bytes_read'] / 2**20:,.1f} MB")]
    return _table(["", *(RUN_TITLES[kind].lower() for kind in results["runs"])], rows)


def _auc(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _run_section(kind: str, run: dict) -> str:
    return (f"## {RUN_TITLES[kind]} run (execution {run['execution_name']})\n\n"
            + _states_table(run) + "\n\n" + _processes_table(run))


def _states_table(run: dict) -> str:
    rows = [[state["state"], _seconds(state["seconds"]),
             f"{_number(state['rows'])} {state['rows_what']}" if state["rows"] is not None else "",
             _number(state["rows_per_second"])] for state in run["states"]]
    baseline = run["baseline"]
    rows += [["**weekly run**", f"**{_seconds(run['run_seconds'])}**", "", ""],
             ["bare baseline (read, train, score, write)", _seconds(baseline["seconds"]),
              f"{_number(baseline['rows_trained'])} trained, {_number(baseline['rows_scored'])} scored", ""]]
    return _table(["state", "seconds", "rows", "rows/s"], rows)


def _processes_table(run: dict) -> str:
    rows = [[process["name"], _number(process["rows"]) if process["rows"] else "",
             _number(process["peak_rss_mib"]), _seconds(process.get("cpu_seconds"))]
            for process in run["processes"]]
    return _table(["process", "rows", "peak memory (MiB)", "CPU s"], rows)


def _cost_section(results: dict) -> str:
    cost = results["aws_cost"]
    dollars, usage = cost["dollars"], cost["usage"]
    rows = [["Fargate", "; ".join(usage["fargate"]), f"{dollars['fargate']:.5f}"],
            ["Lambda", usage["lambda"], f"{dollars['lambda']:.5f}"],
            ["Step Functions", usage["step_functions"], f"{dollars['step_functions']:.5f}"],
            ["Athena", usage["athena"], f"{dollars['athena']:.5f}"],
            ["DynamoDB", usage["dynamodb"], f"{dollars['dynamodb']:.5f}"],
            ["**total**", "", f"**{dollars['total']:.4f}**"]]
    return (f"## AWS cost of one weekly run ({cost['region']} list prices from {cost['prices_file']})\n\n"
            "From the steady-state run, the one that happens every week. Measured durations as they are (this "
            "machine, not Fargate's vCPUs); formula in tools/aws/template.py; S3 left out.\n\n"
            + _table(["service", "usage", "$"], rows, text_columns=2))


def _size(task: dict) -> str:
    return "no Fargate task is that large" if task["size"] is None else task["size_label"]


def _projection_section(projection: dict) -> str:
    inference, idle = projection["inference"], projection["idle_process"]
    shard = inference["per_shard"]
    states = [[name, _seconds(seconds)] for name, seconds in projection["state_seconds"].items()]
    states.append(["**weekly run**", f"**{_seconds(projection['total_seconds'])}**"])
    training = projection["training"]
    capped = (f" (capped from {_number(training['rows_before_cap'])})"
              if training["rows_before_cap"] > training["rows"] else "")
    tasks = [["Training", _number(training["rows"]) + capped, _number(training["peak_rss_mib"]), _size(training)],
             [f"InferenceShard x {inference['shard_count']} ({inference['waves']} wave(s))", _number(shard["rows"]),
              _number(shard["peak_rss_mib"]), _size(shard)]]
    warnings = "".join(f"\n- {warning}" for warning in projection["warnings"])
    cost = projection.get("cost")
    unsized = (" (a task no Fargate size holds is costed at its configured size)"
               if training["size"] is None or shard["size"] is None else "")
    cost_line = "" if cost is None else (f"\n\nCost of one weekly run at that size, same formula: "
                                         f"${cost['total']:.4f}{unsized}.")
    return (f"## {projection['customers']:,} customers, on paper\n\n"
            f"A linear projection of the steady-state run (x{projection['factor']:,.0f} rows; a task = its "
            f"idle-process start-up, {_seconds(idle['seconds'])} s and {_number(idle['peak_rss_mib'])} MiB here, + "
            "the measured per-row part; see tools/bench/projection.py), not a measurement. A small bench counts "
            "some fixed costs as per-row ones: size tasks from a bench of 1M customers or more.\n\n"
            + _table(["state", "projected seconds"], states) + "\n\n"
            + _table(["task", "rows", "projected peak MiB", "size (peak x 1.3)"], tasks)
            + f"\n\nA shard's time holds {_seconds(shard['serving_load_seconds'])} s of loading its customers into the "
            "serving table, at the write rate the stack pre-warms it for (ServingWarmWritesPerSecond), shared by the "
            "shards of a wave: at most, as on-demand DynamoDB may raise it during a long load." + cost_line
            + (f"\n\nWould break:{warnings}" if warnings else ""))
