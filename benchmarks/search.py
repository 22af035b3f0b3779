"""Gallery search benchmark: exact numpy vs FAISS for 1k/10k/100k/1M random templates.

    .venv/bin/python benchmarks/search.py                       # print the table
    .venv/bin/python benchmarks/search.py --write docs/BENCHMARKS.md

``--write`` replaces only the section between ``<!-- search:begin -->`` and ``<!-- search:end -->``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openlfr.bench.engine import machine_info
from openlfr.bench.search import bench_search, format_table, write_section

DEFAULT_GALLERIES = (1_000, 10_000, 100_000, 1_000_000)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--galleries", type=int, nargs="+", default=list(DEFAULT_GALLERIES))
    parser.add_argument("--probes", type=int, default=1000, help="probes per gallery, half mated, half random")
    parser.add_argument("--write", type=Path, default=None, help="update the search section of this Markdown file")
    parser.add_argument("--note", default="", help="a line added under the table (e.g. that the machine was shared)")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw results as JSON here")
    parser.add_argument(
        "--from-json",
        type=Path,
        default=None,
        help="do not measure: render the section from a --json file (to add a --note after a long run)",
    )
    return parser.parse_args(argv)


def section(results: list[dict[str, Any]], command: str, note: str) -> str:
    first = results[0]
    machine = machine_info()
    lines = [
        "## Gallery search (exact numpy vs FAISS)",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine['cpu']} ({machine['cores']} cores), "
        f"Python {machine['python']}. Command: `{command}`",
        "",
        f"Random unit vectors, D={first['dimension']}, one template per subject, k=1. "
        f"Probes: {first['probe_mix']}. FAISS parameters: `{json.dumps(first['faiss_params'])}`. "
        "Batched = one `search()` call with all probes, median of 3 calls (1 call above 100k) divided by the probe "
        "count; "
        "1 probe/call = median over 50 single-probe calls. Recall@1 = share of probes whose FAISS best subject is "
        "the exact best. Load avg = 1-minute load average when the row was measured (2 cores: above 2 means the "
        "machine was shared).",
        "",
        format_table(results),
    ]
    if note:
        lines += ["", note]
    return "\n".join(lines)


def measure(args: argparse.Namespace, argv: list[str]) -> tuple[list[dict[str, Any]], str]:
    command = " ".join(shlex.quote(part) for part in [".venv/bin/python", "benchmarks/search.py", *argv])
    results = []
    for gallery in args.galleries:
        print(f"gallery {gallery:,} ...", file=sys.stderr, flush=True)
        results.append(bench_search(gallery, args.probes))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    return results, command


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.from_json is not None:
        saved = json.loads(args.from_json.read_text(encoding="utf-8"))
        results, command = saved["results"], saved["command"]
    else:
        results, command = measure(args, argv)
    print(format_table(results))
    if args.json is not None:
        args.json.write_text(json.dumps({"command": command, "results": results}, indent=2) + "\n", encoding="utf-8")
    if args.write is not None:
        write_section(args.write, section(results, command, args.note))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
