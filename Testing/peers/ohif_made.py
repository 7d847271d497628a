"""DICOM objects made the way the OHIF Viewer saves them (its adapters, in Node), for the tests.

:func:`make_sr` runs ``ohif_sr.mjs`` (@cornerstonejs/adapters ``MeasurementReport``) over a
Cornerstone3D tool state; :func:`make_seg` runs ``ohif_seg.mjs`` (``generateSegmentation``) over
a labelmap. Both need the pinned JS packages ``scripts/install_peers.sh`` installs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CIELAB = {"Liver": [40000, 40000, 50000], "Spleen": [30000, 50000, 20000], "Kidney": [50000, 30000, 40000]}
CODES = {"Liver": "10200004", "Spleen": "78961009", "Kidney": "64033007"}


def _run(script: str, spec: dict, folder: Path, out: Path) -> None:
    from . import peers_home, require

    require("dcmjs")
    path = folder / f"{out.name}.json"
    path.write_text(json.dumps(spec))
    env = dict(os.environ, DICOMAI_PEERS_HOME=str(peers_home()))
    proc = subprocess.run(
        [shutil.which("node"), str(HERE / script), str(path), str(out)],
        capture_output=True,
        text=True,
        env=env,
    )
    if proc.returncode != 0:
        raise AssertionError(f"{script} failed: {proc.stderr[-3000:]}")


def _image(ds) -> dict:
    keys = ("SOPInstanceUID", "SOPClassUID", "StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID")
    keys += ("PatientID", "StudyDate", "StudyTime", "StudyID", "AccessionNumber", "Modality")
    out = {k: str(ds.get(k, "") or "") for k in keys}
    out.update(
        imageId=f"wadors:{ds.SOPInstanceUID}",
        PatientName=str(ds.PatientName),
        ImagePositionPatient=[float(v) for v in ds.ImagePositionPatient],
        ImageOrientationPatient=[float(v) for v in ds.ImageOrientationPatient],
        PixelSpacing=[float(v) for v in ds.PixelSpacing],
        Rows=int(ds.Rows),
        Columns=int(ds.Columns),
    )
    return out


def tool_state(source, k: int) -> dict:
    """{name: (tool, world points, cached stats, extra)} of every OHIF tool on slice ``k``."""

    def at(r, c):
        return [float(v) for v in source.grid.index_to_world([[k, r, c]])[0]]

    mm2 = {"areaUnit": "mm\u00b2"}
    return {
        "Length": ("Length", [at(10, 10), at(14, 20)], {"length": 9.125, "unit": "mm"}, {}),
        "Probe": ("Probe", [at(20, 20)], {"value": 42}, {}),
        "Angle": ("Angle", [at(5, 5), at(10, 10), at(5, 15)], {"angle": 90.0}, {}),
        "ArrowAnnotate": (
            "ArrowAnnotate",
            [at(28, 9), at(25, 5)],
            {},
            {"text": "Look here", "label": "Look here"},
        ),
        "Bidirectional": (
            "Bidirectional",
            [at(30, 10), at(30, 20), at(27, 15), at(33, 15)],
            {"length": 8.0, "width": 4.8},
            {},
        ),
        "RectangleROI": (
            "RectangleROI",
            [at(15, 2), at(15, 6), at(19, 2), at(19, 6)],
            {"area": 10.25, **mm2},
            {},
        ),
        "EllipticalROI": (
            "EllipticalROI",
            [at(5, 25), at(11, 25), at(8, 22), at(8, 28)],
            {"area": 30.5, "mean": 40, **mm2},
            {},
        ),
        "CircleROI": ("CircleROI", [at(20, 30), at(20, 33)], {"area": 18.5, **mm2}, {}),
        "PlanarFreehandROI": (
            "PlanarFreehandROI",
            [at(30, 25), at(32, 28), at(35, 26), at(33, 23)],
            {"area": 9.5, **mm2},
            {"closed": True},
        ),
        "OpenFreehand": (
            "PlanarFreehandROI",
            [at(2, 30), at(4, 32), at(6, 31)],
            {"length": 5.5},
            {"closed": False},
        ),
        "CobbAngle": ("CobbAngle", [at(36, 2), at(36, 10), at(30, 3), at(38, 9)], {"angle": 30.5}, {}),
    }


def make_sr(source, k: int, folder: Path, out: Path) -> dict:
    """An SR of every tool of :func:`tool_state` on slice ``k``; returns that tool state."""
    tools = tool_state(source, k)
    image_id = f"wadors:{source.datasets[k].SOPInstanceUID}"
    annotations = [
        {"toolName": tool, "imageId": image_id, "points": pts, "cachedStats": stats, **extra}
        for tool, pts, stats, extra in tools.values()
    ]
    _run(
        "ohif_sr.mjs",
        {"images": [_image(d) for d in source.datasets], "annotations": annotations},
        folder,
        out,
    )
    return tools


def make_seg(
    source, labels: np.ndarray, seg_type: str, folder: Path, out: Path, names=("Liver", "Spleen", "Kidney")
):
    """A SEG of ``labels`` (values 1..len(names)) as OHIF saves it, BINARY or LABELMAP."""
    raw = folder / f"{out.name}.labels.raw"
    raw.write_bytes(np.ascontiguousarray(labels, dtype=np.uint8).tobytes())
    segments = [
        {
            "SegmentNumber": n,
            "SegmentLabel": name,
            "RecommendedDisplayCIELabValue": CIELAB[name],
            "SegmentedPropertyCategoryCodeSequence": {
                "CodeValue": "123037004",
                "CodingSchemeDesignator": "SCT",
                "CodeMeaning": "Anatomical Structure",
            },
            "SegmentedPropertyTypeCodeSequence": {
                "CodeValue": CODES[name],
                "CodingSchemeDesignator": "SCT",
                "CodeMeaning": name,
            },
        }
        for n, name in enumerate(names, start=1)
    ]
    spec = {"ct": [str(f) for f in source.files], "labels": str(raw), "type": seg_type, "segments": segments}
    _run("ohif_seg.mjs", spec, folder, out)
    return segments
