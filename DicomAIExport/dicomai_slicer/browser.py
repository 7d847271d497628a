"""What the DICOM browser plugins (DicomAIImport/DICOMAI*Plugin.py) hand their work to.

Examine reads headers only: the SOP class from ``slicer.dicomDatabase.fileValue`` when the file
is in the database (CTK caches it), else from the file with pydicom (``stop_before_pixels`` and
only the tags needed). A SEG's segments come from its Segment Sequence; an SR's measurement
groups from its content tree (an SR has no pixel data: its header is the document). Only plain
pydicom is used, so examine also works with the pydicom 2.4 of Slicer 5.10 before the core's
packages are installed (that happens on the first load, see :mod:`.dependencies`).

An :class:`Offer` says what one object would load as: name, tooltip, what would be left out
(``warning``), a confidence and the instances it references. Confidences, against Slicer core's
DICOMSegmentationPlugin and DICOMTID1500Plugin (0.95 each):

- 0.97 (:data:`FULL`): everything the object holds is loaded -- any SEG type (FRACTIONAL too: the
  segments hold the voxels >= 0.5 and the fractions come as volumes), any TID 1500 SR we understand
  in full (3D and 2D coordinates, measurements, evaluations, segment references).
- 0.96 (:data:`MOSTLY`): a TID 1500 SR with content items our reader does not understand (listed
  in the warning), or a SEG referencing several series (placed on the first). Still above core,
  whose reader covers less (axial 2D regions only), but below a full load.
- 0.6 (:data:`GENERIC`): an SR that is not a TID 1500 measurement report: only its numeric
  measurements and coordinates load (as a table and markups); text and codes are left out.

The SR's confidence comes from the reader's status, as data (``status`` of
:func:`dicomai.sr.info.describe_sr`, a :class:`dicomai.sr.document.ReadStatus`): TID 1500 or not,
the content items not understood, the images 2D coordinates need; the warnings are for people.

Nothing is offered for objects with nothing to load (no segment, no measurement, tiled SEGs of
slide microscopy).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

__all__ = [
    "BrowserPluginMixin",
    "FULL",
    "GENERIC",
    "MOSTLY",
    "SEG_SOP_CLASSES",
    "SR_SOP_CLASSES",
    "Offer",
    "examine_files",
    "load_offer_files",
    "show_in_views",
]

FULL, MOSTLY, GENERIC = 0.97, 0.96, 0.6

from dicomai.sopclasses import SEG_SOP_CLASSES, SR_SOP_CLASSES  # noqa: E402  (dependency-free)

_SEG_TAGS = [
    "SOPClassUID",
    "SOPInstanceUID",
    "Modality",
    "SeriesInstanceUID",
    "SeriesDescription",
    "SeriesNumber",
    "SegmentationType",
    "SegmentationFractionalType",
    "DimensionOrganizationType",
    "NumberOfFrames",
    "SegmentSequence",
    "ReferencedSeriesSequence",
]
_MAX_TOOLTIP_LINES = 25


@dataclass
class Offer:
    """How one SEG or SR file would load (becomes a DICOMLoadable)."""

    path: str
    kind: str
    name: str
    tooltip: str
    confidence: float
    warning: str = ""
    referenced_instance_uids: List[str] = field(default_factory=list)
    series_instance_uid: str = ""


# ---------------------------------------------------------------------------------------- headers
def _database():
    import slicer

    db = getattr(slicer, "dicomDatabase", None)
    return db if db is not None and getattr(db, "isOpen", True) else None


def _db_value(path: str, tag: str) -> Optional[str]:
    """``fileValue`` of a file in the database; None when there is no database or it lacks the file."""
    db = _database()
    if db is None:
        return None
    try:
        if not db.fileValue(path, "0008,0018"):  # "" for files the database does not hold
            return None
        return db.fileValue(path, tag)
    except Exception:
        return None


def sop_class_of(path: str) -> str:
    """SOP Class UID of a file, from the database when possible, else from the file's header."""
    value = _db_value(path, "0008,0016")
    if value is not None:
        return value
    import pydicom

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SOPClassUID"])
    except Exception:
        return ""
    return str(ds.get("SOPClassUID", ""))


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _code_meaning(item, keyword: str) -> str:
    seq = item.get(keyword)
    return _text(seq[0].get("CodeMeaning")) if seq else ""


def _in_database(instance_uids: Sequence[str]) -> Optional[bool]:
    """True/False when a database is open, None without one."""
    db = _database()
    if db is None or not instance_uids:
        return None
    try:
        return all(db.fileForInstance(uid) for uid in instance_uids)
    except Exception:
        return None


def _clip(lines: List[str]) -> str:
    if len(lines) > _MAX_TOOLTIP_LINES:
        lines = lines[: _MAX_TOOLTIP_LINES - 1] + [f"... and {len(lines) - _MAX_TOOLTIP_LINES + 1} more"]
    return "\n".join(lines)


# -------------------------------------------------------------------------------------------- SEG
def examine_seg(path: str) -> Optional[Offer]:
    """The offer for a SEG file, or None when it is not a SEG or holds nothing to load."""
    import pydicom

    ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=_SEG_TAGS)
    sop = _text(ds.get("SOPClassUID"))
    if sop not in SEG_SOP_CLASSES:
        return None
    if _text(ds.get("DimensionOrganizationType")).startswith("TILED"):
        return None  # slide microscopy: no volume to place it on
    segments = [s for s in ds.get("SegmentSequence", []) if int(s.get("SegmentNumber", 1) or 0) != 0]
    if not segments:
        return None
    seg_type = "LABELMAP" if sop.endswith(".66.7") else (_text(ds.get("SegmentationType")) or "BINARY")
    if seg_type == "FRACTIONAL":
        seg_type += f" {_text(ds.get('SegmentationFractionalType')) or 'PROBABILITY'}"
    description = _text(ds.get("SeriesDescription")) or "Segmentation"
    lines = [
        f"DICOM SEG {seg_type}, {len(segments)} segment(s), {int(ds.get('NumberOfFrames', 1) or 1)} frame(s):"
    ]
    for s in segments:
        what = _code_meaning(s, "SegmentedPropertyTypeCodeSequence")
        label = _text(s.get("SegmentLabel")) or what or "?"
        algorithm = " ".join(
            p for p in (_text(s.get("SegmentAlgorithmType")), _text(s.get("SegmentAlgorithmName"))) if p
        )
        details = "; ".join(p for p in (what if what and what != label else "", algorithm) if p)
        lines.append(f"  {int(s.get('SegmentNumber', 0))}  {label}" + (f" ({details})" if details else ""))
    if seg_type.startswith("FRACTIONAL"):
        lines.append("Segments hold the voxels >= 0.5; each segment's fractions load as a volume.")
    referenced, series_uids = [], []
    for item in ds.get("ReferencedSeriesSequence", []):
        series_uids.append(_text(item.get("SeriesInstanceUID")))
        for ref in item.get("ReferencedInstanceSequence", []):
            uid = _text(ref.get("ReferencedSOPInstanceUID"))
            if uid and uid not in referenced:
                referenced.append(uid)
    db = _database()
    if not referenced and db is not None:
        for uid in series_uids:
            referenced.extend(db.instanceForFile(f) for f in db.filesForSeries(uid))
    warnings, confidence = [], FULL
    if len(series_uids) > 1:
        confidence = MOSTLY
        warnings.append(
            f"references {len(series_uids)} series: it is placed on the grid of the first one "
            f"({series_uids[0]})"
        )
    if _in_database(referenced) is False:
        warnings.append(
            "the referenced image series is not (fully) in the DICOM database: the segmentation is "
            "placed by its own frame positions, without the images"
        )
    return Offer(
        path=path,
        kind="SEG",
        name=f"SEG: {description}",
        tooltip=_clip(lines),
        confidence=confidence,
        warning="; ".join(warnings),
        referenced_instance_uids=referenced,
        series_instance_uid=_text(ds.get("SeriesInstanceUID")),
    )


# --------------------------------------------------------------------------------------------- SR
def _evidence_uids(ds) -> List[str]:
    out = []
    for keyword in ("CurrentRequestedProcedureEvidenceSequence", "PertinentOtherEvidenceSequence"):
        for study in ds.get(keyword, []) or []:
            for series in study.get("ReferencedSeriesSequence", []) or []:
                for ref in series.get("ReferencedSOPSequence", []) or []:
                    uid = _text(ref.get("ReferencedSOPInstanceUID"))
                    if uid and uid not in out:
                        out.append(uid)
    return out


def examine_sr(path: str) -> Optional[Offer]:
    """The offer for an SR file, or None when it is not an SR or holds nothing to load."""
    import pydicom

    ds = pydicom.dcmread(path, stop_before_pixels=True)
    if _text(ds.get("SOPClassUID")) not in SR_SOP_CLASSES or _text(ds.get("Modality")) != "SR":
        return None
    try:
        from dicomai.sr.info import describe_sr

        info = describe_sr(ds, path)
    except ImportError as e:  # the core's packages are not installed yet (Slicer 5.10): a rough look
        logging.info(f"DICOM AI: {path} examined without the SR reader ({e})")
        info = _rough_sr_description(ds)
    groups = info["groups"]
    if not groups:
        return None
    referenced = _evidence_uids(ds)
    status = info["status"]  # what the reader understood, as data (dicomai.sr.document.ReadStatus)
    left_out = status["not_understood"]
    warnings, confidence = [], FULL
    if not status["tid1500"]:
        confidence = GENERIC
        title = info["title"] or "no title"
        warnings.append(
            f"not a TID 1500 measurement report ({title}): only its numeric measurements and "
            "coordinates load (as a table and markups); its text, codes and structure are left out"
        )
    elif left_out:
        confidence = MOSTLY
        warnings.append(
            "left out (not understood): " + "; ".join(left_out[:5]) + (" ..." if len(left_out) > 5 else "")
        )
    if status["images_without_geometry"] and _in_database(referenced) is not True:
        warnings.append("regions with 2D coordinates on images that cannot be found are left out")
    segs = info["referenced_segs"]
    if segs and _in_database(segs) is False:
        warnings.append("the referenced SEG is not in the DICOM database: segments are named by number")
    description = _text(ds.get("SeriesDescription")) or (info["title"] or "Structured report").split(" (")[0]
    lines = [line for line in info["text"] if not line.startswith("warning:")]
    return Offer(
        path=path,
        kind="SR",
        name=f"SR: {description}",
        tooltip=_clip(lines),
        confidence=confidence,
        warning="; ".join(warnings),
        referenced_instance_uids=referenced,
        series_instance_uid=_text(ds.get("SeriesInstanceUID")),
    )


def _rough_sr_description(ds) -> dict:
    """What :func:`dicomai.sr.info.describe_sr` gives, from the content tree walked with plain pydicom."""
    groups = []

    def visit(items):
        for item in items or []:
            concept = item.get("ConceptNameCodeSequence")
            if concept and _text(concept[0].get("CodeValue")) == "125007":  # Measurement Group
                groups.append({"number": len(groups) + 1})
            visit(item.get("ContentSequence"))

    visit(ds.get("ContentSequence"))
    templates = ds.get("ContentTemplateSequence")
    template = _text(templates[0].get("TemplateIdentifier")) if templates else ""
    title = _code_meaning(ds, "ConceptNameCodeSequence")
    tid1500 = template == "1500"
    return {
        "groups": groups,
        "warnings": [] if tid1500 else [f"{title!r} is not a TID 1500 report"],
        "status": {
            "tid1500": tid1500,
            "not_understood": [],
            "images_without_geometry": [],
            "segs_not_given": [],
        },
        "title": title,
        "referenced_segs": [],
        "text": [f"TID {template or '?'} {title or '(no title)'}, {len(groups)} measurement group(s)"],
    }


def examine_files(files: Sequence[str], kind: str) -> List[Offer]:
    """One offer per object of a family (``kind``: "SEG", "SR", ... as registered in
    :mod:`dicomai.families` and :mod:`dicomai_slicer.families`) among ``files``.

    Files of other SOP classes are skipped after one cheap look (database or a 1-tag read); a file
    that cannot be examined is logged and skipped, never raised (the browser goes on).
    """
    from dicomai.families import family_named, resolve

    from .families import adapters_for  # the family's examiner; its SOP classes from the core

    classes, examine = family_named(kind).sop_classes, resolve(adapters_for(kind).examine)
    offers = []
    for path in files:
        path = os.fspath(path)
        if sop_class_of(path) not in classes:
            continue
        try:
            offer = examine(path)
        except Exception as e:  # a damaged file must not stop the browser
            logging.warning(f"DICOM AI: cannot examine {path}: {e}")
            continue
        if offer is not None:
            offers.append(offer)
    return offers


# ------------------------------------------------------------------------------------------- plugin
class BrowserPluginMixin:
    """The examine/load half of our DICOM browser plugins, shared by the SEG and SR plugin files.

    Mixed into a subclass of Slicer's ``DICOMLib.DICOMPlugin`` (this module does not import the
    Qt-side DICOMLib); the subclass sets ``kind`` ("SEG" or "SR"), ``loadTypeName`` and
    ``loadableClass`` (``DICOMLib.DICOMLoadable``). ``examineForImport`` is implemented here
    because Slicer 5.10's base class returns ``[]`` from it (``examineFiles`` and its caching
    arrived in 5.12).
    """

    kind = ""
    loadTypeName = ""
    loadableClass = None

    def __init__(self):
        super().__init__()
        self.loadType = self.loadTypeName

    def examineForImport(self, fileLists):
        """Loadables for each file list, cached per list as Slicer 5.12's base class does."""
        loadables = []
        for files in fileLists:
            cached = self.getCachedLoadables(files)
            if cached is None:
                cached = self.examineFiles(files)
                self.cacheLoadables(files, cached)
            loadables += cached
        return loadables

    def examineFiles(self, files):
        loadables = []
        for offer in examine_files(files, self.kind):
            loadable = self.loadableClass()
            loadable.files = [offer.path]
            loadable.name = offer.name
            loadable.tooltip = offer.tooltip
            loadable.warning = offer.warning
            loadable.confidence = offer.confidence
            loadable.selected = True
            loadable.referencedInstanceUIDs = list(offer.referenced_instance_uids)
            loadable.seriesInstanceUID = offer.series_instance_uid
            loadables.append(loadable)
        return loadables

    def load(self, loadable):
        """Load the object (and what it references); False with the reason logged on failure."""
        try:
            nodes = load_offer_files(loadable.files)
        except Exception as e:  # the browser shows "failed" and goes on with the other loadables
            logging.error(f"{loadable.name}: loading failed: {e}")
            return False
        logging.info(f"{loadable.name}: loaded {', '.join(n.GetName() for n in nodes)}")
        return bool(nodes)


# ------------------------------------------------------------------------------------------- load
def load_offer_files(files: Sequence[str], show: bool = True, scene=None) -> list:
    """Load SEG/SR files (and what they reference) into the scene; show them over their images.

    The core's packages are installed first if missing (:func:`.dependencies.ensure_dependencies`).
    The referenced series is found in the scene (the browser loaded it), next to the file, or in
    the DICOM database; the new nodes are put in the subject hierarchy under its study.
    """
    from .dependencies import ensure_dependencies
    from .loader import load_dicom_objects

    ensure_dependencies()
    nodes = load_dicom_objects([os.fspath(f) for f in files], scene=scene)
    if show:
        show_in_views(nodes, scene=scene)
    return nodes


def _background_for(nodes, scene):
    from .subject_hierarchy import find_series_nodes

    for node in nodes:
        if node.IsA("vtkMRMLSegmentationNode"):
            reference = node.GetNodeReference(node.GetReferenceImageGeometryReferenceRole())
            if reference is not None:
                return reference
    for node in nodes:
        if node.IsA("vtkMRMLScalarVolumeNode") and not node.IsA("vtkMRMLLabelMapVolumeNode"):
            if not node.GetAttribute("DICOM.fractionalType"):
                return node
    from .report import _referenced_image_series

    for node in nodes:  # an SR's table: its series' referenced images
        uid = (node.GetAttribute("DICOM.instanceUIDs") or "").split()
        if node.IsA("vtkMRMLTableNode") and uid:
            path = _instance_file(uid[0], scene)
            if path:
                import pydicom

                header = pydicom.dcmread(path, stop_before_pixels=True)
                for series_uid in _referenced_image_series(header):
                    found = [
                        v
                        for v in find_series_nodes(series_uid, scene, "vtkMRMLScalarVolumeNode")
                        if not v.IsA("vtkMRMLLabelMapVolumeNode")
                    ]
                    if found:
                        return found[-1]
    return None


def _instance_file(uid: str, scene=None) -> Optional[str]:
    from .report import _file_of_instance

    return _file_of_instance(uid, scene)


def show_in_views(nodes, scene=None) -> None:
    """Show the images the nodes lie on in the slice views, segmentations and markups on top.

    Inside Slicer: ``slicer.util.setSliceViewerLayers`` (background, fit). Headless (no layout):
    the volume becomes the active one of the selection node; nothing else to show.
    """
    import slicer

    from .scene import application_logic, current_scene, in_slicer_application

    scene = current_scene(scene)
    background = _background_for(nodes, scene)
    for node in nodes:
        if node.IsA("vtkMRMLSegmentationNode") or node.IsA("vtkMRMLMarkupsNode"):
            display = node.GetDisplayNode()
            if display is not None:
                display.SetVisibility(True)
    if background is None:
        return
    if in_slicer_application():
        slicer.util.setSliceViewerLayers(background=background, fit=True)
        return
    try:
        selection = application_logic().GetSelectionNode()
    except RuntimeError:
        return
    if selection is not None:
        selection.SetActiveVolumeID(background.GetID())
