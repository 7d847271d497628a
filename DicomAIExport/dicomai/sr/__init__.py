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

The family registers here, in one place (:data:`FAMILY`, listed in
:data:`dicomai.families.BUILTIN_FAMILIES`): its SOP classes, ``dicomai info`` and its commands.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ..families import Family
from ..sopclasses import SR_SOP_CLASSES

FAMILY = Family(
    "SR",
    sop_classes=SR_SOP_CLASSES,
    modalities=("SR",),
    describer="dicomai.sr.info:describe_sr",
    cli="dicomai.sr.cli",
)

# public name -> submodule; imported on first use, so that `dicomai.sr.cli` (built into every
# `dicomai` command line) does not pay for pydicom.sr and highdicom at start-up
_WHERE = {
    "ImageFinding": "build",
    "SegAttachment": "build",
    "build_report": "build",
    "Annotation": "content",
    "DeviceObserver": "content",
    "Evaluation": "content",
    "ImageRef": "content",
    "Markup": "content",
    "Measurement": "content",
    "MeasurementGroup": "content",
    "PersonObserver": "content",
    "Region": "content",
    "Report": "document",
    "SegmentReference": "content",
    "lps_to_ras": "content",
    "ras_to_lps": "content",
    "read_sr": "decode",
    "read_sr_dataset": "decode",
    "SRWriteResult": "encode",
    "write_sr": "encode",
    "findings_from_json": "findings",
    "load_findings": "findings",
    "read_markups": "markups",
    "write_markups": "markups",
    "groups_from_markup": "shapes",
    "markups_from_groups": "shapes",
    "MeasurementTable": "tables",
    "read_measurement_table": "tables",
    "report_rows": "tables",
    "write_table": "tables",
}

if TYPE_CHECKING:  # every lazily provided name, for readers, editors and type checkers
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
        SegmentReference,
        lps_to_ras,
        ras_to_lps,
    )
    from .decode import read_sr, read_sr_dataset
    from .document import Report
    from .encode import SRWriteResult, write_sr
    from .findings import findings_from_json, load_findings
    from .markups import read_markups, write_markups
    from .shapes import groups_from_markup, markups_from_groups
    from .tables import MeasurementTable, read_measurement_table, report_rows, write_table


__all__ = [
    "FAMILY",
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


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'dicomai.sr' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
