"""``dicomai batch`` on a real local Dask cluster: many cases, the single-case commands per case.

The manifest mixes SEG types, SRs and two deliberately broken cases. Every good case's SEG must
decode to exactly what the single-case ``dicomai export-seg`` gives for the same inputs; the broken
ones must fail with the single-case command's own one-line error, without stopping the others.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import dicomai_samples as samples
from dicomai.batch import BatchOptions, Case, read_manifest, run_batch
from dicomai.errors import InputError
from dicomai.imageio import write_image
from dicomai.seg.decode import read_seg
from dicomai.source import read_source_series

SHAPE = (8, 32, 32)
pytestmark = pytest.mark.slow


def _run(*argv, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "dicomai", *argv], capture_output=True, text=True, cwd=cwd, timeout=600
    )


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """Three CT series, labelmaps, probability maps, metadata and a table; a 12-case manifest."""
    root = tmp_path_factory.mktemp("cohort")
    ct, labels, segments = samples.phantom(SHAPE)
    meta = root / "meta.json"
    meta.write_text(json.dumps(samples.dcmqi_metadata(segments)))
    sources = {}
    for name, orientation in (("a", "axial"), ("b", "oblique"), ("c", "sagittal")):
        grid = samples.make_grid(shape=SHAPE, orientation=orientation)
        samples.write_series(root / f"ct_{name}", ct, grid, uid_seed=f"batch-{name}")
        sources[name] = read_source_series(root / f"ct_{name}")
    for name, source in sources.items():
        write_image(root / f"labels_{name}.nrrd", labels, source.grid)
        organs = np.where(labels <= 2, labels, 0).astype(np.uint8)  # liver + spleen only
        write_image(root / f"organs_{name}.nrrd", organs, source.grid)
    prob = (labels == 1).astype(np.float32) * 0.75
    write_image(root / "liver_p.nrrd", prob, sources["a"].grid)
    wrong = samples.make_grid(shape=(SHAPE[0] + 1, SHAPE[1], SHAPE[2]))
    write_image(root / "wrong_grid.nrrd", np.zeros(wrong.shape, np.uint8) + 1, wrong)
    (root / "stats.tsv").write_text("Segment\tVolume [mm3]\nLiver\t1500.5\nSpleen\t220.25\n")

    rows = [
        # source, labelmap, probability, type, table, out
        ("ct_a", "labels_a.nrrd", "", "binary", "", "a_binary.seg.dcm"),
        ("ct_a", "labels_a.nrrd", "", "labelmap", "", "a_labelmap.seg.dcm"),
        ("ct_a", "organs_a.nrrd", "", "auto", "stats.tsv", "a_organs.seg.dcm"),
        ("ct_a", "", "liver_p.nrrd", "fractional", "", "a_prob.seg.dcm"),
        ("ct_b", "labels_b.nrrd", "", "binary", "", "b_binary.seg.dcm"),
        ("ct_b", "organs_b.nrrd", "", "labelmap", "", "b_organs.seg.dcm"),
        ("ct_b", "organs_b.nrrd", "", "binary", "stats.tsv", "b_sr.seg.dcm"),
        ("ct_c", "labels_c.nrrd", "", "auto", "", "c_auto.seg.dcm"),
        ("ct_c", "organs_c.nrrd", "", "binary", "", "c_organs.seg.dcm"),
        ("ct_c", "labels_c.nrrd", "", "labelmap", "", "c_labelmap.seg.dcm"),
        ("ct_a", "wrong_grid.nrrd", "", "binary", "", "broken_grid.seg.dcm"),
        ("no_such_folder", "labels_a.nrrd", "", "binary", "", "broken_source.seg.dcm"),
    ]
    manifest = root / "manifest.csv"
    with open(manifest, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["source", "labelmap", "probability", "metadata", "type", "table", "out"])
        for source, lab, p, t, table, out in rows:
            w.writerow([source, lab, p, "meta.json", t, table, out])
    return root, manifest, rows


def _content(path):
    c = read_seg(path)
    return (
        c.segmentation_type,
        [s.label for s in c.segments],
        c.voxel_counts(),
        [c.mask(s.number) for s in c.segments],
    )


def _assert_same_content(a, b):
    ta, la, ca, ma = _content(a)
    tb, lb, cb, mb = _content(b)
    assert (ta, la, ca) == (tb, lb, cb)
    for x, y in zip(ma, mb):
        np.testing.assert_array_equal(x, y)


def test_batch_on_a_local_cluster_matches_single_case_commands(cohort, tmp_path):
    root, manifest, rows = cohort
    out = tmp_path / "out"
    proc = _run("batch", str(manifest), "--out", str(out), "--workers", "2")
    assert proc.returncode == 1, proc.stderr  # two broken cases
    assert "12 case(s): 10 done, 0 skipped, 2 failed" in proc.stdout
    results = json.loads((out / "batch-results.json").read_text())
    with open(out / "batch-results.csv", newline="") as f:
        csv_rows = list(csv.DictReader(f))
    assert [r["id"] for r in csv_rows] == [r["id"] for r in results]
    by_out = {r["id"]: r for r in results}
    for source, lab, p, t, table, name in rows:
        r = by_out[name]
        if name.startswith("broken"):
            assert r["status"] == "failed"
            assert r["outputs"] == []
            assert not (out / name).exists()
            continue
        assert r["status"] == "done", r
        assert r["seconds"] > 0 and r["peak_memory_mb"] > 0
        assert len(r["sop_instance_uids"]) == (2 if table else 1)
        # the same case through the single-case command gives the same SEG content
        single = tmp_path / "single" / name
        single.parent.mkdir(exist_ok=True)
        argv = ["export-seg", "--source", str(root / source), "--metadata", str(root / "meta.json")]
        argv += ["--labelmap", str(root / lab)] if lab else ["--probability", str(root / p)]
        argv += ["--type", t, "--out", str(single)]
        done = _run(*argv)
        assert done.returncode == 0, done.stderr
        _assert_same_content(out / name, single)
        if table:
            sr = out / name.replace(".seg.dcm", ".sr.dcm")
            assert sr.is_file()
            info = json.loads(_run("info", str(sr), "--json").stdout)
            assert "Liver" in json.dumps(info) and "1500.5" in json.dumps(info)
    # the errors are the single-case commands' one-line errors, naming the input
    grid_error = by_out["broken_grid.seg.dcm"]["error"]
    assert "wrong_grid.nrrd" in grid_error and "\n" not in grid_error
    source_error = by_out["broken_source.seg.dcm"]["error"]
    assert "no_such_folder" in source_error and "\n" not in source_error
    # not on a terminal: a plain line per case
    assert proc.stderr.count("] case ") == 12


def test_rerun_skips_cases_whose_outputs_verify_and_redoes_damaged_ones(cohort, tmp_path):
    root, manifest, rows = cohort
    out = tmp_path / "out"
    first = _run("batch", str(manifest), "--out", str(out), "--workers", "2")
    assert first.returncode == 1
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.dcm")}
    assert len(before) == 10 + 2  # 10 SEGs, 2 SRs
    # damage one output: it must be made again, everything else skipped
    victim = out / "b_binary.seg.dcm"
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    second = _run("batch", str(manifest), "--out", str(out), "--workers", "2")
    assert second.returncode == 1
    assert "12 case(s): 1 done, 9 skipped, 2 failed" in second.stdout
    after = {p.name: p.stat().st_mtime_ns for p in out.glob("*.dcm")}
    changed = sorted(n for n in after if after[n] != before[n])
    assert changed == ["b_binary.seg.dcm"]
    read_seg(victim)  # complete again


def test_a_killed_worker_is_replaced_and_every_good_case_is_done(cohort, tmp_path):
    root, manifest, rows = cohort
    out = tmp_path / "out"
    cases = read_manifest(manifest)
    options = BatchOptions(out=out, workers=2, retries=2)
    killed = []

    def kill_a_worker_once_cases_run():
        # the workers are the local cluster's processes: children of the nanny processes of this
        # process; kill the first worker we find while cases are running
        import psutil

        me = psutil.Process()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            for child in me.children(recursive=True):
                try:
                    cmd = " ".join(child.cmdline())
                except psutil.Error:
                    continue
                if "-m dicomai export-" in cmd:  # a case is running: kill its worker
                    worker = child.parent()
                    if worker is not None:
                        os.kill(worker.pid, signal.SIGKILL)
                        killed.append(worker.pid)
                        break
            time.sleep(0.05)

    killer = threading.Thread(target=kill_a_worker_once_cases_run)
    killer.start()
    results = run_batch(cases, options)
    killer.join()
    assert killed, "no worker was killed: the test did not test anything"
    status = {r.id: r.status for r in results}
    assert [k for k, v in status.items() if v == "failed"] == ["broken_grid.seg.dcm", "broken_source.seg.dcm"]
    # the killed worker's case was retried; "skipped" only when its output had been completed and
    # verified before the worker died
    assert sum(v in ("done", "skipped") for v in status.values()) == 10
    for r in results:
        if r.status != "failed":
            read_seg(out / r.id)


def test_manifest_errors_name_the_manifest_row_and_column(tmp_path):
    m = tmp_path / "m.csv"
    m.write_text("source,labelmap\nct,lab.nrrd\n")
    with pytest.raises(InputError, match=r"m\.csv lacks the column\(s\) out"):
        read_manifest(m)
    m.write_text("source,labelmap,out,colour\nct,lab.nrrd,x.dcm,red\n")
    with pytest.raises(InputError, match="unknown column"):
        read_manifest(m)
    m.write_text("source,labelmap,out\nct,lab.nrrd,x.dcm\nct,lab2.nrrd,x.dcm\n")
    with pytest.raises(InputError, match="rows 2 and 3 both write 'x.dcm'"):
        read_manifest(m)
    m.write_text("source,labelmap,out\nct,,x.dcm\n")
    with pytest.raises(InputError, match="row 2: give exactly one of labelmap or probability"):
        read_manifest(m)
    m.write_text("source,labelmap,out\nct,lab.nrrd,../x.dcm\n")
    with pytest.raises(InputError, match="column out"):
        read_manifest(m)
    with pytest.raises(InputError, match="does not exist"):
        read_manifest(tmp_path / "nope.csv")


def test_json_lines_manifest_resolves_paths_against_its_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    m = tmp_path / "sub" / "cases.jsonl"
    m.write_text(
        json.dumps({"source": "ct", "labelmap": "l.nii.gz", "out": "x.seg.dcm", "markups": ["a.mrk.json"]})
        + "\n\n"
        + json.dumps({"source": "/abs/ct", "probability": "p1.nrrd;p2.nrrd", "out": "y.seg.dcm", "id": "y"})
        + "\n"
    )
    a, b = read_manifest(m)
    assert isinstance(a, Case) and a.source == str(tmp_path / "sub" / "ct")
    assert a.markups == [str(tmp_path / "sub" / "a.mrk.json")] and a.sr_out == "x.sr.dcm"
    assert b.source == "/abs/ct" and b.probability == [
        str(tmp_path / "sub" / "p1.nrrd"),
        str(tmp_path / "sub" / "p2.nrrd"),
    ]
    assert b.id == "y" and not b.wants_sr


def test_send_stores_every_output_on_a_real_orthanc_exactly_once(cohort, tmp_path, monkeypatch):
    from servers.orthanc import orthanc_or_fail

    root, manifest, rows = cohort
    good = tmp_path / "good.csv"
    lines = manifest.read_text().splitlines()
    good.write_text("\n".join(line for line in lines if "broken" not in line) + "\n")
    for name in ("meta.json", "stats.tsv"):
        (tmp_path / name).symlink_to(root / name)
    for sub in root.iterdir():
        if not (tmp_path / sub.name).exists():
            (tmp_path / sub.name).symlink_to(sub)
    server = orthanc_or_fail(users={"batch": "pw"})
    try:
        monkeypatch.setenv("BATCH_PW", "pw")
        out = tmp_path / "out"
        args = ["batch", str(good), "--out", str(out), "--workers", "2", "--send", server.dicomweb_url]
        proc = _run(*args, "--user", "batch", "--password-env", "BATCH_PW")
        assert proc.returncode == 0, proc.stderr
        results = json.loads((out / "batch-results.json").read_text())
        assert [r["status"] for r in results] == ["done"] * 10
        sent = {uid for r in results for uid in r["sop_instance_uids"]}
        assert len(sent) == 12  # 10 SEGs + 2 SRs
        held = server.instance_uids()
        assert held == sent
        assert len(server.rest("/instances")) == 12  # each exactly once
        assert "pw" not in proc.stdout + proc.stderr
        # the server loses one SEG: a rerun skips every case and sends only that one again
        lost = results[4]["sop_instance_uids"][0]
        for orthanc_id in server.rest("/instances"):
            if server.rest(f"/instances/{orthanc_id}/simplified-tags")["SOPInstanceUID"] == lost:
                server.rest(f"/instances/{orthanc_id}", method="DELETE")
        assert len(server.rest("/instances")) == 11
        again = _run(*args, "--user", "batch", "--password-env", "BATCH_PW", "--json")
        assert again.returncode == 0, again.stderr
        second = json.loads(again.stdout)
        assert [r["status"] for r in second] == ["skipped"] * 10
        resent = [r for r in second if any("sent again" in w for w in r["warnings"])]
        assert [r["id"] for r in resent] == [results[4]["id"]]
        assert server.instance_uids() == sent
        assert len(server.rest("/instances")) == 12
    finally:
        server.cleanup()


def test_the_sr_command_of_a_case_gets_every_server_option_and_no_seg_only_one(tmp_path):
    from dicomai.batch import case_commands
    from dicomai.cli import build_parser

    case = Case("c1", 2, "ct/", "c1.seg.dcm", labelmap="l.nii.gz", markups=["m.mrk.json"], sr_out="c1.sr.dcm")
    extra = ["--workers", "2", "--send", "http://pacs/dicom-web", "--insecure", "--timeout=5"]
    extra += ["--retries", "1", "--batch-size", "10", "--user", "me", "--compression", "rle"]
    seg, sr = case_commands(case, tmp_path, extra)
    assert seg[-len(extra) :] == extra
    assert sr[sr.index("--json") + 1 :] == [
        "--send", "http://pacs/dicom-web", "--insecure", "--timeout=5",
        "--retries", "1", "--batch-size", "10", "--user", "me",
    ]  # fmt: skip
    parsed = build_parser().parse_args(sr)  # export-sr takes every one of them
    assert (parsed.send, parsed.timeout, parsed.retries) == ("http://pacs/dicom-web", 5.0, 1)
    assert (parsed.batch_size, parsed.user, parsed.insecure) == (10, "me", True)
