"""The whole measurement report: its groups, observers and identification, and the status of a read.

Above :mod:`~dicomai.sr.content` (the groups), :mod:`~dicomai.sr.shapes` (groups <-> markups) and
:mod:`~dicomai.sr.tables` (the measurement table), so that :meth:`Report.markups` and
:meth:`Report.rows` use them without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

from .concepts import IMAGING_MEASUREMENT_REPORT
from .content import DeviceObserver, MeasurementGroup, PersonObserver
from .shapes import markups_from_groups
from .tables import report_rows

__all__ = ["ReadStatus", "Report"]


@dataclass
class ReadStatus:
    """What a reader made of an SR, as data (``Report.warnings`` says the same for people).

    Attributes
    ----------
    tid1500:
        The document is a TID 1500 Imaging Measurement Report (template 1500 or its title);
        False: its measurements and coordinates were read generically, the rest left out.
    not_understood:
        Content items left out, one entry per kind (``"<where>: <value type> '<concept>'"``,
        with `` (xN)`` when it occurs N times).
    images_without_geometry:
        SOP Instance UIDs of the images that 2D coordinates lie on and whose geometry was
        neither in the given source nor in the Image Library: those regions were not loaded.
    segs_not_given:
        SOP Instance UIDs of the SEGs the groups reference that were not given: their segments
        are named by number.
    """

    tid1500: bool = True
    not_understood: List[str] = field(default_factory=list)
    images_without_geometry: List[str] = field(default_factory=list)
    segs_not_given: List[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Everything the document holds was understood and placed."""
        return self.tid1500 and not self.not_understood and not self.images_without_geometry

    def as_dict(self) -> dict:
        return {
            "tid1500": self.tid1500,
            "not_understood": list(self.not_understood),
            "images_without_geometry": list(self.images_without_geometry),
            "segs_not_given": list(self.segs_not_given),
        }


@dataclass
class Report:
    """A TID 1500 Imaging Measurement Report.

    Built for writing (:func:`dicomai.sr.build.build_report`, then
    :func:`dicomai.sr.encode.write_sr`) or read from a file (:func:`dicomai.sr.decode.read_sr`),
    in which case the identification attributes and ``warnings`` are filled.
    """

    groups: List[MeasurementGroup] = field(default_factory=list)
    device: Optional[DeviceObserver] = None
    person: Optional[PersonObserver] = None
    procedure_reported: list = field(default_factory=list)
    title: object = IMAGING_MEASUREMENT_REPORT
    series_description: Optional[str] = None
    series_number: Optional[int] = None
    complete: bool = False
    verified: bool = False
    # filled when decoded from a file
    template_id: Optional[str] = None
    sop_instance_uid: Optional[str] = None
    sop_class_uid: Optional[str] = None
    series_instance_uid: Optional[str] = None
    study_instance_uid: Optional[str] = None
    patient_id: Optional[str] = None
    manufacturer: Optional[str] = None
    content_datetime: Optional[str] = None
    frame_of_reference_uids: list = field(default_factory=list)
    referenced_series_uids: list = field(default_factory=list)
    referenced_instances: dict = field(default_factory=dict)
    image_library: list = field(default_factory=list)
    observers: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    #: set by the reader (:func:`dicomai.sr.decode.read_sr`): what it understood, as data
    status: ReadStatus = field(default_factory=ReadStatus)

    @property
    def referenced_seg_uids(self) -> list:
        """SOP Instance UIDs of the SEGs the groups reference (in order of first use)."""
        out: list = []
        for g in self.groups:
            if g.segment is not None and g.segment.sop_instance_uid not in out:
                out.append(g.segment.sop_instance_uid)
        return out

    def markups(self, curve_type: str = "linear") -> list:
        """The Slicer markups the groups' coordinates describe (see :mod:`dicomai.sr.shapes`)."""
        markups, warnings = markups_from_groups(self.groups, curve_type=curve_type)
        for w in warnings:
            if w not in self.warnings:
                self.warnings.append(w)
        return markups

    def rows(self) -> list:
        """Every measurement and qualitative evaluation as one table (see :mod:`dicomai.sr.tables`)."""
        return report_rows(self)
