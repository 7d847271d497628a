"""``make fuzz``: a long fuzz run over the SEG and SR readers, with a report.

    python Testing/fuzz/run.py [--cases N] [--seed S] [--workers W] [--report FILE]

Prints the counts per class (see fuzzlib), the failure signatures and the cases that fail;
exits 1 when any case fails (raw crash, hang, memory blow-up, CLI problem, or a silently changed
result of a mutation the readers must detect).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "DicomAIExport"))

import fuzzlib  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=int(os.environ.get("FUZZ_CASES", "20000")))
    p.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", "1")))
    p.add_argument("--workers", type=int, default=int(os.environ.get("FUZZ_WORKERS", "2")))
    p.add_argument("--cli-every", type=int, default=10, help="run the CLI on every Nth case")
    p.add_argument("--timeout", type=float, default=20.0, help="seconds per case")
    p.add_argument("--mem-mb", type=int, default=1500, help="address space a case may add")
    p.add_argument("--report", default="fuzz-report.md")
    p.add_argument("--no-realdata", action="store_true")
    args = p.parse_args(argv)
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="dicomai-fuzz-") as tmp:
        seeds = fuzzlib.make_seeds(Path(tmp) / "seeds", with_realdata=not args.no_realdata)
        results = fuzzlib.run_fuzz(
            seeds,
            Path(tmp) / "work",
            args.cases,
            seed=args.seed,
            cli_every=args.cli_every,
            timeout=args.timeout,
            mem_mb=args.mem_mb,
            workers=args.workers,
            log=lambda m: print(m, file=sys.stderr, flush=True),
        )
    fails = fuzzlib.failures(results)
    lines = [
        f"# Fuzz report: {len(results)} cases, seed {args.seed}, {len(seeds)} seeds, "
        f"CLI on every {args.cli_every}th case, {time.time() - t0:.0f} s",
        "",
        fuzzlib.count_table(results),
        "",
        "## per mutator",
        "",
    ]
    for name, c in sorted(fuzzlib.by_mutator(results).items()):
        lines.append(f"- {name}: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
    lines += ["", "## signatures", ""]
    for sig, n in fuzzlib.signatures(results).most_common():
        lines.append(f"- {n} x {sig}")
    lines += ["", f"## failing cases ({len(fails)})", ""] + [f"- {f}" for f in fails[:300]]
    text = "\n".join(lines) + "\n"
    Path(args.report).write_text(text)
    print(text)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
