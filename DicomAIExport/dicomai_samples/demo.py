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
from pathlib import Path
from typing import Callable, List, Optional

import numpy as np

from .demo_checks import (
    DemoReport,
    StepClock,
    check_hierarchy,
    check_report,
    check_segment,
    print_summary,
)
from .grids import make_grid
from .phantom import phantom, phantom_segments
from .segments import dcmqi_metadata
from .series import write_series

__all__ = ["DemoReport", "main", "run_demo"]

FULL_SHAPE = (100, 256, 256)
FULL_SPACING = (2.5, 1.5, 1.5)
QUICK_SHAPE = (40, 128, 128)
QUICK_SPACING = (2.5, 3.0, 3.0)
ALGORITHM = ("DicomAI phantom model", "1.0")
LESION_VALUE = 5  # dicomai_samples.phantom's label of the liver lesion


def run_demo(
    out_dir="demo-output",
    quick: bool = False,
    render: bool = True,
    cli: bool = True,
    log: Callable[..., None] = print,
) -> DemoReport:
    """Run the demo into ``out_dir``; returns a :class:`DemoReport` (``report.ok``).

    Parameters
    ----------
    out_dir:
        Output folder (created when missing; an earlier run's CT files are replaced).
    quick:
        A 128 x 128 x 40 phantom (a few seconds) instead of 256 x 256 x 100.
    render:
        Write the axial and coronal PNG views.
    cli:
        Run the command-line round trip too (``dicomai export-seg`` -> ``dicomai import-seg``).
    log:
        Called with each line of the demo's output.
    """
    t_start = time.perf_counter()
    demo = _Demo(Path(out_dir).resolve(), DemoReport(), log)
    demo.out.mkdir(parents=True, exist_ok=True)
    shape, spacing = (QUICK_SHAPE, QUICK_SPACING) if quick else (FULL_SHAPE, FULL_SPACING)
    log(f"DicomAI demo: phantom CT {shape[2]}x{shape[1]}x{shape[0]} -> {demo.out}")
    demo.write_ct(shape, spacing)
    demo.load_ct()
    demo.export_results()
    if cli:
        demo.cli_round_trip()
    demo.load_back_and_check(render)
    print_summary(demo.report, log, time.perf_counter() - t_start)
    return demo.report


class _Demo:
    """The demo's steps, in order; each checks what it can and times itself."""

    def __init__(self, out: Path, report: DemoReport, log: Callable[..., None]) -> None:
        from .nodes import phantom_codes

        self.out, self.report, self.log = out, report, log
        self.clock = StepClock(report, log)
        self.meta = phantom_codes()
        self.ct_dir = out / "ct"
        self.seg_path = out / "ai-result.seg.dcm"
        self.sr_path = out / "ai-report.sr.dcm"

    def write_ct(self, shape: tuple, spacing: tuple) -> None:
        """1. the CT, as DICOM files named at random, with reversed instance numbers."""
        self.grid = make_grid(shape, spacing, orientation="axial")
        self.ct, self.labels, _ = phantom(shape)
        if self.ct_dir.exists():
            for old in self.ct_dir.glob("*.dcm"):
                old.unlink()
        series = write_series(
            self.ct_dir,
            self.ct,
            self.grid,
            series_description="Phantom abdomen CT",
            reverse_instance_numbers=True,
            uid_seed="demo",
        )
        self.report.written.append(self.ct_dir)
        self.clock.step(f"wrote {len(series.files)} CT slices")

    def load_ct(self) -> None:
        """2. load it into a fresh scene with ``load_dicom_series``: same voxels, same geometry."""
        import slicer

        from dicomai_slicer._images import grid_of_volume
        from dicomai_slicer.series import load_dicom_series

        from .nodes import fresh_scene

        self.scene = fresh_scene()
        self.volume = load_dicom_series(self.ct_dir)
        self.report.check(
            np.array_equal(slicer.util.arrayFromVolume(self.volume), self.ct),
            "CT voxels differ after load_dicom_series",
        )
        self.report.check(
            grid_of_volume(self.volume).matches(self.grid), "CT geometry differs after load_dicom_series"
        )
        self.clock.step("loaded the CT (load_dicom_series)")

    def export_results(self) -> None:
        """3. the AI result as a segmentation node; 4. export it as SEG, and a line across the
        lesion plus every segment's volume as a TID 1500 SR."""
        import slicer

        from dicomai_slicer.export import export_segmentation
        from dicomai_slicer.report import export_report

        from .nodes import make_ai_segmentation, make_lesion_line

        segmentation = make_ai_segmentation(self.scene, self.volume, self.labels, self.meta)
        result = export_segmentation(
            segmentation,
            self.volume,
            self.seg_path,
            algorithm_name=ALGORITHM[0],
            algorithm_version=ALGORITHM[1],
            series_description="AI organ segmentation",
            overwrite=True,
        )
        self.report.written.append(result.path)
        self.report.warnings.extend(result.warnings)
        self.clock.step(f"exported {len(result.segments)} segments ({result.number_of_frames} frames)")
        line = make_lesion_line(self.scene, self.volume, self.labels == LESION_VALUE)
        sr = export_report(
            self.volume,
            self.sr_path,
            markups=[line],
            segmentation=result.path,
            model_name=ALGORITHM[0],
            model_version=ALGORITHM[1],
            series_description="AI measurements",
            overwrite=True,
        )
        self.line_points = slicer.util.arrayFromMarkupsControlPoints(line).copy()
        self.line_length = line.GetMeasurement("length").GetValue()
        self.report.written.append(Path(os.fspath(sr)))
        self.report.warnings.extend(sr.warnings)
        self.clock.step(f"exported the lesion diameter ({self.line_length:.1f} mm) and segment volumes as SR")

    def cli_round_trip(self) -> None:
        """5. the command-line path: labelmap file + dcmqi JSON -> ``dicomai export-seg`` ->
        ``dicomai import-seg``; the labelmap and its geometry come back unchanged."""
        import json

        from dicomai.cli import main as cli_main
        from dicomai.imageio import read_labelmap, write_image

        cli_dir = self.out / "cli"
        cli_dir.mkdir(exist_ok=True)
        labelmap, metadata = cli_dir / "model-output.nrrd", cli_dir / "model-output.json"
        seg, back = cli_dir / "cli-result.seg.dcm", cli_dir / "cli-roundtrip.nrrd"
        write_image(labelmap, self.labels, self.grid)
        meta = dcmqi_metadata(phantom_segments(), SeriesDescription="CLI export")
        metadata.write_text(json.dumps(meta, indent=2))
        export_args = ["export-seg", "--source", str(self.ct_dir), "--labelmap", str(labelmap)]
        export_args += ["--metadata", str(metadata), "--out", str(seg), "--algorithm-name", ALGORITHM[0]]
        code = _run_cli(cli_main, export_args + ["--overwrite", "--quiet"], self.log)
        self.report.check(code == 0, f"dicomai export-seg exited with {code}")
        import_args = ["import-seg", str(seg), "--source", str(self.ct_dir), "--out", str(back)]
        code2 = _run_cli(cli_main, import_args + ["--overwrite", "--quiet"], self.log)
        self.report.check(code2 == 0, f"dicomai import-seg exited with {code2}")
        if code == 0 and code2 == 0:
            array, back_grid = read_labelmap(back)
            self.report.check(
                np.array_equal(array, self.labels),
                "the CLI round trip (export-seg -> import-seg) changed voxels",
            )
            self.report.check(back_grid.matches(self.grid), "the CLI round trip changed the geometry")
        self.report.written.extend([labelmap, metadata, seg, back, cli_dir / "cli-roundtrip.json"])
        self.clock.step("command line: dicomai export-seg -> dicomai import-seg")

    def load_back_and_check(self, render: bool) -> None:
        """6. a fresh scene; load the CT, the SEG and the SR with ``load_dicom_objects``; check
        the SR, every segment and the hierarchy; 7. render."""
        from dicomai_slicer.loader import load_dicom_objects

        from .nodes import fresh_scene

        self.scene = fresh_scene(self.scene)
        nodes = load_dicom_objects([self.ct_dir, self.seg_path, self.sr_path])
        kinds = ("vtkMRMLScalarVolumeNode", "vtkMRMLSegmentationNode", "vtkMRMLMarkupsLineNode")
        found = [[n for n in nodes if n.IsA(kind)] for kind in (*kinds, "vtkMRMLTableNode")]
        volumes, segmentations, lines, tables = found
        self.report.check(all(len(f) == 1 for f in found), f"load_dicom_objects gave {len(nodes)} node(s)")
        self.clock.step("loaded CT + SEG + SR into a fresh scene (load_dicom_objects)")
        if lines and tables:
            expected = (self.line_points, self.line_length, self.meta)
            check_report(self.report, lines[0], tables[0], expected, self.log)
        if volumes and segmentations:
            by_name = self._check_segments(volumes[0], segmentations[0])
            check_hierarchy(self.report, volumes[0], segmentations[0])
            self.clock.step("checked every segment")
            if render:
                self._render(volumes[0], segmentations[0], by_name)

    def _check_segments(self, volume, loaded) -> dict:
        """Every exported segment is loaded, voxel for voxel; returns segment IDs by name."""
        import slicer

        sg = loaded.GetSegmentation()
        self.report.check(
            sg.GetNumberOfSegments() == len(self.meta),
            f"{sg.GetNumberOfSegments()} segments loaded, {len(self.meta)} exported",
        )
        by_name = {
            sg.GetNthSegment(n).GetName(): sg.GetNthSegmentID(n) for n in range(sg.GetNumberOfSegments())
        }
        for value, entry in self.meta.items():
            sid = by_name.get(entry[0])
            if not self.report.check(sid is not None, f"segment {entry[0]!r} missing after loading"):
                continue
            back = slicer.util.arrayFromSegmentBinaryLabelmap(loaded, sid, volume).astype(bool)
            check_segment(self.report, sg.GetSegment(sid), back, self.labels == value, entry)
        return by_name

    def _render(self, volume, segmentation, by_name: dict) -> None:
        """Axial through the small lesion (liver, lesion, spleen); coronal through the spleen,
        which also cuts the liver and both kidneys."""
        from dicomai_slicer.render import render_view

        for png, view, centre_on in (
            (self.out / "view.png", "Red", by_name.get("Liver lesion")),
            (self.out / "view-coronal.png", "Green", by_name.get("Spleen")),
        ):
            render_view(png, view, volume, segmentation, segment_id=centre_on, size=(640, 640))
            self.report.written.append(png)
        self.clock.step("rendered view.png (axial) and view-coronal.png (coronal)")


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
