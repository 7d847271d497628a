"""Our SEG and SR in the real OHIF Viewer (3.13.2, prebuilt from npm), read from the page itself.

- SEG (BINARY and LABELMAP): OHIF lists exactly the file's segments, numbered and named as in the
  file, each in the file's colour (CIELab -> sRGB as dcmjs converts it, within 3 per channel).
- SR of markups on one slice: OHIF offers to track it (rehydratable), and after "Yes" its
  measurements are editable annotations drawn on the image with the file's values.
- SR of everything we write (3D markups, a box, segment volumes): no error boundary.
- SR without any image region (table without SEG, findings on whole images), alone or with
  markups: no error boundary, every group and value listed in OHIF's text view.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

# one browser and one Orthanc for the module: its tests stay on one xdist worker (--dist loadgroup)
pytestmark = [pytest.mark.interop, pytest.mark.xdist_group("ohif")]

DOCS = Path(__file__).resolve().parents[2] / "docs"
DOC_SHOTS = {"seg-binary", "seg-labelmap", "sr"}  # the pictures docs/ shows


def dicomlab_to_srgb(lab) -> list:
    """RecommendedDisplayCIELabValue -> 0..255 sRGB, the conversion dcmjs (so OHIF) uses."""
    L = lab[0] * 100.0 / 65535.0
    a = lab[1] * 255.0 / 65535.0 - 128.0
    b = lab[2] * 255.0 / 65535.0 - 128.0
    y = (L + 16.0) / 116.0
    x, z = y + a / 500.0, y - b / 200.0

    def f(t):
        return t**3 if t**3 > 0.008856 else (t - 16.0 / 116.0) / 7.787

    X, Y, Z = 0.950456 * f(x), 1.0 * f(y), 1.088754 * f(z)
    m = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]])
    rgb = m @ np.array([X, Y, Z])
    rgb = np.where(rgb < 0, 0, rgb)  # shift negatives to 0
    rgb = np.where(rgb > 0.0031308, 1.055 * np.power(rgb, 1 / 2.4) - 0.055, 12.92 * rgb)
    return [int(round(float(np.clip(c, 0, 1)) * 255)) for c in rgb]


def _keep(session, page, name: str):
    """Screenshot of the scenario; ``DICOMAI_VIEWER_DOCS=1`` also refreshes docs/ohif-<name>.png."""
    path = session.shots / f"ohif-{name}.png"
    page.screenshot(path)
    if os.environ.get("DICOMAI_VIEWER_DOCS") == "1" and name in DOC_SHOTS and path.is_file():
        try:
            from PIL import Image

            img = Image.open(path).convert("RGB")
            img = img.resize((img.width * 2 // 3, img.height * 2 // 3))
            img.quantize(colors=96).save(DOCS / path.name, optimize=True)
        except ImportError:
            shutil.copy(path, DOCS / path.name)


@pytest.mark.parametrize("seg_type", ["binary", "labelmap"])
def test_seg_lists_the_files_segments_in_their_own_colours(viewer, page, seg_type):
    session, study = viewer
    ds = pydicom.dcmread(study.files[f"seg-{seg_type}"], stop_before_pixels=True)
    rows = page.load_seg(str(ds.StudyInstanceUID), str(ds.SeriesDescription))
    _keep(session, page, f"seg-{seg_type}")
    assert page.error_boundary() == []
    want = [(int(s.SegmentNumber), str(s.SegmentLabel)) for s in ds.SegmentSequence]
    assert [(r["number"], r["label"]) for r in rows] == want  # no "0 Background" row
    for row, item in zip(rows, ds.SegmentSequence):
        expected = dicomlab_to_srgb([int(v) for v in item.RecommendedDisplayCIELabValue])
        assert row["rgb"] is not None and np.max(np.abs(np.subtract(row["rgb"], expected))) <= 3, (
            row,
            expected,
        )
    assert page.logged(r"SEG parse complete|SEG load")
    # jump-to-segment lands on a slice holding the segment (each of the last two segments)
    numbers = {int(d.InstanceNumber): k for k, d in enumerate(study.source.datasets)}
    for item in list(ds.SegmentSequence)[-2:]:
        shown = page.jump_to_segment(str(item.SegmentLabel))
        assert shown in numbers, (item.SegmentLabel, page.slice_label())
        k = numbers[shown]
        n = int(item.SegmentNumber)
        assert (study.labels[k] == n).any(), (
            item.SegmentLabel,
            k,
            np.flatnonzero((study.labels == n).any((1, 2))),
        )


def test_sr_of_markups_on_a_slice_loads_as_editable_measurements(viewer, page):
    session, study = viewer
    ds = pydicom.dcmread(study.files["sr-slice"], stop_before_pixels=True)
    report = study.reports["sr-slice"]
    got = page.load_sr(str(ds.StudyInstanceUID), str(ds.SeriesDescription), track=True)
    _keep(session, page, "sr")
    assert page.error_boundary() == []
    assert got["offered"], "OHIF did not offer to track (rehydrate) the SR: " + "; ".join(
        page.logged("rehydratable")
    )
    assert page.logged(r"rehydratable") == []
    # every group is a row of the measurements panel (tracked measurements + additional findings)
    assert len(got["rows"]) == len(report.groups)
    # drawn on the image as editable annotations, with the values of the file
    assert len(got["svg"]["uids"]) >= 3
    texts = " ".join(got["svg"]["texts"])
    by_name = {g.tracking_id: g for g in report.groups}
    line = by_name["Axis"].regions[0].points
    length = float(np.linalg.norm(line[1] - line[0]))
    shown = [float(v) for v in re.findall(r"([\d.]+) mm(?!\S)", texts)]
    assert any(abs(v - length) <= 0.006 for v in shown), (texts, length)
    angle = float(by_name["Corner"].measurements[0].value)
    shown = [float(v) for v in re.findall(r"([\d.]+) \u00b0", texts)]
    assert any(abs(v - angle) <= 0.06 for v in shown), (texts, angle)
    area = float(by_name["Ring"].measurements[0].value)
    shown = [float(v) for v in re.findall(r"Area: ([\d.]+) mm", texts)]
    assert any(abs(v - area) <= 0.06 * max(1.0, area / 10) for v in shown), (texts, area)


def test_sr_of_everything_we_write_never_trips_the_error_boundary(viewer, page):
    session, study = viewer
    ds = pydicom.dcmread(study.files["sr-all"], stop_before_pixels=True)
    got = page.load_sr(str(ds.StudyInstanceUID), str(ds.SeriesDescription), track=True)
    _keep(session, page, "sr-all")
    assert page.error_boundary() == []
    assert got["offered"]
    assert len(got["rows"]) >= 1


@pytest.mark.parametrize("name", ["sr-regionless", "sr-mixed"])
def test_sr_with_groups_without_any_image_region_is_listed_as_text_without_error(viewer, page, name):
    session, study = viewer
    ds = pydicom.dcmread(study.files[name], stop_before_pixels=True)
    report = study.reports[name]
    assert any(g.template == "1501" for g in report.groups)
    page.load_sr(str(ds.StudyInstanceUID), str(ds.SeriesDescription), track=True)
    text = wait_for_text(page, "Diagnostic imaging report")
    _keep(session, page, name)
    assert page.error_boundary() == []
    assert "Diagnostic imaging report" in text, text[:2000]
    # every group, with its values, in OHIF's SR text view
    assert text.count("Measurement Group") == len(report.groups), text[:4000]
    shown = np.array([float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", text)])
    for g in report.groups:
        for m in g.measurements:
            v = float(m.value)
            assert np.any(np.abs(shown - v) <= 1e-6 * max(1.0, abs(v))), (g.tracking_id, v)
        assert str(g.tracking_id) in text, g.tracking_id
        for e in g.evaluations:
            assert e.value_text in text, (g.tracking_id, e.value_text)


def wait_for_text(page, needle: str, timeout: float = 30) -> str:
    from ohif import wait_for

    def body():
        t = page.page.evaluate("() => document.body ? document.body.innerText : ''")
        return t if needle in t else ""

    return wait_for(body, timeout) or page.page.evaluate("() => document.body.innerText")
