"""A short, deterministic fuzz run over the SEG and SR readers (``make fuzz`` runs a long one).

Seeds: BINARY, LABELMAP and FRACTIONAL SEGs and 3D/2D SRs written here, plus the real files in
../shared/data/realdata when present. Fails on any raw crash, hang, memory blow-up, CLI
traceback or extra stderr line, and on a silently changed result of a mutation the readers must
detect (README.md here lists them).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys

import fuzzlib
import pytest

CASES = int(os.environ.get("FUZZ_SHORT_CASES", "300"))


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    return fuzzlib.make_seeds(tmp_path_factory.mktemp("fuzz-seeds"))


@pytest.fixture(scope="module")
def results(seeds, tmp_path_factory):
    res = fuzzlib.run_fuzz(
        seeds, tmp_path_factory.mktemp("fuzz-work"), CASES, seed=0, cli_every=12, workers=2
    )
    print("\n" + fuzzlib.count_table(res))
    return res


def test_the_short_fuzz_covers_seg_and_sr_with_blind_and_structural_mutations(results):
    assert len(results) == CASES
    kinds = {r.kind for r in results}
    assert kinds == {"seg", "sr"}
    mutators = {r.mutator for r in results}
    assert set(fuzzlib.BLIND) <= mutators
    assert {"number-of-frames", "rows-columns", "segments", "sr-graphic", "sr-structure"} <= mutators
    assert sum(bool(r.entries) for r in results) == CASES


def test_no_reader_crashes_hangs_or_blows_up_memory(results):
    bad = [f for f in fuzzlib.failures(results) if any(k in f for k in (": crash ", ": hang ", ": memory "))]
    assert bad == [], "\n".join(bad[:20])


def test_mutations_the_readers_must_detect_never_change_the_result_silently(results):
    bad = [f for f in fuzzlib.failures(results) if ": silent " in f]
    assert bad == [], "\n".join(bad[:20])


def test_the_cli_exits_1_with_one_stderr_line_and_never_a_traceback(results):
    assert sum(r.cli_runs for r in results) >= CASES // 12
    bad = [p for r in results for p in r.cli]
    assert bad == [], "\n".join(bad[:20])


def test_errors_name_the_file(results):
    unnamed = [
        (r.seed, r.mutator, e, v["message"])
        for r in results
        for e, v in r.entries.items()
        if v["outcome"] == "error" and "case" not in v.get("message", "")
    ]
    assert unnamed == [], unnamed[:10]


def test_the_real_command_line_on_a_sample_of_damaged_files(seeds, tmp_path):
    """A few damaged files through ``python -m dicomai`` in its own process."""
    rng = random.Random(7)
    ran = 0
    for seed in seeds[:5]:
        data = seed.path.read_bytes()
        for _ in range(2):
            m = fuzzlib.mutate(rng, seed, data)
            if m is None:
                continue
            path = tmp_path / f"{seed.kind}-{ran}.dcm"
            path.write_bytes(m[0])
            for argv in fuzzlib.cli_argv(seed, path, tmp_path / f"out{ran}"):
                proc = subprocess.run(
                    [sys.executable, "-m", "dicomai", *argv], capture_output=True, text=True, timeout=120
                )
                problem = fuzzlib.cli_problem(proc.returncode, proc.stderr)
                assert problem is None, (argv, m[1:3], proc.stderr)
                ran += 1
    assert ran >= 10


@pytest.mark.parametrize("what", ["crash", "hang", "memory", "segfault", "error"])
def test_the_harness_sees_each_kind_of_misbehaviour(what, tmp_path):
    """The classification the fuzz relies on, on entry points that misbehave on purpose."""
    w = fuzzlib.Worker()
    try:
        r = w.run(
            {
                "kind": f"selftest:{what}",
                "path": str(tmp_path),
                "source": None,
                "segs": [],
                "cli": [],
                "timeout": 3,
                "mem_mb": 300,
            }
        )
    finally:
        w.close()
    res = fuzzlib._classify(fuzzlib.Seed("x", "seg", tmp_path), "m", "", True, r, {})
    expected = {"segfault": "crash", "error": "error"}.get(what, what)
    assert res.outcome == expected
    assert bool(fuzzlib.failures([res])) == (what != "error")
