"""The DicomAI demo: an AI segmentation and a measurement in Slicer -> DICOM SEG + SR -> back, checked.

    python -m dicomai_samples.demo [--out demo-output] [--quick]

1. writes a synthetic abdominal CT (dicomai_samples.phantom) as a DICOM series, with random
   file names and reversed instance numbers, so that only sorting by position gets it right;
2. loads it with ``load_dicom_series`` into a fresh headless Slicer scene;
3. makes the "AI result" a real segmentation node the way a Slicer extension does (labelmap +
   colour table -> ``ImportLabelmapToSegmentationNode``), then gives its segments names,
   colours and terminology (liver, spleen, both kidneys and a small liver lesion);
4. exports it with ``export_segmentation``, and a line across the lesion plus every segment's
   volume as a TID 1500 SR with ``export_report``;
5. runs the command-line path too (labelmap file + dcmqi JSON -> ``dicomai export-seg`` ->
   ``dicomai import-seg``) and compares the labelmap that comes back;
6. starts a fresh scene, loads the CT, the SEG and the SR with ``load_dicom_objects`` and checks
   every segment voxel for voxel (with Slicer's own ``arrayFromSegmentBinaryLabelmap``), its name,
   colour (within CIELab round-off) and codes, where it sits in the subject hierarchy, the line's
   points (within 1e-4 mm) and length, and that the SR's table names every segment;
7. renders the segmentation and the line over the CT (axial view.png, coronal view-coronal.png);
8. prints a table and the paths of everything written. Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional

import numpy as np

from .grids import make_grid
from .phantom import phantom, phantom_segments
from .segments import dcmqi_metadata
from .series import write_series

__all__ = ["DemoReport", "main", "run_demo"]

FULL_SHAPE = (100, 256, 256)
FULL_SPACING = (2.5, 1.5, 1.5)
QUICK_SHAPE = (40, 128, 128)
QUICK_SPACING = (2.5, 3.0, 3.0)
COLOUR_TOLERANCE = 2  # 0-255 units: RGB -> CIELab (16-bit) -> RGB round-off
ALGORITHM = ("DicomAI phantom model", "1.0")
LESION_VALUE = 5  # dicomai_samples.phantom's label of the liver lesion


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


def _fresh_scene(previous=None):
    """A new empty scene: create_scene() headless, the application's cleared scene in Slicer."""
    import slicer

    from dicomai_slicer.scene import close_scene, create_scene, in_slicer_application

    if in_slicer_application():
        slicer.mrmlScene.Clear(0)
        return slicer.mrmlScene
    if previous is not None:
        close_scene(previous)  # fast: see close_scene
    return create_scene()


def _phantom_codes():
    """Per label value: (name, rgb, category, type, modifier, region, description)."""
    from pydicom.sr.codedict import codes

    from dicomai.coding import code_from_dict

    out = {}
    for d in phantom_segments():
        category = code_from_dict(d["SegmentedPropertyCategoryCodeSequence"])
        typ = code_from_dict(d["SegmentedPropertyTypeCodeSequence"])
        modifier = code_from_dict(d.get("SegmentedPropertyTypeModifierCodeSequence"))
        # the lesion lies in the liver: say so with an anatomic region, as a model would
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


def _make_ai_segmentation(scene, volume, labels, meta):
    """The AI result as a Slicer extension makes it: labelmap + colour table -> segmentation."""
    import slicer

    from dicomai.coding import terminology_to_string
    from dicomai_slicer.segmentation import TAG_DESCRIPTION, set_terminology

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
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "AI organ segmentation")
    segmentation.SetReferenceImageGeometryParameterFromVolumeNode(volume)
    if not slicer.vtkSlicerSegmentationsModuleLogic.ImportLabelmapToSegmentationNode(labelmap, segmentation):
        raise RuntimeError("ImportLabelmapToSegmentationNode failed")
    segmentation.CreateDefaultDisplayNodes()
    sg = segmentation.GetSegmentation()
    for n in range(sg.GetNumberOfSegments()):
        segment = sg.GetNthSegment(n)
        value = segment.GetLabelValue()
        name, rgb, category, typ, modifier, region, description = meta[value]
        segment.SetName(name)
        segment.SetColor(*(c / 255.0 for c in rgb))
        set_terminology(segment, terminology_to_string(category, typ, modifier, region))
        segment.SetTag(TAG_DESCRIPTION, description)
    scene.RemoveNode(labelmap)
    return segmentation


def _segment_row(report, segment, mask_back, expected_mask, meta_entry):
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


def _print_table(report, log) -> None:
    head = ("segment", "voxels", "expected", "exact", "name", "colour", "codes", "coded as")
    widths = [
        max(len(str(r[i])) for r in [head] + [_fmt_row(r) for r in report.rows]) for i in range(len(head))
    ]
    line = "  ".join(str(h).ljust(w) for h, w in zip(head, widths))
    log(line)
    log("-" * len(line))
    for r in report.rows:
        log("  ".join(str(c).ljust(w) for c, w in zip(_fmt_row(r), widths)))


def _fmt_row(r):
    mark = {True: "OK", False: "FAIL"}
    return (r[0], r[1], r[2], mark[r[3]], mark[r[4]], mark[r[5]], mark[r[6]], r[7])


def _step(report, log, label: str, t0: float) -> float:
    t = time.perf_counter()
    report.timings.append((label, t - t0))
    log(f"  {label}: {t - t0:.2f} s")
    return t


def run_demo(
    out_dir="demo-output",
    quick: bool = False,
    render: bool = True,
    cli: bool = True,
    log: Callable[..., None] = print,
) -> DemoReport:
    """Run the demo into ``out_dir``; returns a :class:`DemoReport` (``report.ok``)."""
    import slicer

    from dicomai_slicer.export import export_segmentation
    from dicomai_slicer.loader import load_dicom_objects
    from dicomai_slicer.report import export_report
    from dicomai_slicer.series import load_dicom_series
    from dicomai_slicer.subject_hierarchy import dicom_reference, subject_hierarchy_node

    report = DemoReport()
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    shape, spacing = (QUICK_SHAPE, QUICK_SPACING) if quick else (FULL_SHAPE, FULL_SPACING)
    t_start = t = time.perf_counter()

    # 1. the CT, as DICOM files named at random
    log(f"DicomAI demo: phantom CT {shape[2]}x{shape[1]}x{shape[0]} -> {out}")
    grid = make_grid(shape, spacing, orientation="axial")
    ct, labels, _ = phantom(shape)
    meta = _phantom_codes()
    ct_dir = out / "ct"
    if ct_dir.exists():
        for old in ct_dir.glob("*.dcm"):
            old.unlink()
    series = write_series(
        ct_dir,
        ct,
        grid,
        series_description="Phantom abdomen CT",
        reverse_instance_numbers=True,
        uid_seed="demo",
    )
    report.written.append(ct_dir)
    t = _step(report, log, f"wrote {len(series.files)} CT slices", t)

    # 2. load it
    scene = _fresh_scene()
    volume = load_dicom_series(ct_dir)
    report.check(
        np.array_equal(slicer.util.arrayFromVolume(volume), ct), "CT voxels differ after load_dicom_series"
    )
    from dicomai_slicer._images import grid_of_volume

    report.check(grid_of_volume(volume).matches(grid), "CT geometry differs after load_dicom_series")
    t = _step(report, log, "loaded the CT (load_dicom_series)", t)

    # 3. the AI result as a segmentation node; 4. export
    segmentation = _make_ai_segmentation(scene, volume, labels, meta)
    seg_path = out / "ai-result.seg.dcm"
    result = export_segmentation(
        segmentation,
        volume,
        seg_path,
        algorithm_name=ALGORITHM[0],
        algorithm_version=ALGORITHM[1],
        series_description="AI organ segmentation",
        overwrite=True,
    )
    report.written.append(result.path)
    report.warnings.extend(result.warnings)
    t = _step(report, log, f"exported {len(result.segments)} segments ({result.number_of_frames} frames)", t)

    # 4b. a measurement on the lesion as a TID 1500 SR that also reports every segment's volume
    line = _make_lesion_line(scene, volume, labels == LESION_VALUE)
    sr_path = out / "ai-report.sr.dcm"
    sr = export_report(
        volume,
        sr_path,
        markups=[line],
        segmentation=result.path,
        model_name=ALGORITHM[0],
        model_version=ALGORITHM[1],
        series_description="AI measurements",
        overwrite=True,
    )
    line_points = slicer.util.arrayFromMarkupsControlPoints(line).copy()
    line_length = line.GetMeasurement("length").GetValue()
    report.written.append(Path(os.fspath(sr)))
    report.warnings.extend(sr.warnings)
    t = _step(
        report, log, f"exported the lesion diameter ({line_length:.1f} mm) and segment volumes as SR", t
    )

    # 5. the command-line path
    if cli:
        t = _cli_round_trip(report, out, ct_dir, labels, grid, log, t)

    # 6. fresh scene, load CT + SEG + SR, check
    scene = _fresh_scene(scene)
    nodes = load_dicom_objects([ct_dir, seg_path, sr_path])
    volumes = [n for n in nodes if n.IsA("vtkMRMLScalarVolumeNode")]
    segmentations = [n for n in nodes if n.IsA("vtkMRMLSegmentationNode")]
    lines = [n for n in nodes if n.IsA("vtkMRMLMarkupsLineNode")]
    tables = [n for n in nodes if n.IsA("vtkMRMLTableNode")]
    report.check(
        len(volumes) == 1 and len(segmentations) == 1 and len(lines) == 1 and len(tables) == 1,
        f"load_dicom_objects gave {len(nodes)} node(s)",
    )
    t = _step(report, log, "loaded CT + SEG + SR into a fresh scene (load_dicom_objects)", t)
    if lines and tables:
        _check_report(report, lines[0], tables[0], line_points, line_length, meta, log)
    if volumes and segmentations:
        volume, loaded = volumes[0], segmentations[0]
        sg = loaded.GetSegmentation()
        report.check(
            sg.GetNumberOfSegments() == len(meta),
            f"{sg.GetNumberOfSegments()} segments loaded, {len(meta)} exported",
        )
        by_name = {
            sg.GetNthSegment(n).GetName(): sg.GetNthSegmentID(n) for n in range(sg.GetNumberOfSegments())
        }
        for value, entry in meta.items():
            sid = by_name.get(entry[0])
            if not report.check(sid is not None, f"segment {entry[0]!r} missing after loading"):
                continue
            back = slicer.util.arrayFromSegmentBinaryLabelmap(loaded, sid, volume).astype(bool)
            _segment_row(report, sg.GetSegment(sid), back, labels == value, entry)
        _check_hierarchy(report, volume, loaded, dicom_reference, subject_hierarchy_node)
        t = _step(report, log, "checked every segment", t)
        if render:
            from dicomai_slicer.render import render_view

            # axial through the small lesion (liver, lesion, spleen); coronal through the spleen,
            # which also cuts the liver and both kidneys
            for png, view, centre_on in (
                (out / "view.png", "Red", by_name.get("Liver lesion")),
                (out / "view-coronal.png", "Green", by_name.get("Spleen")),
            ):
                render_view(png, view, volume, loaded, segment_id=centre_on, size=(640, 640))
                report.written.append(png)
            t = _step(report, log, "rendered view.png (axial) and view-coronal.png (coronal)", t)

    log("")
    _print_table(report, log)
    for w in report.warnings:
        log(f"note: {w}")
    log("")
    log(
        f"{'all checks passed' if report.ok else f'{len(report.failures)} check(s) FAILED'} "
        f"in {time.perf_counter() - t_start:.1f} s"
    )
    for f in report.failures:
        log(f"  FAILED: {f}")
    log("written:")
    for p in report.written:
        log(f"  {p}")
    return report


def _make_lesion_line(scene, volume, lesion_mask):
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


def _check_report(report, line, table, points, length, meta, log) -> None:
    """The line comes back within 1e-4 mm with its length; the table names every segment."""
    import slicer

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


def _check_hierarchy(report, volume, segmentation, dicom_reference, subject_hierarchy_node) -> None:
    import slicer

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


def _cli_round_trip(report, out, ct_dir, labels, grid, log, t) -> float:
    import json

    from dicomai.cli import main as cli_main
    from dicomai.imageio import read_labelmap, write_image

    cli_dir = out / "cli"
    cli_dir.mkdir(exist_ok=True)
    labelmap = cli_dir / "model-output.nrrd"
    metadata = cli_dir / "model-output.json"
    write_image(labelmap, labels, grid)
    metadata.write_text(
        json.dumps(dcmqi_metadata(phantom_segments(), SeriesDescription="CLI export"), indent=2)
    )
    seg = cli_dir / "cli-result.seg.dcm"
    back = cli_dir / "cli-roundtrip.nrrd"
    export_args = ["export-seg", "--source", str(ct_dir), "--labelmap", str(labelmap)]
    export_args += ["--metadata", str(metadata), "--out", str(seg), "--algorithm-name", ALGORITHM[0]]
    code = _run_cli(cli_main, export_args + ["--overwrite", "--quiet"], log)
    report.check(code == 0, f"dicomai export-seg exited with {code}")
    import_args = ["import-seg", str(seg), "--source", str(ct_dir), "--out", str(back)]
    code2 = _run_cli(cli_main, import_args + ["--overwrite", "--quiet"], log)
    report.check(code2 == 0, f"dicomai import-seg exited with {code2}")
    if code == 0 and code2 == 0:
        array, back_grid = read_labelmap(back)
        report.check(
            np.array_equal(array, labels), "the CLI round trip (export-seg -> import-seg) changed voxels"
        )
        report.check(back_grid.matches(grid), "the CLI round trip changed the geometry")
    report.written.extend([labelmap, metadata, seg, back, cli_dir / "cli-roundtrip.json"])
    return _step(report, log, "command line: dicomai export-seg -> dicomai import-seg", t)


def _run_cli(cli_main, args, log) -> int:
    """Run ``dicomai`` in this process; its output is shown indented, as the command line prints it."""
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        code = cli_main(args)
    log(f"    $ dicomai {' '.join(args[:1])} ...")
    for line in buffer.getvalue().splitlines():
        log(f"    {line}")
    return code


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dicomai_samples.demo", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", default="demo-output", help="output folder (default demo-output)")
    parser.add_argument("--quick", action="store_true", help="a small phantom (a few seconds)")
    parser.add_argument("--no-render", action="store_true", help="skip the PNG views")
    args = parser.parse_args(argv)
    report = run_demo(args.out, quick=args.quick, render=not args.no_render)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
