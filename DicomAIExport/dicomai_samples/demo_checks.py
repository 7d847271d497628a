"""The demo's checks: what came back from DICOM against what went in, and the table it prints.

Imports ``slicer`` (the application or slicer-core) and the adapters (:mod:`dicomai_slicer`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = ["COLOUR_TOLERANCE", "DemoReport"]

COLOUR_TOLERANCE = 2  # 0-255 units: RGB -> CIELab (16-bit) -> RGB round-off


@dataclass
class DemoReport:
    """What the demo did: the per-segment rows, failed checks, files written, step times."""

    rows: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    written: list = field(default_factory=list)
    timings: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def check(self, condition, message: str) -> bool:
        if not condition:
            self.failures.append(message)
        return bool(condition)


@dataclass
class StepClock:
    """Times the demo's steps into the report and logs each."""

    report: DemoReport
    log: Callable[..., None]
    last: float = field(default_factory=time.perf_counter)

    def step(self, label: str) -> None:
        now = time.perf_counter()
        self.report.timings.append((label, now - self.last))
        self.log(f"  {label}: {now - self.last:.2f} s")
        self.last = now


def check_segment(report: DemoReport, segment, mask_back, expected_mask, meta_entry) -> None:
    """One segment loaded back: voxels, name, colour and codes; appends its table row."""
    from dicomai.coding import codes_equal, format_code, terminology_from_string
    from dicomai_slicer.segmentation import get_terminology

    name, rgb, category, typ, modifier, region, _desc = meta_entry
    voxels_ok = bool(np.array_equal(mask_back, expected_mask))
    name_ok = segment.GetName() == name
    got_rgb = tuple(int(round(c * 255)) for c in segment.GetColor())
    colour_ok = max(abs(a - b) for a, b in zip(got_rgb, rgb)) <= COLOUR_TOLERANCE
    term = terminology_from_string(get_terminology(segment))
    codes_ok = (
        codes_equal(term["category"], category)
        and codes_equal(term["type"], typ)
        and codes_equal(term["type_modifier"], modifier)
        and codes_equal(term["region"], region)
    )
    report.check(
        voxels_ok, f"segment {name!r}: voxels differ ({int(mask_back.sum())} vs {int(expected_mask.sum())})"
    )
    report.check(name_ok, f"segment {name!r}: name came back as {segment.GetName()!r}")
    report.check(colour_ok, f"segment {name!r}: colour {got_rgb} instead of {rgb}")
    report.check(
        codes_ok,
        f"segment {name!r}: codes {format_code(term['type'])} {format_code(term['type_modifier'])} "
        f"in {format_code(term['region'])} instead of {format_code(typ)} {format_code(modifier)} in "
        f"{format_code(region)}",
    )
    what = format_code(typ).split(",", 2)[-1].strip(' )"')
    if modifier is not None:
        what += f", {modifier.meaning.lower()}"
    if region is not None:
        what += f" (in {region.meaning.lower()})"
    report.rows.append(
        (name, int(mask_back.sum()), int(expected_mask.sum()), voxels_ok, name_ok, colour_ok, codes_ok, what)
    )


def check_report(report: DemoReport, line, table, expected: tuple, log) -> None:
    """The line comes back within 1e-4 mm with its length; the table names every segment.

    ``expected`` is ``(line points (RAS), line length, phantom_codes())``.
    """
    import slicer

    points, length, meta = expected
    back = slicer.util.arrayFromMarkupsControlPoints(line)
    report.check(
        back.shape == points.shape and np.abs(back - points).max() < 1e-4,
        f"line points moved by {np.abs(back - points).max() if back.shape == points.shape else '?'} mm",
    )
    back_length = line.GetMeasurement("length").GetValue()
    report.check(abs(back_length - length) < 1e-6, f"line length {back_length} != {length}")
    cells = [
        [table.GetCellText(r, c) for c in range(table.GetNumberOfColumns())]
        for r in range(table.GetNumberOfRows())
    ]
    text = " ".join(" ".join(row) for row in cells)
    for entry in meta.values():
        report.check(entry[0] in text, f"segment {entry[0]!r} missing from the SR table")
    log(
        f"  SR back: '{line.GetName()}' {back_length:.2f} mm, points within 1e-4 mm; "
        f"{len(cells)} measurement rows naming every segment"
    )


def check_hierarchy(report: DemoReport, volume, segmentation) -> None:
    """The SEG sits under the CT's study, references the CT's instances and has the CT as geometry."""
    import slicer

    from dicomai_slicer.subject_hierarchy import dicom_reference, subject_hierarchy_node

    C = slicer.vtkMRMLSubjectHierarchyConstants
    shn = subject_hierarchy_node()
    ct_ref, seg_ref = dicom_reference(volume), dicom_reference(segmentation)
    report.check(ct_ref.study_instance_uid is not None, "the CT has no study item")
    report.check(
        seg_ref.study_instance_uid == ct_ref.study_instance_uid, "the SEG is not under the CT's study item"
    )
    referenced = shn.GetItemAttribute(
        seg_ref.item_id, C.GetDICOMReferencedInstanceUIDsAttributeName()
    ).split()
    report.check(
        sorted(referenced) == sorted(ct_ref.instance_uids),
        "the SEG's DICOM.ReferencedInstanceUIDs are not the CT's instances",
    )
    geometry_ref = segmentation.GetNodeReference(segmentation.GetReferenceImageGeometryReferenceRole())
    report.check(geometry_ref is volume, "the segmentation's reference geometry is not the CT")


def print_table(report: DemoReport, log) -> None:
    """The per-segment table: voxels back and expected, and OK/FAIL per check."""
    head = ("segment", "voxels", "expected", "exact", "name", "colour", "codes", "coded as")
    rows = [_fmt_row(r) for r in report.rows]
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = "  ".join(str(h).ljust(w) for h, w in zip(head, widths))
    log(line)
    log("-" * len(line))
    for r in rows:
        log("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


def _fmt_row(r):
    mark = {True: "OK", False: "FAIL"}
    return (r[0], r[1], r[2], mark[r[3]], mark[r[4]], mark[r[5]], mark[r[6]], r[7])


def print_summary(report: DemoReport, log, seconds: float) -> None:
    """The table, the notes, the verdict, the failed checks and the files written."""
    log("")
    print_table(report, log)
    for w in report.warnings:
        log(f"note: {w}")
    log("")
    verdict = "all checks passed" if report.ok else f"{len(report.failures)} check(s) FAILED"
    log(f"{verdict} in {seconds:.1f} s")
    for f in report.failures:
        log(f"  FAILED: {f}")
    log("written:")
    for p in report.written:
        log(f"  {p}")
