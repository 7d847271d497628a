"""render_view: Slicer's own displayable managers draw the segment colour exactly where the segment
is (mapped pixel by pixel through the slice node's XY-to-RAS matrix) and nowhere else."""

from __future__ import annotations

import numpy as np
import pytest
import slicer
from mrml_helpers import dilate, erode

import dicomai_samples as samples
from dicomai_slicer import load_dicom_series, render_view
from dicomai_slicer._images import numpy_matrix

RED = (255, 0, 0)


def _png_rgb(path) -> np.ndarray:
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkIOImage import vtkPNGReader

    reader = vtkPNGReader()
    reader.SetFileName(str(path))
    reader.Update()
    image = reader.GetOutput()
    w, h, _ = image.GetDimensions()
    rgb = vtk_to_numpy(image.GetPointData().GetScalars()).reshape(h, w, -1)[..., :3]
    return rgb[::-1]  # first row on top


def _voxel_under_each_pixel(slice_node, volume, shape_hw):
    """(k, j, i) index of the volume voxel under every pixel centre (or -1 outside)."""
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    h, w = shape_hw
    xy_to_ras = numpy_matrix(slice_node.GetXYToRAS())
    m = vtkMatrix4x4()
    volume.GetRASToIJKMatrix(m)
    ras_to_ijk = numpy_matrix(m)
    rows, cols = np.mgrid[0:h, 0:w]
    xy = np.stack([cols.ravel(), (h - 1 - rows).ravel(), np.zeros(h * w), np.ones(h * w)])
    ijk = np.rint((ras_to_ijk @ xy_to_ras @ xy)[:3]).astype(int)
    return ijk[::-1].reshape(3, h, w)


@pytest.mark.parametrize("view", ["Red", "Yellow", "Green"])
def test_segment_colour_is_drawn_where_the_segment_is_and_nowhere_else(scene, tmp_path, view):
    grid = samples.make_grid((24, 48, 40), (2.0, 2.0, 2.0))
    ct = np.full(grid.shape, 40, np.int16)  # flat grey background
    samples.write_series(tmp_path / "ct", ct, grid)
    volume = load_dicom_series(tmp_path / "ct")
    mask = np.zeros(grid.shape, np.uint8)
    mask[6:18, 10:30, 8:22] = 1  # a box: its outline and inside are unambiguous
    seg = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "box")
    seg.SetReferenceImageGeometryParameterFromVolumeNode(volume)
    seg.CreateDefaultDisplayNodes()
    sid = seg.GetSegmentation().AddEmptySegment("box", "box", [1.0, 0.0, 0.0])
    slicer.util.updateSegmentBinaryLabelmapFromArray(mask, seg, sid, volume)

    path, rgb = render_view(
        tmp_path / "view.png", view, volume, seg, size=(200, 160), fill_opacity=1.0, return_array=True
    )
    assert path.is_file()
    png = _png_rgb(path)
    assert np.array_equal(png, rgb)
    slice_node = slicer.mrmlScene.GetNodeByID(f"vtkMRMLSliceNode{view}")
    k, j, i = _voxel_under_each_pixel(slice_node, volume, png.shape[:2])
    inside_volume = (k >= 0) & (k < 24) & (j >= 0) & (j < 48) & (i >= 0) & (i < 40)
    in_mask = np.zeros(png.shape[:2], bool)
    in_mask[inside_volume] = mask[k[inside_volume], j[inside_volume], i[inside_volume]] == 1
    red = np.all(png == RED, axis=-1)
    # away from the box's edge (one pixel of slack for pixel/voxel centre rounding)
    assert in_mask.sum() > 100
    assert np.all(red[erode(in_mask)]), "the segment is not drawn in its colour inside it"
    assert not np.any(red[~dilate(in_mask)]), "the segment colour appears outside the segment"
    grey = ~dilate(in_mask) & inside_volume
    assert np.all(png[grey][:, 0] == png[grey][:, 1]) and np.all(png[grey][:, 1] == png[grey][:, 2])


def test_render_centres_on_the_content_and_restores_display_settings(scene, tmp_path):
    grid = samples.make_grid((30, 32, 32), (2.0, 2.0, 2.0))
    samples.write_series(tmp_path / "ct", np.zeros(grid.shape, np.int16), grid)
    volume = load_dicom_series(tmp_path / "ct")
    mask = np.zeros(grid.shape, np.uint8)
    mask[3:5, 10:20, 10:20] = 1  # near the first slices only
    seg = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "low")
    seg.SetReferenceImageGeometryParameterFromVolumeNode(volume)
    seg.CreateDefaultDisplayNodes()
    sid = seg.GetSegmentation().AddEmptySegment("low", "low", [0.0, 1.0, 0.0])
    slicer.util.updateSegmentBinaryLabelmapFromArray(mask, seg, sid, volume)
    display = seg.GetDisplayNode()
    before = (display.GetOpacity2DFill(), display.GetOpacity2DOutline())
    _, rgb = render_view(
        tmp_path / "v.png", "Red", volume, seg, size=(64, 64), fill_opacity=1.0, return_array=True
    )
    assert (display.GetOpacity2DFill(), display.GetOpacity2DOutline()) == before
    assert np.any(np.all(rgb == (0, 255, 0), axis=-1)), "the slice does not pass through the segment"
    offset = slicer.mrmlScene.GetNodeByID("vtkMRMLSliceNodeRed").GetSliceOffset()
    z = [volume.GetOrigin()[2] + 2.0 * k for k in (3, 4)]
    assert min(z) - 1.0 <= offset <= max(z) + 1.0
