"""Sample Slicer nodes for the demo and the pictures: the phantom's "AI result" as a segmentation
node made the way a Slicer extension makes it, and a line across the liver lesion.

Imports ``slicer`` (the application or slicer-core) and the adapters (:mod:`dicomai_slicer`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["fresh_scene", "make_ai_segmentation", "make_lesion_line", "phantom_codes"]


def fresh_scene(previous=None):
    """A new empty scene: ``create_scene()`` headless, the application's cleared scene in Slicer.

    ``previous``, a scene from an earlier call, is closed first (headless only).
    """
    import slicer

    from dicomai_slicer.scene import close_scene, create_scene, in_slicer_application

    if in_slicer_application():
        slicer.mrmlScene.Clear(0)
        return slicer.mrmlScene
    if previous is not None:
        close_scene(previous)  # fast: see close_scene
    return create_scene()


def phantom_codes() -> dict:
    """Per label value of :func:`~dicomai_samples.phantom`:
    ``(name, rgb, category, type, modifier, region, description)``.

    The lesion gets the liver as its anatomic region, as a model would say where it lies.
    """
    from pydicom.sr.codedict import codes

    from dicomai.coding import code_from_dict

    from .phantom import phantom_segments

    out = {}
    for d in phantom_segments():
        category = code_from_dict(d["SegmentedPropertyCategoryCodeSequence"])
        typ = code_from_dict(d["SegmentedPropertyTypeCodeSequence"])
        modifier = code_from_dict(d.get("SegmentedPropertyTypeModifierCodeSequence"))
        region = codes.SCT.Liver if typ.value == codes.SCT.Neoplasm.value else None
        out[int(d["labelID"])] = (
            d["SegmentLabel"],
            tuple(int(v) for v in d["recommendedDisplayRGBValue"]),
            category,
            typ,
            modifier,
            region,
            d.get("SegmentDescription", ""),
        )
    return out


def make_ai_segmentation(scene, volume, labels: np.ndarray, meta: dict):
    """The AI result as a Slicer extension makes it: labelmap + colour table -> segmentation node.

    Parameters
    ----------
    scene:
        The MRML scene.
    volume:
        The CT volume node (the labelmap takes its geometry).
    labels:
        ``(slices, rows, columns)`` label values on the CT's voxels.
    meta:
        :func:`phantom_codes`: names, colours, codes and descriptions per label value.

    Returns
    -------
    vtkMRMLSegmentationNode
        One segment per label value, with its name, colour, terminology and description.
    """
    import slicer

    from dicomai.coding import terminology_to_string
    from dicomai.errors import DicomAIError
    from dicomai_slicer.segmentation import TAG_DESCRIPTION, set_terminology

    labelmap = _labelmap_with_colours(scene, volume, labels, meta)
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "AI organ segmentation")
    segmentation.SetReferenceImageGeometryParameterFromVolumeNode(volume)
    if not slicer.vtkSlicerSegmentationsModuleLogic.ImportLabelmapToSegmentationNode(labelmap, segmentation):
        raise DicomAIError(
            f"Slicer could not import the labelmap {labelmap.GetName()!r} into a segmentation: "
            "check that the labels hold integers on the volume's grid"
        )
    segmentation.CreateDefaultDisplayNodes()
    sg = segmentation.GetSegmentation()
    for n in range(sg.GetNumberOfSegments()):
        segment = sg.GetNthSegment(n)
        name, rgb, category, typ, modifier, region, description = meta[segment.GetLabelValue()]
        segment.SetName(name)
        segment.SetColor(*(c / 255.0 for c in rgb))
        set_terminology(segment, terminology_to_string(category, typ, modifier, region))
        segment.SetTag(TAG_DESCRIPTION, description)
    scene.RemoveNode(labelmap)
    return segmentation


def _labelmap_with_colours(scene, volume, labels: np.ndarray, meta: dict):
    """A labelmap volume node on ``volume``'s geometry with a colour table naming each label."""
    import slicer

    labelmap = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "model output")
    slicer.util.updateVolumeFromArray(labelmap, labels)
    labelmap.CopyOrientation(volume)
    table = scene.AddNewNodeByClass("vtkMRMLColorTableNode", "model labels")
    table.SetTypeToUser()
    table.SetNumberOfColors(max(meta) + 1)
    table.SetColor(0, "Background", 0.0, 0.0, 0.0, 0.0)
    for value, (name, rgb, *_rest) in meta.items():
        table.SetColor(value, name, *(c / 255.0 for c in rgb), 1.0)
    labelmap.CreateDefaultDisplayNodes()
    labelmap.GetDisplayNode().SetAndObserveColorNodeID(table.GetID())
    return labelmap


def make_lesion_line(scene, volume, lesion_mask: np.ndarray):
    """A line across the lesion's widest extent along the image rows, at its centre slice (RAS)."""
    from dicomai_slicer._images import grid_of_volume

    idx = np.argwhere(lesion_mask)
    k, r = (int(round(v)) for v in idx[:, :2].mean(axis=0))
    cols = idx[(idx[:, 0] == k) & (idx[:, 1] == r), 2]
    grid = grid_of_volume(volume)
    ends = grid.index_to_world([[k, r, cols.min()], [k, r, cols.max()]])  # LPS
    line = scene.AddNewNodeByClass("vtkMRMLMarkupsLineNode", "Lesion diameter")
    for p in ends:
        line.AddControlPoint([-p[0], -p[1], p[2]])  # RAS
    return line
