"""Markups and table nodes <-> DICOM SR (TID 1500), through the core's :mod:`dicomai.sr`.

Export: markups nodes (world RAS) -> core :class:`~dicomai.sr.content.Markup` (LPS) and a table
node -> core :class:`~dicomai.sr.tables.MeasurementTable`, then the core builds and writes the SR::

    export_report(ct_volume, "report.sr.dcm", markups=[points, line, roi], table=stats_table,
                  segmentation="organs.seg.dcm", model_name="LesionNet", model_version="2.1")

Import: :func:`load_sr` is the "SR" loader of :func:`dicomai_slicer.load_dicom_objects` (named in
:mod:`dicomai_slicer.families`). It loads the referenced series (and the referenced SEG, through
the load's context), then
makes one markups node per markup the report's coordinates describe and one table node with every
measurement and qualitative evaluation, under the SR's series in the subject hierarchy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from .export import WrittenFile

__all__ = [
    "ReportExport",
    "export_report",
    "load_sr",
    "markup_from_node",
    "markup_to_node",
    "table_from_node",
    "table_node_from_rows",
]

PathLike = Union[str, "os.PathLike[str]"]

# markups node class -> core kind; closed curves first (they are curves too)
_NODE_KINDS = (
    ("vtkMRMLMarkupsClosedCurveNode", "closed_curve"),
    ("vtkMRMLMarkupsCurveNode", "curve"),
    ("vtkMRMLMarkupsFiducialNode", "points"),
    ("vtkMRMLMarkupsLineNode", "line"),
    ("vtkMRMLMarkupsAngleNode", "angle"),
    ("vtkMRMLMarkupsPlaneNode", "plane"),
    ("vtkMRMLMarkupsROINode", "roi"),
)
_KIND_CLASSES = {kind: cls for cls, kind in _NODE_KINDS}

# Slicer measurement name -> the unit of vtkMRMLMeasurement::GetValue() (the unit string it shows
# may differ: area says cm2 while the value is in mm2)
_MEASUREMENT_UNITS = {"length": "mm", "area": "mm2", "angle": "deg", "volume": "mm3"}

_LPS = np.array([-1.0, -1.0, 1.0])


@dataclass(eq=False)
class ReportExport(WrittenFile):
    """What :func:`export_report` wrote; usable as the output path."""

    report: object = None
    sop_instance_uid: str = ""
    series_instance_uid: str = ""
    groups_2d: int = 0


# ------------------------------------------------------------------------------------ nodes -> core
def _kind_of(node) -> Optional[str]:
    for cls, kind in _NODE_KINDS:
        if node.IsA(cls):
            return kind
    return None


def _world_to_reference(reference_volume_node):
    """4x4 RAS matrix from world to the reference volume's own (DICOM) frame, or None (identity)."""
    from ._images import linear_transform_between

    parent = reference_volume_node.GetParentTransformNode() if reference_volume_node is not None else None
    if parent is None:
        return None
    return linear_transform_between(
        None,
        parent,
        f"reference volume {reference_volume_node.GetName()!r} is under a non-linear transform: "
        "harden it first",
        atol=1e-12,
    )


def _apply(matrix, points_ras) -> np.ndarray:
    p = np.asarray(points_ras, float).reshape(-1, 3)
    if matrix is None:
        return p
    return p @ matrix[:3, :3].T + matrix[:3, 3]


def _vec(getter, *args) -> np.ndarray:
    out = [0.0, 0.0, 0.0]
    getter(*args, out)
    return np.asarray(out, float)


def markup_from_node(node, world_to_reference=None, warnings: Optional[list] = None):
    """A markups node (any type) -> core :class:`~dicomai.sr.content.Markup` in LPS.

    Control points are taken in world coordinates (parent transforms applied), then mapped into
    the reference volume's frame when ``world_to_reference`` is given. Measurements Slicer has
    enabled are passed on (their values are what the SR reports); undefined control points are
    left out.
    """
    from dicomai.errors import InputError
    from dicomai.sr.content import Markup

    warnings = warnings if warnings is not None else []
    kind = _kind_of(node)
    if kind is None:
        raise InputError(f"{node.GetName()!r} is a {node.GetClassName()}, not a markups node")
    name = node.GetName()
    measurements = {}
    for key, unit in _MEASUREMENT_UNITS.items():
        m = node.GetMeasurement(key) if hasattr(node, "GetMeasurement") else None
        if m is not None and m.GetEnabled() and m.GetValueDefined():
            measurements[key] = (float(m.GetValue()), unit)
    if world_to_reference is not None and measurements:
        measurements = {}  # a transform between the node and the volume changes lengths: recompute
    if kind in ("roi", "plane"):
        center = _vec(node.GetCenterWorld)
        if kind == "roi":
            axes = np.column_stack(
                [_vec(node.GetXAxisWorld), _vec(node.GetYAxisWorld), _vec(node.GetZAxisWorld)]
            )
            size = _vec(node.GetSizeWorld)
        else:
            x, y, z = [0.0] * 3, [0.0] * 3, [0.0] * 3
            node.GetAxesWorld(x, y, z)
            axes = np.column_stack([x, y, z])
            size = _vec(node.GetSizeWorld)[:2]
        center = _apply(world_to_reference, center)[0]
        if world_to_reference is not None:
            axes = world_to_reference[:3, :3] @ axes
            norms = np.linalg.norm(axes, axis=0)
            size = size * norms[: len(size)]
            axes = axes / norms
        return Markup(kind, name, center=center * _LPS, size=size, orientation=axes * _LPS[:, None])
    points, labels, descriptions = [], [], []
    skipped = 0
    for i in range(node.GetNumberOfControlPoints()):
        if node.GetNthControlPointPositionStatus(i) != node.PositionDefined:
            skipped += 1
            continue
        points.append(_vec(node.GetNthControlPointPositionWorld, i))
        labels.append(node.GetNthControlPointLabel(i))
        descriptions.append(node.GetNthControlPointDescription(i))
    if skipped:
        warnings.append(f"{name!r}: {skipped} control point(s) without a position left out")
    lps = _apply(world_to_reference, np.asarray(points).reshape(-1, 3)) * _LPS
    curve_type = None
    if kind in ("curve", "closed_curve"):
        curve_type = node.GetCurveTypeAsString(node.GetCurveType())
    return Markup(
        kind,
        name,
        lps,
        labels=labels,
        descriptions=descriptions,
        measurements=measurements,
        curve_type=curve_type,
    )


def table_from_node(table_node, modality: Optional[str] = None):
    """A per-segment table node (Segment Statistics output or similar) -> core MeasurementTable."""
    from dicomai.sr.tables import table_from_rows

    n_cols = table_node.GetNumberOfColumns()
    header = [table_node.GetColumnName(c) for c in range(n_cols)]
    body = [
        [table_node.GetCellText(r, c) for c in range(n_cols)] for r in range(table_node.GetNumberOfRows())
    ]
    schema = {}
    for name in header:
        info = {"unitLabel": table_node.GetColumnUnitLabel(name) or ""}
        for key in ("DICOM.QuantityCode", "DICOM.DerivationCode", "DICOM.UnitsCode"):
            value = table_node.GetColumnProperty(name, key)
            if value:
                info[key] = value
        schema[name] = info
    return table_from_rows(
        header, body, schema=schema, modality=modality, name=f"table {table_node.GetName()!r}"
    )


def _seg_attachment(segmentation, scene):
    """The SEG a report's table refers to: a path, or a segmentation node loaded from a SEG."""
    from dicomai.errors import InputError
    from dicomai.sr.build import SegAttachment

    if segmentation is None:
        return None
    if isinstance(segmentation, (str, os.PathLike)):
        return SegAttachment.read(segmentation)
    if hasattr(segmentation, "IsA") and segmentation.IsA("vtkMRMLSegmentationNode"):
        uid = (segmentation.GetAttribute("DICOM.instanceUIDs") or "").split()
        path = _file_of_instance(uid[0], scene) if uid else None
        if path is None:
            raise InputError(
                f"segmentation {segmentation.GetName()!r} is not known as a DICOM SEG file: export it with "
                "export_segmentation() and pass the SEG file (segmentation=path)"
            )
        return SegAttachment.read(path)
    raise InputError(
        f"segmentation must be a SEG file or a segmentation node, got {type(segmentation).__name__}"
    )


def _file_of_instance(uid: str, scene=None) -> Optional[str]:
    """The file of a SOP instance: recorded with the scene (:mod:`.scene_files`: a series loaded into
    it, a SEG an SR loaded there referenced), else from ``slicer.dicomDatabase``; or None."""
    import slicer

    from .scene_files import scene_files

    f = scene_files(scene).file_of_instance(uid)
    if f:
        return f
    db = getattr(slicer, "dicomDatabase", None)
    if db is None:
        return None
    try:
        f = db.fileForInstance(uid)
    except Exception:
        return None
    return f or None


def export_report(
    reference_volume_node,
    output_file: PathLike,
    markups: Sequence = (),
    table=None,
    segmentation=None,
    *,
    findings: Sequence = (),
    model_name: Optional[str] = None,
    model_version: Optional[str] = None,
    model_manufacturer: Optional[str] = None,
    model_uid: Optional[str] = None,
    person: Optional[str] = None,
    procedure=None,
    coordinates: str = "auto",
    series_description: Optional[str] = None,
    series_number: Optional[int] = None,
    source_folder: Optional[PathLike] = None,
    source_files: Optional[Sequence[PathLike]] = None,
    seg_volumes: bool = True,
    overwrite: bool = False,
    scene=None,
) -> ReportExport:
    """Write markups nodes, a measurement table node and findings as a TID 1500 SR.

    Parameters
    ----------
    reference_volume_node:
        The CT/MR/PT volume (loaded from DICOM) everything refers to.
    output_file:
        The SR file to write.
    markups:
        Markups nodes of any type (point list, line, curve, closed curve, angle, plane, ROI).
    table:
        A table node whose rows are segments (Segment Statistics output, or ``Quantity (unit)``
        columns); its rows reference the segments of ``segmentation``.
    segmentation:
        The SEG file of those segments (e.g. what :func:`export_segmentation` returned), or a
        segmentation node loaded from a SEG. Without ``table``, each segment's volume is reported.
    findings:
        :class:`dicomai.sr.build.ImageFinding` objects (classification / detection results).
    model_name, model_version, model_manufacturer, model_uid, person:
        Observers (device: the AI model; person: name as ``Family^Given``).
    procedure:
        A code (:class:`dicomai.coding.Code`, pydicom's ``Code`` or ``"SCHEME^VALUE^Meaning"``),
        default from the modality.
    coordinates:
        ``"auto"`` (default: markups on one slice as SCOORD on that image, the others SCOORD3D;
        what the OHIF Viewer draws), ``"2d"`` (the same, warning about the ones left 3D) or
        ``"3d"`` (SCOORD3D for all).

    Returns
    -------
    ReportExport
        The path, with the warnings (e.g. markups outside the volume) and the report written.
    """
    from dicomai.errors import InputError
    from dicomai.sr.build import build_report
    from dicomai.sr.concepts import parse_code
    from dicomai.sr.content import DeviceObserver, PersonObserver
    from dicomai.sr.encode import write_sr

    from .scene import current_scene
    from .series import find_source_series

    if reference_volume_node is None:
        raise InputError("no reference volume: pass the CT/MR/PT volume the report is about")
    if output_file is None:
        raise InputError("no output file given for the report")
    scene = current_scene(scene)
    source, _ = find_source_series(reference_volume_node, source_folder, source_files, scene)
    warnings: list = []
    to_reference = _world_to_reference(reference_volume_node)
    core_markups = [markup_from_node(n, to_reference, warnings) for n in markups]
    core_table = table_from_node(table, source.modality) if table is not None else None
    seg = _seg_attachment(segmentation, scene)
    device = None
    if any([model_name, model_version, model_manufacturer, model_uid]):
        device = DeviceObserver(
            name=model_name,
            version=model_version,
            manufacturer=model_manufacturer,
            uid=model_uid,
            model_name=model_name,
        )
    if isinstance(procedure, str):
        procedure = parse_code(procedure, "procedure")
    report = build_report(
        source,
        markups=core_markups,
        table=core_table,
        seg=seg,
        findings=findings,
        device=device,
        person=PersonObserver(person) if person else None,
        procedure_reported=procedure,
        series_description=series_description,
        series_number=series_number,
        seg_volumes=seg_volumes,
    )
    result = write_sr(
        report,
        source,
        output_file,
        segs=[seg.dataset] if seg is not None else [],
        coordinates=coordinates,
        overwrite=overwrite,
    )
    return ReportExport(
        path=Path(result.path),
        warnings=warnings + report.warnings + result.warnings,
        report=report,
        sop_instance_uid=result.sop_instance_uid,
        series_instance_uid=result.series_instance_uid,
        groups_2d=result.groups_2d,
    )


# ------------------------------------------------------------------------------------ core -> nodes
def markup_to_node(markup, scene, curve_type: str = "linear"):
    """A core Markup (LPS) -> a new markups node in ``scene`` (RAS)."""
    from ._images import vtk_matrix

    node = scene.AddNewNodeByClass(_KIND_CLASSES[markup.kind], markup.name)
    if markup.kind == "roi":
        matrix = np.eye(4)
        matrix[:3, :3] = markup.orientation * _LPS[:, None]
        matrix[:3, 3] = markup.center * _LPS
        node.SetAndObserveObjectToNodeMatrix(vtk_matrix(matrix))
        node.SetSize(*[float(v) for v in markup.size])
    elif markup.kind == "plane":
        axes = markup.orientation * _LPS[:, None]
        node.SetCenterWorld(*[float(v) for v in markup.center * _LPS])
        node.SetAxesWorld(*[[float(v) for v in axes[:, i]] for i in range(3)])
        node.SetSizeMode(node.SizeModeAbsolute)
        node.SetSize(*[float(v) for v in markup.size[:2]])
    else:
        for i, p in enumerate(markup.points * _LPS):
            index = node.AddControlPoint(
                [float(v) for v in p], markup.labels[i] if i < len(markup.labels) else ""
            )
            if i < len(markup.descriptions) and markup.descriptions[i]:
                node.SetNthControlPointDescription(index, markup.descriptions[i])
        if markup.kind in ("curve", "closed_curve"):
            wanted = (markup.curve_type or curve_type or "linear").lower()
            if wanted == "linear":
                node.SetCurveTypeToLinear()
            elif wanted in ("spline", "cardinalspline", "cardinal spline"):
                node.SetCurveTypeToCardinalSpline()
    node.SetFixedNumberOfControlPoints(markup.kind in ("line", "angle"))
    node.CreateDefaultDisplayNodes()
    return node


def table_node_from_rows(rows: list, name: str, scene):
    """A table node with the report table (:data:`dicomai.sr.tables.TABLE_COLUMNS`)."""
    from vtkmodules.vtkCommonCore import vtkStringArray

    from dicomai.sr.tables import TABLE_COLUMNS

    node = scene.AddNewNodeByClass("vtkMRMLTableNode", name)
    was = node.StartModify()
    for column in TABLE_COLUMNS:
        array = vtkStringArray()
        array.SetName(column)
        node.AddColumn(array)
    for r in rows:
        index = node.AddEmptyRow()
        for c, column in enumerate(TABLE_COLUMNS):
            value = r.get(column, "")
            text = repr(value) if isinstance(value, float) else str(value)
            node.SetCellText(index, c, text)
    node.SetColumnDescription(
        "value", "number as written in the SR, or the answer of a qualitative evaluation"
    )
    node.SetColumnDescription("unit", "UCUM unit code")
    node.SetAttribute("readonly", "Yes")
    node.EndModify(was)
    return node


def _referenced_image_series(header) -> list:
    """Series UIDs the SR's evidence references, image series first (SEG / RWVM last)."""
    from dicomai.sr.decode import _NON_IMAGE_CLASSES

    images, others = [], []
    for keyword in ("CurrentRequestedProcedureEvidenceSequence", "PertinentOtherEvidenceSequence"):
        for study in header.get(keyword, []) or []:
            for series in study.get("ReferencedSeriesSequence", []) or []:
                uid = str(series.get("SeriesInstanceUID", ""))
                classes = {
                    str(s.get("ReferencedSOPClassUID", "")) for s in series.get("ReferencedSOPSequence", [])
                }
                target = others if classes and classes <= set(_NON_IMAGE_CLASSES) else images
                if uid and uid not in images + others:
                    target.append(uid)
    return images


def _existing_segmentation(scene, uid: str):
    for node in list(scene.GetNodesByClass("vtkMRMLSegmentationNode")):
        if uid in (node.GetAttribute("DICOM.instanceUIDs") or "").split():
            return node
    return None


def _find_seg_files(context, path: str, uids: list) -> dict:
    """SEG SOP Instance UID -> (file, header, given): among the given files, next to the SR, in the
    DICOM database."""
    import pydicom

    from dicomai.source import list_dicom_files

    found = {}
    for p, ds in context.headers.items():
        uid = str(ds.get("SOPInstanceUID", ""))
        if uid in uids:
            found[uid] = (p, ds, True)
    missing = [u for u in uids if u not in found]
    if missing:
        read = {os.path.abspath(p) for p in context.headers}  # read already (the SR itself...)
        for f in list_dicom_files(Path(path).resolve().parent):
            if os.path.abspath(f) in read:
                continue
            try:  # one tag first: the folder holds the whole series
                tag = pydicom.dcmread(f, stop_before_pixels=True, specific_tags=["SOPInstanceUID"])
                uid = str(tag.get("SOPInstanceUID", ""))
                if uid in missing and uid not in found:
                    found[uid] = (f, pydicom.dcmread(f, stop_before_pixels=True), False)
            except Exception:
                continue
    for uid in [u for u in uids if u not in found]:
        f = _file_of_instance(uid, context.scene)
        if f:
            try:
                found[uid] = (f, pydicom.dcmread(f, stop_before_pixels=True), False)
            except Exception:
                continue
    return found


def _name(header) -> str:
    description = str(header.get("SeriesDescription", "") or "") or "Measurement report"
    number = header.get("SeriesNumber", "")
    return f"{number}: {description}" if number not in (None, "") else description


def load_sr(context, path: str, curve_type: str = "linear") -> list:
    """Load one TID 1500 SR: markups nodes, one table node, and the series and SEG it references.

    The "SR" loader of :func:`dicomai_slicer.load_dicom_objects` (see :mod:`dicomai_slicer.families`).
    The SR is read once: ``context.headers[path]`` holds all of it (an SR has no pixel data) and
    is decoded once, the referenced SEGs found while decoding. Content the core reader does not
    understand, and references that cannot be found, become warnings.
    """
    from dicomai.errors import DicomAIError
    from dicomai.sr.decode import read_sr_dataset

    from .subject_hierarchy import add_series_in_subject_hierarchy, subject_hierarchy_node

    header = context.headers[path]
    if str(header.get("Modality", "")) != "SR":
        return []
    loaded: list = []
    source = None
    volume = None
    for uid in _referenced_image_series(header):
        volume, source = context.referenced_series(uid, near=path)
        if volume is not None:
            break

    def referenced_segs(seg_uids: list) -> list:
        """The SEG(s) the groups reference: loaded through the context unless given with the SR;
        their headers name the groups' segments."""
        found = _find_seg_files(context, path, seg_uids)
        seg_headers = []
        for uid in seg_uids:
            if uid not in found:
                continue
            f, seg_header, given = found[uid]
            seg_headers.append(seg_header)
            if given or _existing_segmentation(context.scene, uid) is not None:
                continue  # load_dicom_objects loads the given SEG itself; or it is there already
            try:
                loaded.extend(context.load_more([f]))
            except DicomAIError as e:
                context.warnings.append(f"{path}: the referenced SEG {f} did not load: {e}")
        return seg_headers

    try:
        report = read_sr_dataset(header, source=source, segs=referenced_segs, name=Path(path).name)
    except DicomAIError as e:
        context.warnings.append(f"{path}: {e}")
        return loaded
    if volume is None and _referenced_image_series(header):
        context.warnings.append(
            f"{path}: the referenced series {', '.join(_referenced_image_series(header))} was not found; "
            "3D coordinates are loaded as written"
        )
    for w in report.warnings:
        context.warnings.append(f"{Path(path).name}: {w}")

    name = _name(header)
    table = table_node_from_rows(report.rows(), f"{name} measurements", context.scene)
    nodes = [table]
    markups = report.markups(curve_type=curve_type)
    for m in markups:
        nodes.append(markup_to_node(m, context.scene, curve_type))
    sop_uid = str(header.SOPInstanceUID)
    referenced = list(report.referenced_instances)
    for node in nodes:
        node.SetAttribute("DICOM.instanceUIDs", sop_uid)
    series_item = add_series_in_subject_hierarchy(table, header, [sop_uid], referenced, scene=context.scene)
    shn = subject_hierarchy_node(context.scene)
    for node in nodes[1:]:
        item = shn.GetItemByDataNode(node)
        if item:
            shn.SetItemParent(item, series_item)
        else:
            shn.CreateItem(series_item, node)
    return nodes + loaded
