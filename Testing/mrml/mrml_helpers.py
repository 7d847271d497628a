"""Helpers for the MRML tests: synthetic series, segmentation nodes built the ways Slicer users do,
and reading a node's voxels back through Slicer's own API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.sr.codedict import codes

import dicomai_samples as samples
from dicomai.coding import terminology_to_string
from series_kinds import KINDS as _ALL_KINDS  # noqa: E402
from series_kinds import SHAPE  # noqa: E402

# the kinds the MRML suites run on
KINDS = {k: _ALL_KINDS[k] for k in ("axial", "oblique", "sagittal", "coronal", "mr")}

# label value -> (name, rgb, category, type, modifier, region)
SEGMENTS = {
    1: ("Liver", (221, 130, 101), codes.SCT.AnatomicalStructure, codes.SCT.Liver, None, None),
    2: ("Spleen", (157, 108, 162), codes.SCT.AnatomicalStructure, codes.SCT.Spleen, None, None),
    3: (
        "Right kidney",
        (185, 102, 83),
        codes.SCT.AnatomicalStructure,
        codes.SCT.Kidney,
        codes.SCT.Right,
        None,
    ),
    4: ("Left kidney", (185, 102, 84), codes.SCT.AnatomicalStructure, codes.SCT.Kidney, codes.SCT.Left, None),
    5: (
        "Liver lesion",
        (144, 238, 144),
        codes.SCT.MorphologicallyAbnormalStructure,
        codes.SCT.Neoplasm,
        None,
        codes.SCT.Liver,
    ),
}


@dataclass
class Case:
    folder: Path
    info: object  # samples.SeriesInfo
    ct: np.ndarray
    labels: np.ndarray

    @property
    def grid(self):
        return self.info.grid


def write_case(folder, kind: str, shape=SHAPE, seed: int = 0) -> Case:
    grid_kw, series_kw = KINDS[kind]
    grid = samples.make_grid(shape=shape, **grid_kw)
    ct, labels, _ = samples.phantom(shape, seed=seed)
    if series_kw.get("modality") == "MR":
        ct = (ct.astype(np.int32) + 1024).clip(0, 4095).astype(np.uint16)
    info = samples.write_series(
        folder, ct, grid, file_names="random", seed=seed, reverse_instance_numbers=True, **series_kw
    )
    return Case(Path(folder), info, ct, labels)


def terminology(value: int) -> str:
    _name, _rgb, category, typ, modifier, region = SEGMENTS[value]
    return terminology_to_string(category, typ, modifier, region)


def labelmap_node(scene, labels, volume, name="labels", with_colors=True):
    """A labelmap volume node on the volume's geometry, with a colour table naming the labels."""
    import slicer

    node = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", name)
    slicer.util.updateVolumeFromArray(node, np.ascontiguousarray(labels))
    node.CopyOrientation(volume)
    node.CreateDefaultDisplayNodes()
    if with_colors:
        table = scene.AddNewNodeByClass("vtkMRMLColorTableNode", name + " colours")
        table.SetTypeToUser()
        table.SetNumberOfColors(max(SEGMENTS) + 1)
        table.SetColor(0, "Background", 0, 0, 0, 0)
        for value, (label, rgb, *_rest) in SEGMENTS.items():
            table.SetColor(value, label, *(c / 255.0 for c in rgb), 1.0)
        node.GetDisplayNode().SetAndObserveColorNodeID(table.GetID())
    return node


def segmentation_node(scene, labels, volume, name="AI", terminology_too=True):
    """A segmentation node made the usual Slicer way: ImportLabelmapToSegmentationNode, then
    names, colours and terminology per segment. Returns (node, {label value: segment ID})."""
    import slicer

    from dicomai_slicer.segmentation import set_terminology

    lm = labelmap_node(scene, labels, volume, name + " labelmap")
    node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name)
    node.SetReferenceImageGeometryParameterFromVolumeNode(volume)
    assert slicer.vtkSlicerSegmentationsModuleLogic.ImportLabelmapToSegmentationNode(lm, node)
    node.CreateDefaultDisplayNodes()
    sg = node.GetSegmentation()
    ids = {}
    for n in range(sg.GetNumberOfSegments()):
        segment = sg.GetNthSegment(n)
        value = segment.GetLabelValue()
        label, rgb, *_ = SEGMENTS[value]
        segment.SetName(label)
        segment.SetColor(*(c / 255.0 for c in rgb))
        if terminology_too:
            set_terminology(segment, terminology(value))
        ids[value] = sg.GetNthSegmentID(n)
    scene.RemoveNode(lm)
    return node, ids


def segment_array(node, segment_id, volume) -> np.ndarray:
    """A segment's voxels on the volume's grid, read with Slicer's own slicer.util helper."""
    import slicer

    return slicer.util.arrayFromSegmentBinaryLabelmap(node, segment_id, volume).astype(bool)


def segments_by_name(node) -> dict:
    sg = node.GetSegmentation()
    return {sg.GetNthSegment(n).GetName(): sg.GetNthSegmentID(n) for n in range(sg.GetNumberOfSegments())}


def node_voxel_counts(node) -> dict:
    """Segment name -> voxel count, read from the node's shared labelmap layers directly."""
    from dicomai_slicer._images import array_view

    sg = node.GetSegmentation()
    out = {}
    for n in range(sg.GetNumberOfSegments()):
        sid = sg.GetNthSegmentID(n)
        segment = sg.GetSegment(sid)
        arr = array_view(sg.GetLayerDataObject(sg.GetLayerIndex(sid)))
        out[segment.GetName()] = int(np.count_nonzero(arr == segment.GetLabelValue()))
    return out


def rgb255(segment) -> tuple:
    return tuple(int(round(c * 255)) for c in segment.GetColor())


def dilate(mask: np.ndarray) -> np.ndarray:
    """2D binary dilation with a 3x3 square (numpy only)."""
    out = mask.copy()
    padded = np.pad(mask, 1)
    h, w = mask.shape
    for dr in (0, 1, 2):
        for dc in (0, 1, 2):
            out |= padded[dr : dr + h, dc : dc + w]
    return out


def erode(mask: np.ndarray) -> np.ndarray:
    """2D binary erosion with a 3x3 square (numpy only)."""
    return ~dilate(~mask)
