"""Structured Reports: markups, measurement tables and classifications <-> TID 1500 SR.

- :mod:`~dicomai.sr.content`: the model (markups, measurement groups, measurements, observers);
- :mod:`~dicomai.sr.build`: a report from markups, a per-segment table, its SEG and findings;
- :mod:`~dicomai.sr.encode` / :mod:`~dicomai.sr.decode`: Comprehensive 3D SR writer / any TID 1500
  reader;
- :mod:`~dicomai.sr.shapes`: markups <-> groups and the geometry of both;
- :mod:`~dicomai.sr.markups`, :mod:`~dicomai.sr.tables`, :mod:`~dicomai.sr.findings`: Slicer
  ``.mrk.json`` files, measurement tables (TSV/CSV), findings JSON;
- :mod:`~dicomai.sr.cli`, :mod:`~dicomai.sr.info`: ``dicomai export-sr / import-sr / info``.

Coordinates are LPS millimetres throughout; RAS only at the boundaries that need it.
"""

from __future__ import annotations

from .build import ImageFinding, SegAttachment, build_report
from .content import (
    Annotation,
    DeviceObserver,
    Evaluation,
    ImageRef,
    Markup,
    Measurement,
    MeasurementGroup,
    PersonObserver,
    Region,
    Report,
    SegmentReference,
    lps_to_ras,
    ras_to_lps,
)
from .decode import read_sr, read_sr_dataset
from .encode import SRWriteResult, write_sr
from .findings import findings_from_json, load_findings
from .markups import read_markups, write_markups
from .shapes import groups_from_markup, markups_from_groups
from .tables import MeasurementTable, read_measurement_table, report_rows, write_table

__all__ = [
    "Annotation",
    "DeviceObserver",
    "Evaluation",
    "ImageFinding",
    "ImageRef",
    "Markup",
    "Measurement",
    "MeasurementGroup",
    "MeasurementTable",
    "PersonObserver",
    "Region",
    "Report",
    "SRWriteResult",
    "SegAttachment",
    "SegmentReference",
    "build_report",
    "findings_from_json",
    "groups_from_markup",
    "load_findings",
    "lps_to_ras",
    "markups_from_groups",
    "ras_to_lps",
    "read_markups",
    "read_measurement_table",
    "read_sr",
    "read_sr_dataset",
    "report_rows",
    "write_markups",
    "write_sr",
    "write_table",
]
