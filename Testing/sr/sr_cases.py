"""Synthetic cases for the SR tests: CT series, a SEG of its organs, markups of every kind."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.sr.coding import Code

import dicomai_samples as samples
from dicomai.geometry import Grid
from dicomai.seg.content import SegmentationContent
from dicomai.seg.encode import write_seg
from dicomai.seg.metadata import load_metadata, segments_for_labels
from dicomai.source import SourceSeries, read_source_series
from dicomai.sr.content import Annotation, Evaluation, Markup, Measurement, lps_to_ras
from series_kinds import KINDS as _ALL_KINDS  # noqa: E402
from series_kinds import SHAPE  # noqa: E402

# make_grid kwargs of the kinds the SR suites run on
KINDS = {k: _ALL_KINDS[k][0] for k in ("axial", "oblique")}

NEOPLASM = Code("108369006", "SCT", "Neoplasm")
LIVER = Code("10200004", "SCT", "Liver")
KIDNEY = Code("64033007", "SCT", "Kidney")
MALIGNANCY = Code("395557000", "SCT", "Tumor finding")
MALIGNANT = Code("21594007", "SCT", "Malignant")
MORPH = Code("49755003", "SCT", "Morphologically Abnormal Structure")


@dataclass
class Case:
    kind: str
    folder: Path
    source: SourceSeries
    labels: np.ndarray

    @property
    def grid(self) -> Grid:
        return self.source.grid

    def at(self, k, r, c) -> np.ndarray:
        """LPS position of continuous index (k, r, c)."""
        return self.grid.index_to_world([[k, r, c]])[0]


def write_ct(folder: Path, kind: str, shape=SHAPE) -> Case:
    grid = samples.make_grid(shape=shape, **KINDS[kind])
    ct, labels, _ = samples.phantom(shape)
    samples.write_series(folder / "ct", ct, grid, file_names="random")
    return Case(kind, folder, read_source_series(folder / "ct"), labels)


def write_organ_seg(case: Case, out: Path, keep=(1, 2, 3, 4)) -> Path:
    lab = np.where(np.isin(case.labels, keep), case.labels, 0).astype(np.uint8)
    meta = load_metadata(
        samples.dcmqi_metadata([s for s in samples.phantom_segments() if s["labelID"] in keep])
    )
    segs = segments_for_labels(np.unique(lab[lab > 0]), meta, [])
    content = SegmentationContent.from_labelmap(lab, case.grid, segs)
    write_seg(content, case.source, out, overwrite=True, algorithm_name="Phantom", algorithm_version="1.0")
    return out


def all_markups(case: Case) -> list:
    """One markup of every kind, inside the volume, off the slice centres (true 3D)."""
    at = case.at
    pts = Markup(
        "points",
        "Lesions",
        [at(3.3, 10.2, 11.7), at(5.5, 20.25, 8.1), at(8.1, 30.0, 25.5)],
        labels=["L-1", "liver lesion", "kidney/upper"],
        descriptions=["first", "", ""],
        annotation=Annotation(finding=NEOPLASM, finding_category=MORPH),
        point_annotations={
            1: Annotation(
                finding_sites=[LIVER],
                evaluations=[Evaluation(MALIGNANCY, MALIGNANT)],
                measurements=[
                    Measurement(
                        Code("111012", "DCM", "Certainty of Finding"), 0.875, Code("1", "UCUM", "no units")
                    )
                ],
            )
        },
    )
    line = Markup(
        "line", "Diameter", [at(4.2, 12.0, 10.0), at(4.9, 18.5, 17.25)], labels=["Diameter-1", "Diameter-2"]
    )
    curve = Markup(
        "curve", "Vessel", [at(2.0, 5.0, 5.0), at(3.5, 9.0, 10.5), at(5.25, 12.0, 18.0), at(7.0, 20.0, 21.0)]
    )
    k = 6.0
    ring = [
        at(k, 20 + 6 * np.sin(t), 18 + 7 * np.cos(t)) for t in np.linspace(0, 2 * np.pi, 7, endpoint=False)
    ]
    closed = Markup(
        "closed_curve", "Outline", ring, annotation=Annotation(finding=NEOPLASM, finding_sites=[KIDNEY])
    )
    angle = Markup("angle", "Angle", [at(2.5, 8.0, 30.0), at(3.0, 16.0, 24.0), at(4.0, 8.0, 20.5)])
    axes = case.grid.affine[:3, :3] / np.linalg.norm(case.grid.affine[:3, :3], axis=0)
    # ROI axes: the grid's column, row and slice directions, turned 25 degrees about the slice axis
    c, s = np.cos(np.radians(25)), np.sin(np.radians(25))
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    roi_axes = np.column_stack([axes[:, 2], axes[:, 1], axes[:, 0]]) @ rot
    if np.linalg.det(roi_axes) < 0:
        roi_axes[:, 2] = -roi_axes[:, 2]
    roi = Markup("roi", "Box", center=at(6.2, 21.0, 17.5), size=[12.5, 7.25, 6.0], orientation=roi_axes)
    return [pts, line, curve, closed, angle, roi]


def slice_markups(case: Case, k: int = 5) -> list:
    """Point, line, angle and closed curve lying exactly on slice ``k`` (for the 2D variant)."""
    at = case.at
    return [
        Markup("points", "Seeds", [at(k, 10.25, 11.5), at(k, 30.0, 7.75)], labels=["s1", "s2"]),
        Markup("line", "Axis", [at(k, 12.0, 10.0), at(k, 18.5, 17.25)]),
        Markup("angle", "Corner", [at(k, 8.0, 30.0), at(k, 16.0, 24.0), at(k, 8.0, 20.5)]),
        Markup(
            "closed_curve",
            "Ring",
            [at(k, 20.0, 12.0), at(k, 26.0, 18.0), at(k, 20.0, 24.0), at(k, 14.0, 18.0)],
        ),
    ]


def ras(points) -> np.ndarray:
    return lps_to_ras(points)


def by_name(markups) -> dict:
    return {m.name: m for m in markups}
