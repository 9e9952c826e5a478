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


def markdown_report(results: dict) -> str:
    sections = [_heading(results), _states_table(results), _processes_table(results),
                _cost_section(results), _projection_section(results["projection"])]
    return "\n\n".join(sections) + "\n"


def _heading(results: dict) -> str:
    auc = results.get("auc")
    quality = "" if auc is None else f"; validation AUC {auc:.4f}"
    if results.get("bayes_auc") is not None:
        quality += f" (true-state AUC {results['bayes_auc']:.4f})"
    return (f"# Bench: {results['customers']:,} customers x {results['weeks']} weeks\n\n"
            f"Run {results['run_date']} (execution {results['execution_name']}) on {results['machine_cpus']} CPU(s)"
            f"{quality}. Data generated in {_seconds(results['generate_seconds'])} s (not part of the run).")


def _states_table(results: dict) -> str:
    rows = [[state["state"], _seconds(state["seconds"]),
             f"{_number(state['rows'])} {state['rows_what']}" if state["rows"] is not None else "",
             _number(state["rows_per_second"])] for state in results["states"]]
    baseline = results["baseline"]
    rows += [["**weekly run**", f"**{_seconds(results['run_seconds'])}**", "", ""],
             ["bare baseline (read, train, score, write)", _seconds(baseline["seconds"]),
              f"{_number(baseline['rows_trained'])} trained, {_number(baseline['rows_scored'])} scored", ""],
             ["**pipeline / baseline**", f"**{results['ratio']:.2f}x**", "", ""]]
    return _table(["state", "seconds", "rows", "rows/s"], rows)


def _processes_table(results: dict) -> str:
    rows = [[process["name"], _number(process["rows"]) if process["rows"] else "",
             _number(process["peak_rss_mib"]), _seconds(process.get("cpu_seconds"))]
            for process in results["processes"]]
    return _table(["process", "rows", "peak memory (MiB)", "CPU s"], rows)


def _cost_section(results: dict) -> str:
    cost = results["aws_cost"]
    dollars, usage = cost["dollars"], cost["usage"]
    rows = [["Fargate", "; ".join(usage["fargate"]), f"{dollars['fargate']:.5f}"],
            ["Lambda", usage["lambda"], f"{dollars['lambda']:.5f}"],
            ["Step Functions", usage["step_functions"], f"{dollars['step_functions']:.5f}"],
            ["Athena", usage["athena"], f"{dollars['athena']:.5f}"],
            ["**total**", "", f"**{dollars['total']:.4f}**"]]
    return (f"## AWS cost of one weekly run ({cost['region']} list prices from {cost['prices_file']})\n\n"
            "Measured durations as they are (this machine, not Fargate's vCPUs); formula in tools/aws/template.py; "
            "S3 left out.\n\n" + _table(["service", "usage", "$"], rows, text_columns=2))


def _size(task: dict) -> str:
    return "no Fargate task is that large" if task["size"] is None else task["size_label"]


def _projection_section(projection: dict) -> str:
    inference = projection["inference"]
    shard = inference["per_shard"]
    states = [[name, _seconds(seconds)] for name, seconds in projection["state_seconds"].items()]
    states.append(["**weekly run**", f"**{_seconds(projection['total_seconds'])}**"])
    tasks = [["Training", _number(projection["training"]["rows"]), _number(projection["training"]["peak_rss_mib"]),
              _size(projection["training"])],
             [f"InferenceShard x {inference['shard_count']} ({inference['waves']} wave(s))", _number(shard["rows"]),
              _number(shard["peak_rss_mib"]), _size(shard)]]
    warnings = "".join(f"\n- {warning}" for warning in projection["warnings"])
    cost = projection.get("cost")
    unsized = (" (a task no Fargate size holds is costed at its configured size)"
               if projection["training"]["size"] is None or shard["size"] is None else "")
    cost_line = "" if cost is None else (f"\n\nCost of one weekly run at that size, same formula: "
                                         f"${cost['total']:.4f}{unsized}.")
    return (f"## {projection['customers']:,} customers, on paper\n\n"
            f"A linear projection (x{projection['factor']:,.0f} rows; a task = its idle-process start-up + the "
            "measured per-row part; see tools/bench/projection.py), not a measurement. A small bench counts some "
            "fixed costs as per-row ones: size tasks from a bench of 1M customers or more.\n\n"
            + _table(["state", "projected seconds"], states) + "\n\n"
            + _table(["task", "rows", "projected peak MiB", "size (peak x 1.3)"], tasks) + cost_line
            + (f"\n\nWould break:{warnings}" if warnings else ""))
