"""SEGs written from Slicer nodes, judged by tools this project did not write: dicom3tools'
dciodvfy (zero errors) and dcmqi's segimage2itkimage (voxel for voxel)."""

from __future__ import annotations

import numpy as np
import pytest
from mrml_helpers import SEGMENTS, labelmap_node, segmentation_node

import peers
from dicomai.imageio import read_image
from dicomai_slicer import export_segmentation, load_dicom_series
from dicomai_slicer.export import SegExportOptions

pytestmark = pytest.mark.interop


def _exported(scene, series_dir, tmp_path, kind, node_kind, segmentation_type="BINARY"):
    case = series_dir(kind)
    volume = load_dicom_series(case.folder)
    if node_kind == "segmentation":
        node, _ = segmentation_node(scene, case.labels, volume)
    else:
        node = labelmap_node(scene, case.labels, volume)
    out = export_segmentation(
        node,
        volume,
        tmp_path / f"{kind}-{node_kind}.dcm",
        SegExportOptions(algorithm_name="Model", algorithm_version="1", segmentation_type=segmentation_type),
    )
    return case, out


@pytest.mark.parametrize(
    "kind,node_kind,seg_type",
    [
        ("axial", "segmentation", "BINARY"),
        ("oblique", "segmentation", "BINARY"),
        ("oblique", "labelmap", "BINARY"),
        ("axial", "segmentation", "LABELMAP"),
    ],
)
def test_seg_from_nodes_passes_dciodvfy_with_zero_errors(
    scene, series_dir, tmp_path, kind, node_kind, seg_type
):
    peers.require("dciodvfy")
    _, out = _exported(scene, series_dir, tmp_path, kind, node_kind, seg_type)
    result = peers.dciodvfy(out)
    assert result.errors == [], result.output


@pytest.mark.parametrize("kind,node_kind", [("axial", "segmentation"), ("oblique", "labelmap")])
def test_dcmqi_reads_the_seg_from_nodes_voxel_for_voxel(scene, series_dir, tmp_path, kind, node_kind):
    peers.require("segimage2itkimage")
    case, out = _exported(scene, series_dir, tmp_path, kind, node_kind)
    files = peers.segimage2itkimage(out, tmp_path / "dcmqi")
    nrrds = [p for p in files if p.suffix == ".nrrd"]
    assert len(nrrds) == len(SEGMENTS)
    grid = case.grid
    for number, path in enumerate(nrrds, start=1):
        array, their_grid = read_image(path)
        # dcmqi writes each segment on the SEG's frame lattice, cropped to the frames it has
        assert not their_grid.differences(grid) or set(their_grid.differences(grid)) <= {"size", "origin"}
        k0, r0, c0 = (int(round(v)) for v in grid.world_to_index(their_grid.origin))
        placed = np.zeros(grid.shape, bool)
        k, r, c = array.shape
        placed[k0 : k0 + k, r0 : r0 + r, c0 : c0 + c] = array != 0
        value = [v for v, d in SEGMENTS.items() if d[0] == out.segments[number - 1].label][0]
        assert np.array_equal(placed, case.labels == value), out.segments[number - 1].label
