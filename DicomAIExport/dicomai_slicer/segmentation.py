"""Segmentation and labelmap nodes <-> :class:`dicomai.seg.content.SegmentationContent`.

Both sides hold voxels the same way: integer *layers* shared by non-overlapping segments, each
segment a label value in one layer (Slicer's shared labelmaps; vtkSegmentation GetNumberOfLayers /
GetLayerDataObject / vtkSegment GetLabelValue). So a node becomes content layer by layer and
content becomes a node layer by layer, never segment by segment: a 100-segment result costs one
array per layer, not 100 masks, and no temporary files.

Segment metadata both ways:

- name <-> SegmentLabel; colour (0-1 RGB) <-> sRGB 0-255 (CIELab in the file);
- Slicer's terminology entry string (``vtkSegment.SetTerminology`` / the "TerminologyEntry" tag)
  <-> category, type, type modifier, anatomic region and its modifier codes;
- tags "Description", "DICOM.SegmentAlgorithmType", "DICOM.SegmentAlgorithmName" (the ones
  Slicer's own SEG plugin sets), "DICOM.SegmentAlgorithmVersion", "DICOM.TrackingIdentifier",
  "DICOM.TrackingUniqueIdentifier".
"""

from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np

from dicomai.errors import DicomAIError

__all__ = [
    "TAG_ALGORITHM_NAME",
    "TAG_ALGORITHM_TYPE",
    "TAG_ALGORITHM_VERSION",
    "TAG_DESCRIPTION",
    "apply_segment_info",
    "content_from_labelmap_node",
    "content_from_segmentation_node",
    "get_terminology",
    "label_counts",
    "segment_voxel_counts",
    "segment_info_from_segment",
    "segmentation_node_from_content",
    "set_terminology",
]

TAG_DESCRIPTION = "Description"
TAG_ALGORITHM_TYPE = "DICOM.SegmentAlgorithmType"
TAG_ALGORITHM_NAME = "DICOM.SegmentAlgorithmName"
TAG_ALGORITHM_VERSION = "DICOM.SegmentAlgorithmVersion"
TAG_TRACKING_ID = "DICOM.TrackingIdentifier"
TAG_TRACKING_UID = "DICOM.TrackingUniqueIdentifier"
_TERMINOLOGY_TAG = "TerminologyEntry"
_TISSUE = ("85756007", "SCT")  # Slicer's default category and type for new segments
# colours for segments whose SEG gives none (distinct, in the spirit of Slicer's label colours)
_PALETTE = (
    (128, 174, 128),
    (241, 214, 145),
    (177, 122, 101),
    (111, 184, 210),
    (216, 101, 79),
    (221, 130, 101),
    (144, 238, 144),
    (192, 104, 88),
    (220, 245, 20),
    (78, 63, 0),
)


# ------------------------------------------------------------------------------- small helpers
def _binary_labelmap_name() -> str:
    import slicer

    return slicer.vtkSegmentationConverter.GetSegmentationBinaryLabelmapRepresentationName()


def _get_tag(segment, name: str) -> str:
    from vtkmodules import vtkCommonCore

    holder = getattr(vtkCommonCore, "reference", None) or vtkCommonCore.mutable
    value = holder("")
    if not segment.GetTag(name, value):
        return ""
    return str(value.get() if hasattr(value, "get") else value)


def get_terminology(segment) -> str:
    """A segment's terminology entry string ("" when none)."""
    if hasattr(segment, "GetTerminology"):
        return segment.GetTerminology() or ""
    name = segment.GetTerminologyEntryTagName() if hasattr(segment, "GetTerminologyEntryTagName") else None
    return _get_tag(segment, name or _TERMINOLOGY_TAG)


def set_terminology(segment, entry: str) -> None:
    """Set a segment's terminology entry string (``SetTerminology``, or the tag on older Slicer)."""
    if hasattr(segment, "SetTerminology"):
        segment.SetTerminology(entry)
        return
    name = segment.GetTerminologyEntryTagName() if hasattr(segment, "GetTerminologyEntryTagName") else None
    segment.SetTag(name or _TERMINOLOGY_TAG, entry)


def _rgb255(rgb01) -> tuple:
    return tuple(int(round(min(max(float(c), 0.0), 1.0) * 255.0)) for c in rgb01[:3])


def _is_tissue(code) -> bool:
    return code is not None and (str(code.value), str(code.scheme_designator)) == _TISSUE


# ------------------------------------------------------------------------- segment <-> SegmentInfo
def segment_info_from_segment(
    segment,
    number: int,
    warnings: list,
    algorithm_name: Optional[str] = None,
    algorithm_version: Optional[str] = None,
    algorithm_type: Optional[str] = None,
):
    """A :class:`~dicomai.seg.content.SegmentInfo` for one vtkSegment (voxels not included).

    Algorithm type: ``algorithm_type``, else AUTOMATIC when ``algorithm_name`` is given, else
    the segment's "DICOM.SegmentAlgorithmType" tag, else AUTOMATIC when it has an algorithm name
    tag, else MANUAL (as Slicer's own exporter). Codes: from the terminology entry; when it has
    none, or only Slicer's default "Tissue", and the name is a known concept ("Liver",
    "left kidney"), the codes are looked up from the name (with a warning).
    """
    from dicomai.coding import format_code, terminology_from_string
    from dicomai.seg.content import SegmentInfo
    from dicomai.seg.metadata import complete_codes, find_codes

    name = segment.GetName() or f"Segment {number}"
    term = terminology_from_string(get_terminology(segment))
    category, typ = term["category"], term["type"]
    type_modifiers = [term["type_modifier"]] if term["type_modifier"] is not None else []
    # a terminology chosen in the segment editor always wins; only Slicer's default "Tissue" is
    # replaced by what the name says (TotalSegmentator's mapping, Slicer's contexts, CID 7151)
    if category is not None and typ is not None and _is_tissue(category) and _is_tissue(typ):
        found = find_codes(name)
        if found is not None and not _is_tissue(found.type):
            category, typ = found.category, found.type
            type_modifiers = [found.type_modifier] if found.type_modifier is not None else []
            if term["region"] is None and found.region is not None:
                term["region"], term["region_modifier"] = found.region, found.region_modifier
            warnings.append(
                f"segment {name!r}: terminology is Slicer's default 'Tissue'; coded from its name as "
                f"{format_code(typ)}"
                + (f" {format_code(found.type_modifier)}" if found.type_modifier is not None else "")
            )
    tag_type = _get_tag(segment, TAG_ALGORITHM_TYPE).upper()
    tag_name = _get_tag(segment, TAG_ALGORITHM_NAME)
    if algorithm_type:
        a_type = str(algorithm_type).upper()
    elif algorithm_name:
        a_type = "AUTOMATIC"
    elif tag_type in ("AUTOMATIC", "SEMIAUTOMATIC", "MANUAL"):
        a_type = tag_type
    else:
        a_type = "AUTOMATIC" if tag_name else "MANUAL"
    info = SegmentInfo(
        number=number,
        label=name,
        category=category,
        type=typ,
        type_modifiers=type_modifiers,
        anatomic_region=term["region"],
        anatomic_region_modifiers=[term["region_modifier"]] if term["region_modifier"] is not None else [],
        description=_get_tag(segment, TAG_DESCRIPTION),
        color=_rgb255(segment.GetColor()),
        algorithm_type=a_type,
        algorithm_name=algorithm_name or tag_name or None,
        algorithm_version=algorithm_version or _get_tag(segment, TAG_ALGORITHM_VERSION) or None,
        tracking_id=_get_tag(segment, TAG_TRACKING_ID) or None,
        tracking_uid=_get_tag(segment, TAG_TRACKING_UID) or None,
    )
    if info.category is None or info.type is None:
        complete_codes(info, warnings)
    return info


def generic_coded_segments(node) -> list:
    """Names of the segments of a segmentation or labelmap node that an export would code with
    the generic "Tissue" (no terminology chosen, and a name no terminology knows)."""
    from dicomai.coding import terminology_from_string
    from dicomai.seg.metadata import find_codes

    out: list = []
    if node is None:
        return out
    if node.IsA("vtkMRMLSegmentationNode"):
        segmentation = node.GetSegmentation()
        for i in range(segmentation.GetNumberOfSegments()):
            info = segment_info_from_segment(segmentation.GetNthSegment(i), i + 1, [])
            if info.type is None or _is_tissue(info.type):
                out.append(info.label)
    elif node.IsA("vtkMRMLLabelMapVolumeNode") and node.GetImageData() is not None:
        import slicer

        values = [int(v) for v in np.unique(slicer.util.arrayFromVolume(node)) if v != 0]
        display = node.GetDisplayNode()
        colors = display.GetColorNode() if display is not None else None
        for value in values:
            label = None
            if colors is not None and value < colors.GetNumberOfColors():
                label = colors.GetColorName(value) or None
                if hasattr(colors, "GetTerminologyAsString") and colors.GetTerminologyAsString(value):
                    term = terminology_from_string(colors.GetTerminologyAsString(value))
                    if term["type"] is not None and not _is_tissue(term["type"]):
                        continue
            label = label if label not in (None, "", "(none)") else f"Label {value}"
            found = find_codes(label)
            if found is None or _is_tissue(found.type):
                out.append(label)
    return out


def apply_segment_info(segment, info) -> None:
    """Name, colour, terminology and DICOM tags of a SegmentInfo onto a vtkSegment."""
    from dicomai.coding import terminology_to_string

    segment.SetName(info.label)
    if hasattr(segment, "SetNameAutoGenerated"):
        segment.SetNameAutoGenerated(False)
    color = info.color if info.color is not None else _PALETTE[(info.number - 1) % len(_PALETTE)]
    segment.SetColor(*(c / 255.0 for c in color))
    if hasattr(segment, "SetColorAutoGenerated"):
        segment.SetColorAutoGenerated(info.color is None)
    if info.category is not None or info.type is not None:
        set_terminology(
            segment,
            terminology_to_string(
                info.category,
                info.type,
                info.type_modifiers[0] if info.type_modifiers else None,
                info.anatomic_region,
                info.anatomic_region_modifiers[0] if info.anatomic_region_modifiers else None,
            ),
        )
    for tag, value in (
        (TAG_DESCRIPTION, info.description),
        (TAG_ALGORITHM_TYPE, info.algorithm_type),
        (TAG_ALGORITHM_NAME, info.algorithm_name),
        (TAG_ALGORITHM_VERSION, info.algorithm_version),
        (TAG_TRACKING_ID, info.tracking_id),
        (TAG_TRACKING_UID, info.tracking_uid),
    ):
        if value:
            segment.SetTag(tag, str(value))


# ------------------------------------------------------------------------------ layers -> content
def label_counts(array: np.ndarray) -> np.ndarray:
    """Histogram of the label values of an integer array, slice by slice.

    (``np.bincount`` of a whole uint8 volume first copies it to int64: 8x its size.)
    """
    top = int(array.max()) if array.size else 0
    counts = np.zeros(top + 1, np.int64)
    for k in range(array.shape[0]):
        counts += np.bincount(array[k].ravel(), minlength=top + 1)
    return counts


def segment_voxel_counts(content) -> dict:
    """Segment number -> voxel count, without whole-volume temporaries."""
    out = {}
    for li, layer in enumerate(content.layers):
        counts = label_counts(layer)
        for s in content.segments:
            if s.layer == li:
                out[s.number] = int(counts[s.label_value]) if s.label_value < len(counts) else 0
    return out


class _LayerPacker:
    """Puts labelmap layers (each a region of the grid) into as few content layers as possible.

    A whole input layer goes into the first output layer where none of its selected voxels is
    taken, its label values mapped through one lookup table; so the cost is a few passes over
    each layer's region, whatever the number of segments.
    """

    def __init__(self, shape, n_segments: int):
        self.shape = tuple(shape)
        self.dtype = np.uint8 if n_segments < 256 else np.uint16
        self.layers: List[np.ndarray] = []
        self.next_value: List[int] = []
        self.borrowed: set = set()  # layers that are views of the node's own voxels: never written

    def add(self, sub: np.ndarray, region, label_values: Sequence[int]) -> tuple:
        """Place the voxels of ``label_values`` in ``sub`` (at ``region``); returns (layer, {old: new})."""
        if not self.layers and sub.shape == self.shape and self._identity_ok(sub, label_values):
            # the common case: one layer on the grid itself; keep its values and its memory
            self.layers.append(sub)
            self.next_value.append(int(max(label_values, default=0)))
            self.borrowed.add(0)
            return 0, {int(v): int(v) for v in label_values}
        top = int(sub.max()) if sub.size else 0
        lut = np.zeros(max(top, *label_values, 0) + 1, dtype=bool)
        for v in label_values:
            lut[int(v)] = True
        selected = lut[sub] if sub.size else np.zeros(sub.shape, bool)
        target = None
        for li, layer in enumerate(self.layers):
            if li in self.borrowed or self.next_value[li] + len(label_values) >= np.iinfo(self.dtype).max:
                continue
            if not np.any(layer[region][selected]):
                target = li
                break
        if target is None:
            self.layers.append(np.zeros(self.shape, self.dtype))
            self.next_value.append(0)
            target = len(self.layers) - 1
        start = self.next_value[target]
        mapping = {int(v): start + n for n, v in enumerate(sorted(int(v) for v in label_values), start=1)}
        values = np.zeros(lut.shape[0], self.dtype)
        for old, new in mapping.items():
            values[old] = new
        if sub.size:
            view = self.layers[target][region]
            view[selected] = values[sub[selected]]
        self.next_value[target] = start + len(mapping)
        return target, mapping

    @staticmethod
    def _identity_ok(sub: np.ndarray, label_values) -> bool:
        return np.issubdtype(sub.dtype, np.integer) and all(int(v) > 0 for v in label_values)

    def result(self) -> List[np.ndarray]:
        return self.layers or [np.zeros(self.shape, np.uint8)]


def _as_integer(sub: np.ndarray, what: str) -> np.ndarray:
    from dicomai.errors import InputError

    if np.issubdtype(sub.dtype, np.integer):
        if sub.size and np.issubdtype(sub.dtype, np.signedinteger) and sub.min() < 0:
            raise InputError(f"{what} holds negative values: a labelmap must hold label values >= 0")
        return sub
    if sub.size and not np.all(np.equal(np.mod(sub, 1), 0)):
        raise InputError(f"{what} holds non-integer values ({sub.dtype}): it is not a labelmap")
    return sub.astype(np.uint16 if (sub.max() if sub.size else 0) > 255 else np.uint8)


def _resample_warning(what: str, image_grid, grid) -> str:
    return (
        f"{what} does not lie on the reference grid ({', '.join(image_grid.differences(grid)) or 'lattice'} "
        f"differ): resampled onto it with nearest-neighbour interpolation, as Slicer's own export does. "
        f"{what}: {image_grid.describe()}; reference: {grid.describe()}"
    )


def _surface_to_labelmap(node, grid, warnings: list) -> bool:
    """Make a binary labelmap representation of a closed-surface segmentation on ``grid``.

    Returns True when the representation was created here (the caller removes it afterwards).
    """
    import slicer

    from dicomai.errors import InputError

    from ._images import reference_image

    segmentation = node.GetSegmentation()
    name = _binary_labelmap_name()
    if segmentation.ContainsRepresentation(name):
        return False
    source = (
        segmentation.GetSourceRepresentationName()
        if hasattr(segmentation, "GetSourceRepresentationName")
        else (segmentation.GetMasterRepresentationName())
    )
    converter = slicer.vtkSegmentationConverter
    parameter = converter.GetReferenceImageGeometryParameterName()
    previous = segmentation.GetConversionParameter(parameter)
    segmentation.SetConversionParameter(parameter, converter.SerializeImageGeometry(reference_image(grid)))
    try:
        ok = segmentation.CreateRepresentation(name)
    finally:
        segmentation.SetConversionParameter(parameter, previous)
    if not ok:
        raise InputError(
            f"segmentation {node.GetName()!r} holds {source!r} segments that cannot be converted to a "
            "binary labelmap"
        )
    warnings.append(
        f"segmentation {node.GetName()!r}: its source representation is {source!r}; converted to a "
        "binary labelmap on the reference grid for export"
    )
    return True


def content_from_segmentation_node(
    node,
    grid,
    segment_ids: Optional[Sequence[str]] = None,
    source_to_target=None,
    warnings: Optional[list] = None,
    algorithm_name: Optional[str] = None,
    algorithm_version: Optional[str] = None,
    algorithm_type: Optional[str] = None,
):
    """A segmentation node's segments as content on ``grid`` (the reference series' grid).

    Each shared labelmap layer is brought onto the grid once: pasted when it lies on the grid's
    lattice (the normal case; padded when its extent is smaller), else resampled
    (nearest neighbour) with a warning. Closed-surface segmentations are rasterised on the grid
    first (the node's own representations are left as they were).

    Raises
    ------
    dicomai.errors.InputError
        Unknown segment IDs, no segments, non-labelmap voxel values.
    """
    from dicomai.errors import InputError
    from dicomai.seg.content import SegmentationContent

    from ._images import grid_of_image, region_on_grid

    warnings = warnings if warnings is not None else []
    segmentation = node.GetSegmentation()
    node_name = node.GetName()
    all_ids = [segmentation.GetNthSegmentID(n) for n in range(segmentation.GetNumberOfSegments())]
    if segment_ids is None:
        ids = all_ids
    else:
        ids = [str(s) for s in segment_ids]
        unknown = [s for s in ids if s not in all_ids]
        if unknown:
            raise InputError(
                f"segmentation {node_name!r} has no segment(s) {', '.join(map(repr, unknown))}; its segment "
                f"IDs are {', '.join(map(repr, all_ids[:20]))}{' ...' if len(all_ids) > 20 else ''}"
            )
    if not ids:
        raise InputError(f"segmentation {node_name!r} has no segments: nothing to export")

    created = _surface_to_labelmap(node, grid, warnings)
    try:
        # segments sharing one labelmap image are one layer (whatever the source representation)
        by_layer: dict = {}
        images: dict = {}
        binary = _binary_labelmap_name()
        for sid in ids:
            image = segmentation.GetSegment(sid).GetRepresentation(binary)
            if image is None:
                raise InputError(f"segment {sid!r} of {node_name!r} has no binary labelmap")
            key = image.GetAddressAsString("vtkOrientedImageData")
            images[key] = image
            by_layer.setdefault(key, []).append(sid)
        packer = _LayerPacker(grid.shape, len(ids))
        placed = {}  # segment ID -> (content layer, label value)
        resampled_any = None
        for number, (key, sids) in enumerate(by_layer.items()):
            image = images[key]
            values = [int(segmentation.GetSegment(s).GetLabelValue()) for s in sids]
            sub, region, resampled = region_on_grid(image, grid, source_to_target)
            sub = _as_integer(sub, f"segmentation {node_name!r} layer {number}")
            if resampled and resampled_any is None:
                resampled_any = grid_of_image(image)
            target, mapping = packer.add(sub, region, values)
            for sid, v in zip(sids, values):
                placed[sid] = (target, mapping[v])
        if resampled_any is not None:
            warnings.append(_resample_warning(f"segmentation {node_name!r}", resampled_any, grid))
        segments = []
        for number, sid in enumerate(ids, start=1):
            info = segment_info_from_segment(
                segmentation.GetSegment(sid),
                number,
                warnings,
                algorithm_name,
                algorithm_version,
                algorithm_type,
            )
            info.layer, info.label_value = placed[sid]
            segments.append(info)
        layers = packer.result()
    finally:
        if created:
            segmentation.RemoveRepresentation(_binary_labelmap_name())
    return SegmentationContent(grid=grid, segments=segments, layers=layers, warnings=list(warnings))


def content_from_labelmap_node(
    node,
    grid,
    source_to_target=None,
    warnings: Optional[list] = None,
    algorithm_name: Optional[str] = None,
    algorithm_version: Optional[str] = None,
    algorithm_type: Optional[str] = None,
    label_values: Optional[Sequence[int]] = None,
):
    """A labelmap volume node as content on ``grid``: one segment per label value present.

    Names and colours come from the node's colour table (and its terminology, Slicer 5.8+);
    labels the table does not name are "Label N" coded from the name or as generic tissue.
    """
    from dicomai.coding import terminology_from_string
    from dicomai.errors import InputError
    from dicomai.seg.content import SegmentationContent, SegmentInfo
    from dicomai.seg.metadata import complete_codes, default_segment

    from ._images import grid_of_volume, onto_grid, oriented_image_of_volume

    warnings = warnings if warnings is not None else []
    name = node.GetName()
    if node.GetImageData() is None:
        raise InputError(f"labelmap {name!r} has no image data")
    array, resampled = onto_grid(oriented_image_of_volume(node), grid, source_to_target)
    array = _as_integer(array, f"labelmap {name!r}")
    if resampled:
        warnings.append(_resample_warning(f"labelmap {name!r}", grid_of_volume(node), grid))
    counts = label_counts(array)
    present = [int(v) for v in np.flatnonzero(counts) if v != 0]
    if label_values is not None:
        wanted = [int(v) for v in label_values]
        absent = [v for v in wanted if v not in present]
        if absent:
            raise InputError(f"labelmap {name!r} has no voxel with label value(s) {absent}")
        present = wanted
    if not present:
        raise InputError(f"labelmap {name!r} is empty (every voxel is 0): there is no segment to export")

    display = node.GetDisplayNode()
    color_node = display.GetColorNode() if display is not None else None
    segments = []
    for number, value in enumerate(present, start=1):
        label, rgb, term = None, None, None
        if color_node is not None and value < color_node.GetNumberOfColors():
            label = color_node.GetColorName(value) or None
            rgba = [0.0, 0.0, 0.0, 0.0]
            if color_node.GetColor(value, rgba):
                rgb = _rgb255(rgba)
            if hasattr(color_node, "GetTerminologyAsString"):
                text = color_node.GetTerminologyAsString(value)
                term = terminology_from_string(text) if text else None
        if label in (None, "", "(none)"):
            label = f"Label {value}"
        if term and term["category"] is not None and term["type"] is not None:
            info = SegmentInfo(
                number=number,
                label=label,
                category=term["category"],
                type=term["type"],
                type_modifiers=[term["type_modifier"]] if term["type_modifier"] is not None else [],
                anatomic_region=term["region"],
                anatomic_region_modifiers=[term["region_modifier"]] if term["region_modifier"] else [],
            )
        else:
            info = default_segment(value, label, warnings)
            info.number = number
        info.color = rgb if rgb is not None else info.color
        info.label_value = value
        info.layer = 0
        if algorithm_type:
            info.algorithm_type = str(algorithm_type).upper()
        elif not algorithm_name:
            info.algorithm_type = "MANUAL"
        info.algorithm_name = algorithm_name
        info.algorithm_version = algorithm_version
        complete_codes(info, warnings)
        segments.append(info)
    return SegmentationContent.from_labelmap(array, grid, segments, warnings=list(warnings))


# ------------------------------------------------------------------------------ content -> node
def segmentation_node_from_content(content, name: Optional[str] = None, reference_volume=None, scene=None):
    """A vtkMRMLSegmentationNode holding ``content`` (one shared labelmap per content layer).

    Each layer is copied once into a vtkOrientedImageData on the content's grid; its segments
    share it under their label values, exactly as Slicer stores segments that do not overlap.
    Segments get their names, colours, terminology and DICOM tags.
    """
    import slicer

    from ._images import image_from_array
    from .scene import current_scene

    scene = current_scene(scene)
    ijk_to_ras = content.grid.ijk_to_ras()
    images = [image_from_array(layer, ijk_to_ras) for layer in content.layers]
    segmentation = slicer.vtkSegmentation()
    binary = _binary_labelmap_name()
    if hasattr(segmentation, "SetSourceRepresentationName"):
        segmentation.SetSourceRepresentationName(binary)
    else:
        segmentation.SetMasterRepresentationName(binary)
    converter = slicer.vtkSegmentationConverter
    geometry_image = images[0] if images else None
    if geometry_image is not None:
        segmentation.SetConversionParameter(
            converter.GetReferenceImageGeometryParameterName(),
            converter.SerializeImageGeometry(geometry_image),
        )
    used_ids = set()
    for info in content.segments:
        segment = slicer.vtkSegment()
        apply_segment_info(segment, info)
        segment.SetLabelValue(int(info.label_value))
        segment.AddRepresentation(binary, images[info.layer])
        segment_id = f"Segment_{info.number}"
        while segment_id in used_ids:
            segment_id += "_"
        used_ids.add(segment_id)
        if not segmentation.AddSegment(segment, segment_id):
            raise DicomAIError(
                f"Slicer could not add segment {info.label!r} (number {info.number}) to the segmentation "
                f"{name or 'Segmentation'!r}: check that its label value and layer are valid"
            )
    node = scene.AddNewNodeByClass(
        "vtkMRMLSegmentationNode", scene.GenerateUniqueName(name or "Segmentation")
    )
    node.SetAndObserveSegmentation(segmentation)
    node.CreateDefaultDisplayNodes()
    if reference_volume is not None:
        node.SetReferenceImageGeometryParameterFromVolumeNode(reference_volume)
    return node
