"""The demo passes its own checks (quick size), as a function and as ``python -m``; and a
100-segment segmentation goes node -> SEG -> node exactly, through shared layers."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
from mrml_helpers import node_voxel_counts

import dicomai_samples as samples
from dicomai.seg.content import SegmentationContent
from dicomai.seg.decode import read_seg
from dicomai.seg.metadata import load_metadata
from dicomai_slicer import create_scene, export_segmentation, load_dicom_objects, load_dicom_series
from dicomai_slicer._images import grid_of_volume
from dicomai_slicer.scene import close_scene
from dicomai_slicer.segmentation import segmentation_node_from_content


def test_quick_demo_passes_every_check_and_writes_its_files(tmp_path):
    from dicomai_samples.demo import run_demo

    lines = []
    report = run_demo(tmp_path, quick=True, log=lambda *a: lines.append(" ".join(map(str, a))))
    assert report.ok, report.failures
    assert len(report.rows) == 5 and all(all(r[3:7]) for r in report.rows)
    for name in ("ai-result.seg.dcm", "view.png", "view-coronal.png", "cli/cli-result.seg.dcm"):
        assert (tmp_path / name).is_file(), name
    assert any("Liver lesion" in line for line in lines)
    assert str(tmp_path / "view.png") in "\n".join(lines)
    close_scene()


def test_demo_runs_as_a_module_and_exits_zero(tmp_path):
    env = dict(os.environ)
    proc = subprocess.run(
        [sys.executable, "-m", "dicomai_samples.demo", "--quick", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all checks passed" in proc.stdout
    assert (tmp_path / "out" / "view.png").is_file()


def test_one_hundred_segments_round_trip_exactly_through_shared_layers(tmp_path):
    create_scene()
    grid = samples.make_grid((40, 96, 96), (2.0, 1.5, 1.5), orientation="oblique")
    labels, segs = samples.many_segments_labelmap(grid.shape, 100, seed=3)
    samples.write_series(tmp_path / "ct", (labels > 0).astype(np.int16) * 50, grid)
    volume = load_dicom_series(tmp_path / "ct")
    meta = load_metadata(samples.dcmqi_metadata(segs))
    content = SegmentationContent.from_labelmap(labels, grid_of_volume(volume), meta.segments)
    node = segmentation_node_from_content(content, "many", reference_volume=volume)
    sg = node.GetSegmentation()
    assert sg.GetNumberOfSegments() == 100 and sg.GetNumberOfLayers() == 1
    out = export_segmentation(node, volume, tmp_path / "many.dcm", algorithm_name="bench")
    assert len(out.segments) == 100
    back = read_seg(out)
    expected = {s["SegmentLabel"]: int((labels == s["labelID"]).sum()) for s in segs}
    assert {s.label: back.voxel_counts()[s.number] for s in back.segments} == expected
    close_scene()
    create_scene()
    nodes = load_dicom_objects([tmp_path / "ct", out])
    loaded = nodes[-1]
    assert loaded.GetSegmentation().GetNumberOfLayers() == 1
    assert node_voxel_counts(loaded) == expected
    close_scene()
