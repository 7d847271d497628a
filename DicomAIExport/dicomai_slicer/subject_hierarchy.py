"""Subject hierarchy items with DICOM UIDs, the way Slicer's DICOM plugins leave them.

:func:`add_series_in_subject_hierarchy` does what ``DICOMLib.DICOMPlugin.addSeriesInSubjectHierarchy``
does in Slicer (Modules/Scripted/DICOMLib/DICOMPlugin.py), reading the tags from a pydicom header
instead of ``slicer.dicomDatabase``: a series item for the node with UID "DICOM" =
SeriesInstanceUID, UID "DICOMInstanceUID" = the instance UIDs, the series attributes, the
"DICOM.ReferencedInstanceUIDs" attribute, and patient and study items (found by their UIDs or
created, named and given their attributes).

:func:`dicom_reference` goes the other way: from a node to the DICOM series it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

__all__ = [
    "DicomReference",
    "add_series_in_subject_hierarchy",
    "dicom_reference",
    "find_series_nodes",
    "subject_hierarchy_node",
]

# Slicer's defaults for the item-name display flags (qSlicerSubjectHierarchyPluginHandler)
_NAME_FLAGS = {
    "displayPatientIDInSubjectHierarchyItemName": True,
    "displayPatientBirthDateInSubjectHierarchyItemName": False,
    "displayStudyIDInSubjectHierarchyItemName": False,
    "displayStudyDateInSubjectHierarchyItemName": True,
}


def subject_hierarchy_node(scene=None):
    import slicer

    from .scene import current_scene

    return slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(current_scene(scene))


def _value(ds, keyword: str) -> str:
    """The DICOM string form of a header value ("" when absent), as ctkDICOMDatabase.fileValue gives."""
    if ds is None or keyword not in ds:
        return ""
    v = ds.data_element(keyword).value
    if v is None:
        return ""
    if isinstance(v, (list, tuple)) or type(v).__name__ == "MultiValue":
        return "\\".join(str(x) for x in v)
    return str(v)


def _name_flags() -> dict:
    import slicer

    handler_class = getattr(slicer, "qSlicerSubjectHierarchyPluginHandler", None)
    if handler_class is None:
        return dict(_NAME_FLAGS)
    try:
        handler = handler_class.instance()
        return {k: bool(getattr(handler, k)) for k in _NAME_FLAGS}
    except Exception:
        return dict(_NAME_FLAGS)


def add_series_in_subject_hierarchy(
    node,
    header,
    instance_uids: Sequence[str],
    referenced_instance_uids: Sequence[str] = (),
    scene=None,
) -> int:
    """Put ``node`` in the subject hierarchy as a DICOM series under its patient and study.

    Parameters
    ----------
    node:
        The loaded data node (volume, segmentation, ...).
    header:
        pydicom Dataset of the series' first instance (patient, study and series attributes).
    instance_uids:
        SOPInstanceUIDs of the series' instances (the item's "DICOMInstanceUID" UID).
    referenced_instance_uids:
        Instances the object references ("DICOM.ReferencedInstanceUIDs" attribute), which is
        how Slicer ties a SEG to its CT.

    Returns
    -------
    int
        The series item ID.
    """
    import slicer

    C = slicer.vtkMRMLSubjectHierarchyConstants
    shn = subject_hierarchy_node(scene)
    existing = shn.GetItemByDataNode(node)
    series_item = existing if existing else shn.CreateItem(shn.GetSceneItemID(), node)
    series_uid = _value(header, "SeriesInstanceUID")
    shn.SetItemUID(series_item, C.GetDICOMUIDName(), series_uid)
    prefix = C.GetDICOMAttributePrefix()
    series_attributes = [
        (C.GetDICOMSeriesModalityAttributeName(), "Modality"),
        (C.GetDICOMSeriesNumberAttributeName(), "SeriesNumber"),
        (C.GetDICOMFrameOfReferenceUIDAttributeName(), "FrameOfReferenceUID"),
        (prefix + "SeriesDescription", "SeriesDescription"),
        (prefix + "SeriesDate", "SeriesDate"),
        (prefix + "SeriesTime", "SeriesTime"),
        (prefix + "ContentDate", "ContentDate"),
        (prefix + "ContentTime", "ContentTime"),
        (prefix + "Manufacturer", "Manufacturer"),
        (prefix + "Model", "ManufacturerModelName"),
    ]
    for attribute, keyword in series_attributes:
        shn.SetItemAttribute(series_item, attribute, _value(header, keyword))
    shn.SetItemUID(series_item, C.GetDICOMInstanceUIDName(), " ".join(u or "Unknown" for u in instance_uids))
    shn.SetItemAttribute(
        series_item, C.GetDICOMReferencedInstanceUIDsAttributeName(), " ".join(referenced_instance_uids)
    )

    study_uid = _value(header, "StudyInstanceUID")
    patient_id = _value(header, "PatientID") or "Patient-" + study_uid
    patient_item = shn.GetItemByUID(C.GetDICOMUIDName(), patient_id)
    study_item = shn.GetItemByUID(C.GetDICOMUIDName(), study_uid)
    slicer.vtkSlicerSubjectHierarchyModuleLogic.InsertDicomSeriesInHierarchy(
        shn, patient_id, study_uid, series_uid
    )
    flags = _name_flags()
    if not patient_item:
        patient_item = shn.GetItemByUID(C.GetDICOMUIDName(), patient_id)
        if patient_item:
            name = _value(header, "PatientName") or "No name"
            birth_date = _value(header, "PatientBirthDate")
            shn.SetItemAttribute(patient_item, C.GetDICOMPatientNameAttributeName(), name)
            shn.SetItemAttribute(patient_item, C.GetDICOMPatientIDAttributeName(), patient_id)
            shn.SetItemAttribute(
                patient_item, C.GetDICOMPatientSexAttributeName(), _value(header, "PatientSex")
            )
            shn.SetItemAttribute(patient_item, C.GetDICOMPatientBirthDateAttributeName(), birth_date)
            shn.SetItemAttribute(
                patient_item, C.GetDICOMPatientCommentsAttributeName(), _value(header, "PatientComments")
            )
            item_name = name
            if flags["displayPatientIDInSubjectHierarchyItemName"]:
                item_name += f" ({patient_id})"
            if flags["displayPatientBirthDateInSubjectHierarchyItemName"] and birth_date:
                item_name += f" ({birth_date})"
            shn.SetItemName(patient_item, item_name)
    if not study_item:
        study_item = shn.GetItemByUID(C.GetDICOMUIDName(), study_uid)
        if study_item:
            description = _value(header, "StudyDescription") or "No study description"
            study_id = _value(header, "StudyID")
            study_date = _value(header, "StudyDate")
            shn.SetItemAttribute(study_item, C.GetDICOMStudyDescriptionAttributeName(), description)
            shn.SetItemAttribute(study_item, C.GetDICOMStudyInstanceUIDAttributeName(), study_uid)
            shn.SetItemAttribute(study_item, C.GetDICOMStudyIDAttributeName(), study_id)
            shn.SetItemAttribute(study_item, C.GetDICOMStudyDateAttributeName(), study_date)
            shn.SetItemAttribute(study_item, C.GetDICOMStudyTimeAttributeName(), _value(header, "StudyTime"))
            item_name = description
            if flags["displayStudyIDInSubjectHierarchyItemName"]:
                item_name += f" ({study_id})"
            if flags["displayStudyDateInSubjectHierarchyItemName"] and study_date:
                item_name += f" ({study_date})"
            shn.SetItemName(study_item, item_name)
    return series_item


def find_series_nodes(series_instance_uid: str, scene=None, class_name: str = "vtkMRMLVolumeNode") -> list:
    """Data nodes whose subject hierarchy item has UID "DICOM" = ``series_instance_uid``."""
    import slicer

    shn = subject_hierarchy_node(scene)
    uid_name = slicer.vtkMRMLSubjectHierarchyConstants.GetDICOMUIDName()
    out = []
    from vtkmodules.vtkCommonCore import vtkIdList

    ids = vtkIdList()
    shn.GetItemChildren(shn.GetSceneItemID(), ids, True)
    for n in range(ids.GetNumberOfIds()):
        item = ids.GetId(n)
        if shn.GetItemUID(item, uid_name) != series_instance_uid:
            continue
        node = shn.GetItemDataNode(item)
        if node is not None and node.IsA(class_name):
            out.append(node)
    return out


@dataclass
class DicomReference:
    """Where a node came from in DICOM: its series and, slice by slice, its instances."""

    series_instance_uid: Optional[str]
    instance_uids: list = field(default_factory=list)
    study_instance_uid: Optional[str] = None
    item_id: int = 0

    @property
    def from_dicom(self) -> bool:
        return bool(self.series_instance_uid or self.instance_uids)


def dicom_reference(node, scene=None) -> DicomReference:
    """The DICOM UIDs of a loaded series node, from its subject hierarchy item and attributes.

    The slice order comes from the node attribute "DICOM.instanceUIDs" (what Slicer's scalar
    volume plugin sets, in slice order), else from the item's "DICOMInstanceUID" UID.
    """
    import slicer

    C = slicer.vtkMRMLSubjectHierarchyConstants
    shn = subject_hierarchy_node(scene)
    item = shn.GetItemByDataNode(node) if shn is not None else 0
    series_uid = shn.GetItemUID(item, C.GetDICOMUIDName()) if item else ""
    instance_uids = (node.GetAttribute("DICOM.instanceUIDs") or "").split()
    if not instance_uids and item:
        instance_uids = (shn.GetItemUID(item, C.GetDICOMInstanceUIDName()) or "").split()
    study_uid = ""
    if item:
        study_item = shn.GetItemAncestorAtLevel(item, C.GetDICOMLevelStudy())
        if study_item:
            study_uid = shn.GetItemUID(study_item, C.GetDICOMUIDName())
    return DicomReference(
        series_instance_uid=series_uid or None,
        instance_uids=instance_uids,
        study_instance_uid=study_uid or None,
        item_id=item or 0,
    )
