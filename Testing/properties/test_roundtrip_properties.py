"""Property-based round trips (hypothesis): any labelmap on any valid grid comes back exactly
from a BINARY and a LABELMAP SEG; any markup comes back from an SR within 1e-4 mm.

Example counts stay modest (CI time); the seed is derived from the test so runs are repeatable.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dicomai_samples as samples
from dicomai.seg.content import SegmentationContent, SegmentInfo
from dicomai.seg.decode import read_seg
from dicomai.seg.encode import write_seg
from dicomai.source import read_source_series
from dicomai.sr.build import build_report
from dicomai.sr.content import Markup
from dicomai.sr.decode import read_sr
from dicomai.sr.encode import write_sr

SETTINGS = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@st.composite
def grids(draw):
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 12)), draw(st.integers(1, 12)))
    spacing = tuple(draw(st.floats(0.25, 4.0)) for _ in range(3))
    q = np.array([draw(st.floats(-1, 1)) for _ in range(4)])
    q = q / np.linalg.norm(q) if np.linalg.norm(q) > 0.1 else np.array([1.0, 0, 0, 0])
    w, x, y, z = q
    rot = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
    orientation = [*rot[:, 0], *rot[:, 1]]
    origin = tuple(draw(st.floats(-200, 200)) for _ in range(3))
    return samples.make_grid(shape=shape, spacing=spacing, origin=origin, orientation=orientation)


@given(data=st.data(), seg_type=st.sampled_from(["BINARY", "LABELMAP"]))
@SETTINGS
def test_any_labelmap_on_any_valid_grid_round_trips_exactly(tmp_path_factory, data, seg_type):
    grid = data.draw(grids())
    labels = data.draw(hnp.arrays(np.uint8, grid.shape, elements=st.integers(0, 4)))
    if not labels.any():
        labels.flat[0] = 1
    folder = tmp_path_factory.mktemp("prop")
    samples.write_series(folder / "ct", np.zeros(grid.shape, np.int16), grid, file_names="random")
    source = read_source_series(folder / "ct")
    present = sorted(int(v) for v in np.unique(labels) if v)
    segments = [SegmentInfo(n, f"segment {n}") for n in present]
    write_seg(
        SegmentationContent.from_labelmap(labels, source.grid, segments),
        source,
        folder / "s.dcm",
        segmentation_type=seg_type,
    )
    for src in (source, None):
        back = read_seg(folder / "s.dcm", src)
        assert not back.warnings
        # segments are renumbered 1..n in the file (PS3.3 C.8.20.4): matched by label
        assert sorted(int(s.label.split()[-1]) for s in back.segments) == present
        for s in back.segments:
            n = int(s.label.split()[-1])
            mask = back.layers[s.layer] == s.label_value
            if src is None:  # the SEG's own grid: frames cropped to the slices that have them
                idx = np.round(source.grid.world_to_index(back.grid.slice_positions())[:, 0]).astype(int)
                expected = labels[idx] == n
            else:
                expected = labels == n
            np.testing.assert_array_equal(mask, expected)


@pytest.fixture(scope="module")
def ct(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prop-ct")
    grid = samples.make_grid(shape=(8, 20, 18), orientation="oblique", spacing=(2.0, 0.9, 0.8))
    samples.write_series(folder / "ct", np.zeros(grid.shape, np.int16), grid, file_names="random")
    return read_source_series(folder / "ct")


def _points(draw, ct, n):
    k, r, c = ct.grid.shape
    out = []
    while len(out) < n:
        p = ct.grid.index_to_world(
            [[draw(st.floats(0, k - 1)), draw(st.floats(0, r - 1)), draw(st.floats(0, c - 1))]]
        )[0]
        if all(np.linalg.norm(p - q) > 0.5 for q in out):
            out.append(p)
    return out


@st.composite
def markups(draw, ct):
    kind = draw(st.sampled_from(["points", "line", "curve", "roi"]))
    if kind == "points":
        return Markup("points", "P", _points(draw, ct, draw(st.integers(1, 5))))
    if kind == "line":
        return Markup("line", "L", _points(draw, ct, 2))
    if kind == "curve":
        return Markup("curve", "C", _points(draw, ct, draw(st.integers(3, 6))))
    center = _points(draw, ct, 1)[0]
    size = [draw(st.floats(0.5, 20)) for _ in range(3)]
    return Markup("roi", "R", center=center, size=size, orientation=np.eye(3))


@given(data=st.data())
@SETTINGS
def test_any_markup_round_trips_within_1e_4_mm(ct, tmp_path_factory, data):
    m = data.draw(markups(ct))
    out = tmp_path_factory.mktemp("prop-sr") / "sr.dcm"
    write_sr(build_report(ct, [m]), ct, out)
    back = [b for b in read_sr(out, source=ct).markups() if b.kind == m.kind]
    assert len(back) == 1, [b.kind for b in read_sr(out, source=ct).markups()]
    b = back[0]
    if m.kind == "roi":
        np.testing.assert_allclose(b.center, m.center, atol=1e-4)
        np.testing.assert_allclose(b.size, m.size, atol=1e-4)
    else:
        np.testing.assert_allclose(np.asarray(b.points), np.asarray(m.points), atol=1e-4)
