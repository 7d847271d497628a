"""Export several nodes at once (a SEG and an SR about the same images), as the panel and the
export-dialog plugin do, and find which nodes can be exported at all.

:func:`export_nodes` writes a SEG for a segmentation or labelmap node and one SR for markups, a
measurement table and the SEG's segment volumes, all on one reference series; each file is read
back (our own check: segment labels and frames of a SEG, measurement groups of an SR). The
batch is all or nothing: a failure removes the files written before it.

:func:`export_items` writes what the export dialog chose, through each family's ``export``
writer (:mod:`dicomai_slicer.families`; SEG: :func:`export_seg_batch`, SR: :func:`export_sr_batch`).

:func:`export_candidate` tells whether a subject hierarchy item (segmentation, labelmap, markups,
table) traces back to a DICOM series, and which one -- the export dialog offers only those.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence

__all__ = [
    "ExportBatch",
    "ExportCandidate",
    "ExportNodes",
    "ExportOptions",
    "ExportResult",
    "WrittenFile",
    "default_tags",
    "export_candidate",
    "export_items",
    "export_nodes",
    "export_seg_batch",
    "export_sr_batch",
    "reference_volume_for",
]

Progress = Optional[Callable[[float, str], None]]


@dataclass
class WrittenFile:
    """One file an export wrote, with what it holds and whether it read back as written."""

    path: Path
    kind: str  # "SEG" or "SR"
    summary: str  # "5 segments (LABELMAP)", "3 measurement groups"
    valid: bool = True
    check: str = "read back OK"
    warnings: list = field(default_factory=list)

    def line(self) -> str:
        status = self.check if self.valid else f"READ-BACK CHECK FAILED: {self.check}"
        return f"{self.kind} written, {self.summary} ({status}): {self.path.name}"


@dataclass
class ExportResult:
    files: List[WrittenFile] = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def paths(self) -> List[Path]:
        return [f.path for f in self.files]

    @property
    def valid(self) -> bool:
        return all(f.valid for f in self.files)

    def summary(self) -> str:
        return "\n".join(f.line() for f in self.files) or "nothing written"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:48] or "export"


def _unique(directory: Path, stem: str) -> Path:
    path = directory / f"{stem}.dcm"
    n = 2
    while path.exists():
        path = directory / f"{stem}_{n}.dcm"
        n += 1
    return path


def _check_seg(path: Path, written) -> WrittenFile:
    from dicomai.seg.decode import read_seg

    labels = [s.label for s in written.segments]
    summary = f"{len(labels)} segment(s) ({written.segmentation_type})"
    try:
        content = read_seg(path)
        back = [s.label for s in content.segments if s.number != 0 or written.segmentation_type != "LABELMAP"]
        counts = content.voxel_counts()
        empty = [s.label for s in content.segments if s.label in labels and counts.get(s.number, 0) == 0]
        problems = []
        if back != labels:
            problems.append(f"segments {back} read back, {labels} written")
        if empty:
            problems.append(f"segment(s) {empty} read back empty")
        if problems:
            return WrittenFile(path, "SEG", summary, False, "; ".join(problems), list(written.warnings))
    except Exception as e:
        return WrittenFile(path, "SEG", summary, False, f"cannot be read back: {e}", list(written.warnings))
    return WrittenFile(path, "SEG", summary, warnings=list(written.warnings))


def _check_sr(path: Path, written) -> WrittenFile:
    from dicomai.sr.decode import read_sr

    expected = len(written.report.groups) if written.report is not None else None
    summary = f"{expected if expected is not None else '?'} measurement group(s)"
    try:
        report = read_sr(path)
        if expected is not None and len(report.groups) != expected:
            return WrittenFile(
                path, "SR", summary, False, f"{len(report.groups)} group(s) read back", list(written.warnings)
            )
    except Exception as e:
        return WrittenFile(path, "SR", summary, False, f"cannot be read back: {e}", list(written.warnings))
    return WrittenFile(path, "SR", summary, warnings=list(written.warnings))


@dataclass
class ExportNodes:
    """The nodes one export writes: a SEG of ``segmentation`` and one SR of the rest.

    Attributes
    ----------
    segmentation:
        Segmentation node or labelmap volume node, written as a SEG.
    markups, table:
        Written as one TID 1500 SR, which also references the SEG written here (its table rows
        name the SEG's segments; without a table and with ``segment_volumes``, the SR reports each
        segment's volume).
    report_segmentation:
        Another SEG (file, or node loaded from one) for the table when no segmentation is exported.
    """

    segmentation: object = None
    markups: Sequence = ()
    table: object = None
    report_segmentation: object = None


@dataclass
class ExportOptions:
    """What the panel and the export dialog choose, once for a SEG and an SR written together.

    Attributes
    ----------
    segmentation_type:
        Segmentation Type (0062,0001): ``auto`` (LABELMAP unless segments overlap, BINARY when the
        SR references the segments: :func:`dicomai.seg.options.choose_segmentation_type`),
        ``BINARY``, ``LABELMAP`` or ``FRACTIONAL``.
    algorithm_name, algorithm_version, algorithm_type:
        The model: the SEG's Segment Algorithm Name / Identification (0062,0009 / 0062,0007) and
        Segment Algorithm Type (0062,0008); the SR's device observer (TID 1004).
    seg_series_description, seg_series_number, sr_series_description, sr_series_number:
        Series Description (0008,103E) and Series Number (0020,0011) of the SEG and the SR
        (defaults: from the node names; the reference series number + 100 / + 200).
    segment_volumes:
        With a segmentation and no table, the SR reports each segment's volume (TID 1411).
    coordinates:
        SR regions as SCOORD on the image where they lie on one slice (``auto``, ``2d``) or
        SCOORD3D (``3d``).
    source_folder:
        Where the reference series' files are (headless; inside Slicer: the DICOM database).
    """

    segmentation_type: str = "auto"
    algorithm_name: Optional[str] = None
    algorithm_version: Optional[str] = None
    algorithm_type: Optional[str] = None
    seg_series_description: Optional[str] = None
    seg_series_number: Optional[int] = None
    sr_series_description: Optional[str] = None
    sr_series_number: Optional[int] = None
    segment_volumes: bool = True
    coordinates: str = "auto"
    source_folder: object = None

    def __post_init__(self) -> None:  # checked now, before anything is written
        self.seg_options()
        self.report_options()

    def seg_options(self, description: Optional[str] = None, referenced_by_sr: bool = False):
        """The SEG's :class:`~dicomai_slicer.export.SegExportOptions`."""
        from dicomai.seg.options import choose_segmentation_type

        from .export import SegExportOptions

        return SegExportOptions(
            segmentation_type=choose_segmentation_type(
                self.segmentation_type, referenced_by_sr=referenced_by_sr
            ),
            algorithm_name=self.algorithm_name or None,
            algorithm_version=self.algorithm_version or None,
            algorithm_type=self.algorithm_type or None,
            series_description=description,
            series_number=self.seg_series_number,
            source_folder=self.source_folder,
        )

    def report_options(self, description: Optional[str] = None):
        """The SR's :class:`~dicomai_slicer.report.ReportExportOptions`."""
        from .report import ReportExportOptions

        return ReportExportOptions(
            model_name=self.algorithm_name or None,
            model_version=self.algorithm_version or None,
            coordinates=self.coordinates,
            series_description=description,
            series_number=self.sr_series_number,
            source_folder=self.source_folder,
            seg_volumes=self.segment_volumes,
        )


def _folder_of(destination):
    from dicomai.destinations import FolderDestination

    if hasattr(destination, "writing") and hasattr(destination, "folder"):
        return destination
    return FolderDestination(destination)


def _file_in(folder, stem: str):
    """A one-file destination ``<stem>.dcm`` (or ``<stem>_2.dcm``...) not yet taken in ``folder``."""
    from dicomai.destinations import FileDestination

    return FileDestination(_unique(folder.folder, stem), overwrite=folder.overwrite)


def export_nodes(
    reference_volume,
    destination,
    nodes: ExportNodes,
    options: Optional[ExportOptions] = None,
    *,
    progress: Progress = None,
    scene=None,
) -> ExportResult:
    """Write a SEG (``nodes.segmentation``) and an SR (markups, table, segment volumes).

    Parameters
    ----------
    reference_volume:
        The CT/MR/PT volume everything lies on; it must trace back to its DICOM series.
    destination:
        A folder (path or :class:`dicomai.destinations.FolderDestination`, e.g. the Slicer
        database's :class:`~dicomai_slicer.destinations.SlicerDatabaseDestination`); files are
        named ``SEG_<description>.dcm`` and ``SR_<description>.dcm``. The caller calls
        ``destination.finish(result.paths)`` when the whole export is done.
    nodes:
        :class:`ExportNodes`.
    options:
        :class:`ExportOptions` (default: ``auto`` SEG type, no algorithm named).

    Raises
    ------
    dicomai.errors.DicomAIError
        Whatever the first failing file says; files written before it are removed.
    """
    from dicomai.errors import InputError, MetadataError

    from .export import export_segmentation
    from .report import ReportNodes, export_report

    options = options if options is not None else ExportOptions()
    report = progress or (lambda fraction, message: None)
    folder = _folder_of(destination)
    folder.folder.mkdir(parents=True, exist_ok=True)
    segmentation, table = nodes.segmentation, nodes.table
    markups = [m for m in nodes.markups if m is not None]
    want_sr = bool(markups) or table is not None or (segmentation is not None and options.segment_volumes)
    if segmentation is None and not want_sr:
        raise InputError("nothing to export: choose a segmentation, labelmap, markups or a table")
    result = ExportResult()
    try:
        seg_path = None
        if segmentation is not None:
            description = options.seg_series_description or segmentation.GetName()
            span = 0.75 if want_sr else 0.95
            seg = export_segmentation(
                segmentation,
                reference_volume,
                _file_in(folder, f"SEG_{_slug(description)}"),
                options.seg_options(description, referenced_by_sr=want_sr),
                progress=lambda f, m: report(span * f, f"SEG: {m}"),
                scene=scene,
            )
            seg_path = Path(seg.path)
            result.files.append(_check_seg(seg_path, seg))
            result.warnings.extend(seg.warnings)
        if want_sr:
            report(0.8 if seg_path else 0.1, "writing the structured report")
            description = options.sr_series_description or (
                f"Measurements: {table.GetName()}"
                if table is not None
                else f"Measurements: {markups[0].GetName()}"
                if markups
                else f"Segment volumes: {segmentation.GetName()}"
            )
            sr_options = options.report_options(description)
            attach = seg_path if seg_path is not None else nodes.report_segmentation
            target = _file_in(folder, f"SR_{_slug(description)}")
            content = ReportNodes(markups=markups, table=table, segmentation=attach)
            try:
                sr = export_report(reference_volume, target, content, sr_options, scene=scene)
            except MetadataError as e:
                if attach is None or table is None:
                    raise
                # the table's rows are not segments of that SEG: the SR reports them on their own
                content = ReportNodes(markups=markups, table=table)
                sr = export_report(reference_volume, target, content, sr_options, scene=scene)
                sr.warnings.append(f"table rows not linked to the SEG's segments: {e}")
            result.files.append(_check_sr(Path(sr.path), sr))
            result.warnings.extend(sr.warnings)
    except BaseException:
        for written in result.files:
            try:
                os.remove(written.path)
            except OSError:
                pass
        raise
    report(1.0, "done")
    return result


# ------------------------------------------------------------------------------ what can be exported
@dataclass
class ExportCandidate:
    """A subject hierarchy item that can be exported, and the DICOM series it lies on."""

    item_id: int
    node: object
    kind: str  # "segmentation", "labelmap", "markups", "table"
    modality: str  # "SEG" or "SR"
    reference: object  # the scalar volume node loaded from DICOM


def _is_dicom_volume(node, scene=None) -> bool:
    from .subject_hierarchy import dicom_reference

    if node is None or not node.IsA("vtkMRMLScalarVolumeNode") or node.IsA("vtkMRMLLabelMapVolumeNode"):
        return False
    if node.GetAttribute("DICOM.fractionalType"):
        return False
    return dicom_reference(node, scene).from_dicom


def _study_volumes(item_id: int, scene=None) -> list:
    """DICOM scalar volumes in the item's study (its parent when the item is under a study)."""
    import slicer
    from vtkmodules.vtkCommonCore import vtkIdList

    from .subject_hierarchy import subject_hierarchy_node

    shn = subject_hierarchy_node(scene)
    study = shn.GetItemAncestorAtLevel(item_id, slicer.vtkMRMLSubjectHierarchyConstants.GetDICOMLevelStudy())
    if not study:
        return []
    ids = vtkIdList()
    shn.GetItemChildren(study, ids, True)
    volumes = [shn.GetItemDataNode(ids.GetId(n)) for n in range(ids.GetNumberOfIds())]
    return [v for v in volumes if _is_dicom_volume(v, scene)]


def _same_grid(a, b) -> bool:
    from ._images import grid_of_volume

    try:
        return not grid_of_volume(a).differences(grid_of_volume(b))
    except Exception:
        return False


def _inside(volume, points) -> int:
    import numpy as np

    bounds = [0.0] * 6
    volume.GetRASBounds(bounds)
    lo, hi = np.array(bounds[0::2]) - 1e-3, np.array(bounds[1::2]) + 1e-3
    return int(sum(bool(np.all((p >= lo) & (p <= hi))) for p in points))


def _markup_points(node) -> list:
    import numpy as np

    points = []
    for i in range(node.GetNumberOfControlPoints()):
        p = [0.0, 0.0, 0.0]
        node.GetNthControlPointPositionWorld(i, p)
        points.append(np.array(p))
    if not points and hasattr(node, "GetCenterWorld"):
        p = [0.0, 0.0, 0.0]
        node.GetCenterWorld(p)
        points.append(np.array(p))
    return points


def reference_volume_for(node, item_id: int = 0, scene=None):
    """The DICOM volume a node lies on, or None.

    Segmentation: its reference geometry volume when that is from DICOM, else a DICOM volume of
    its study with the same grid as its labelmaps. Labelmap: a DICOM volume of its study with the
    same grid. Markups: the DICOM volume of its study holding most of its points. Table: the
    reference of a segmentation in its study, else the study's only DICOM volume.
    """
    from .subject_hierarchy import subject_hierarchy_node

    shn = subject_hierarchy_node(scene)
    item_id = item_id or shn.GetItemByDataNode(node)
    candidates = _study_volumes(item_id, scene) if item_id else []
    if node.IsA("vtkMRMLSegmentationNode"):
        reference = node.GetNodeReference(node.GetReferenceImageGeometryReferenceRole())
        if _is_dicom_volume(reference, scene):
            return reference
        return candidates[0] if len(candidates) == 1 else None
    if node.IsA("vtkMRMLLabelMapVolumeNode"):
        same = [v for v in candidates if _same_grid(v, node)]
        return same[0] if same else None
    if node.IsA("vtkMRMLMarkupsNode"):
        points = _markup_points(node)
        if not candidates or not points:
            return None
        best = max(candidates, key=lambda v: _inside(v, points))
        return best if _inside(best, points) else None
    if node.IsA("vtkMRMLTableNode"):
        scene_ = node.GetScene()
        for seg in list(scene_.GetNodesByClass("vtkMRMLSegmentationNode")) if scene_ else []:
            ref = seg.GetNodeReference(seg.GetReferenceImageGeometryReferenceRole())
            if ref is not None and ref in candidates:
                return ref
        return candidates[0] if len(candidates) == 1 else None
    return None


def export_candidate(item_id: int, scene=None) -> Optional[ExportCandidate]:
    """What the export dialog may offer for a subject hierarchy item (None: not ours / no DICOM reference)."""
    from .subject_hierarchy import subject_hierarchy_node

    shn = subject_hierarchy_node(scene)
    node = shn.GetItemDataNode(item_id) if item_id else None
    if node is None:
        return None
    if node.IsA("vtkMRMLTableNode") and node.GetAttribute("DICOM.instanceUIDs"):
        return None  # the content table of a loaded SR: it is that SR, not a new measurement table
    from dicomai.families import resolve

    from .families import export_kinds  # the node kinds each family exports

    for export_kind, modality in export_kinds():
        if node.IsA(export_kind.node_class):
            reference = (resolve(export_kind.reference) or reference_volume_for)(node, item_id, scene)
            if reference is None:
                return None
            return ExportCandidate(item_id, node, export_kind.kind, modality, reference)
    return None


# ------------------------------------------------------------------------- the export dialog's batch
def default_tags(candidate: ExportCandidate) -> dict:
    """Series tags an exportable starts with (the dialog's tag editor shows and edits them).

    DICOM keywords where one exists: SeriesDescription, SeriesNumber (reference + 100 for a SEG,
    + 200 for an SR), SegmentationType ("auto" or BINARY / LABELMAP / FRACTIONAL), AlgorithmName,
    AlgorithmVersion, SegmentAlgorithmType. Algorithm defaults come from the node attributes
    ``DicomAI.AlgorithmName`` / ``.AlgorithmVersion`` / ``.AlgorithmType`` (an AI module can set them).
    """
    node = candidate.node
    try:
        base = int(float(_series_number(candidate) or 0))
    except (TypeError, ValueError):
        base = 0
    tags = {
        "Modality": candidate.modality,
        "SeriesDescription": re.sub(r"^\d+: ", "", node.GetName()),  # not the "<number>: " of loaded series
        "SeriesNumber": str(base + (100 if candidate.modality == "SEG" else 200)),
        "AlgorithmName": node.GetAttribute("DicomAI.AlgorithmName") or "",
        "AlgorithmVersion": node.GetAttribute("DicomAI.AlgorithmVersion") or "",
    }
    if candidate.modality == "SEG":
        tags["SegmentationType"] = node.GetAttribute("DicomAI.SegmentationType") or "auto"
        tags["SegmentAlgorithmType"] = node.GetAttribute("DicomAI.AlgorithmType") or ""
    return tags


def _series_number(candidate) -> str:
    import slicer

    from .subject_hierarchy import subject_hierarchy_node

    shn = subject_hierarchy_node(candidate.reference.GetScene())
    item = shn.GetItemByDataNode(candidate.reference)
    name = slicer.vtkMRMLSubjectHierarchyConstants.GetDICOMSeriesNumberAttributeName()
    return shn.GetItemAttribute(item, name) if item else ""


def _int(text) -> Optional[int]:
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None


@dataclass
class ExportBatch:
    """One family's share of an :func:`export_items` call on one reference series, handed to that
    family's ``FamilyAdapters.export`` writer (:mod:`dicomai_slicer.families`).

    ``entries``: ``[(ExportCandidate, tags), ...]`` of this family; ``others``: the entries of the
    other families on the same reference (a SEG is written BINARY when an SR follows);
    ``written``: what earlier families wrote for this reference (an SR references the SEG written
    there). The writer returns an :class:`ExportResult`; :func:`export_items` removes every file
    of the call when any writer fails.
    """

    reference: object
    directory: object
    entries: list
    others: list = field(default_factory=list)
    written: ExportResult = field(default_factory=ExportResult)
    scene: object = None
    progress: Progress = None


def export_seg_batch(batch: ExportBatch) -> ExportResult:
    """One SEG per segmentation/labelmap item (the SEG family's export writer)."""
    from dicomai.seg.options import choose_segmentation_type

    will_report = any(c.modality == "SR" for c, _ in batch.others)  # that SR will reference the SEG
    out = ExportResult()
    for candidate, tags in batch.entries:
        options = ExportOptions(
            segment_volumes=False,
            # auto becomes BINARY when the SR written next references this SEG
            segmentation_type=choose_segmentation_type(
                tags.get("SegmentationType"), referenced_by_sr=will_report
            ).value,
            algorithm_name=tags.get("AlgorithmName") or None,
            algorithm_version=tags.get("AlgorithmVersion") or None,
            algorithm_type=tags.get("SegmentAlgorithmType") or None,
            seg_series_description=tags.get("SeriesDescription") or None,
            seg_series_number=_int(tags.get("SeriesNumber")),
        )
        nodes = ExportNodes(segmentation=candidate.node)
        _add(out, batch, nodes, options)
    return out


def export_sr_batch(batch: ExportBatch) -> ExportResult:
    """One SR with every markups item and the first table (more tables: one SR each), referencing
    the SEG written for the same series when there is exactly one (the SR family's export writer)."""
    markups = [(c, t) for c, t in batch.entries if c.kind == "markups"]
    tables = [(c, t) for c, t in batch.entries if c.kind == "table"]
    written_segs = [f.path for f in batch.written.files if f.kind == "SEG"]
    out = ExportResult()
    reports = [(markups, tables[0] if tables else None)] + [([], t) for t in tables[1:]]
    for report_markups, table in reports:
        if not report_markups and table is None:
            continue
        tags = table[1] if table is not None else report_markups[0][1]
        nodes = ExportNodes(
            markups=[c.node for c, _ in report_markups],
            table=table[0].node if table is not None else None,
            report_segmentation=written_segs[0] if len(written_segs) == 1 else None,
        )
        options = ExportOptions(
            algorithm_name=tags.get("AlgorithmName") or None,
            algorithm_version=tags.get("AlgorithmVersion") or None,
            sr_series_description=tags.get("SeriesDescription") or None,
            sr_series_number=_int(tags.get("SeriesNumber")),
        )
        _add(out, batch, nodes, options)
    return out


def _add(out: ExportResult, batch: ExportBatch, nodes: ExportNodes, options: ExportOptions) -> None:
    """export_nodes into ``out``; on failure, what ``out`` holds stays listed for removal."""
    try:
        result = export_nodes(
            batch.reference, batch.directory, nodes, options, progress=batch.progress, scene=batch.scene
        )
    except BaseException:
        batch.written.files += out.files  # export_items removes them
        out.files = []
        raise
    out.files += result.files
    out.warnings += result.warnings


def export_items(requests: Sequence[tuple], directory, scene=None, progress: Progress = None) -> ExportResult:
    """Export subject hierarchy items as the export dialog asks: ``[(item_id, tags), ...]``.

    Per reference series, family by family in registry order (:mod:`dicomai_slicer.families`),
    each family's ``export`` writer gets its items as one :class:`ExportBatch`: SEG writes one SEG
    per segmentation/labelmap item, then SR one SR with every markups item and the first table
    (more tables: one SR each), referencing the SEG written for that series when there is exactly
    one. All or nothing: a failure removes every file written.
    """
    from dicomai.errors import InputError
    from dicomai.families import resolve

    from .families import adapters

    groups: dict = {}
    for item_id, tags in requests:
        candidate = export_candidate(item_id, scene)
        if candidate is None:
            raise InputError(f"item {item_id} is no longer exportable (its DICOM reference is gone)")
        groups.setdefault(candidate.reference.GetID(), []).append((candidate, dict(tags)))
    total = written = ExportResult()
    try:
        for entries in groups.values():
            written = ExportResult()  # this reference's files, family after family
            for family in adapters():
                mine = [(c, t) for c, t in entries if c.modality == family.family]
                if not mine:
                    continue
                if family.export is None:
                    raise InputError(
                        f"{family.family} items ({mine[0][0].node.GetName()!r}...) cannot be written: "
                        "that family registers no export writer"
                    )
                others = [(c, t) for c, t in entries if c.modality != family.family]
                reference = entries[0][0].reference
                batch = ExportBatch(reference, directory, mine, others, written, scene, progress)
                result = resolve(family.export)(batch)
                written.files += result.files
                written.warnings += result.warnings
            total.files += written.files
            total.warnings += written.warnings
            written = ExportResult()
    except BaseException:
        for path in dict.fromkeys(f.path for f in total.files + written.files):
            try:
                os.remove(path)
            except OSError:
                pass
        raise
    return total
