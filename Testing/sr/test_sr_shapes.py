"""Graphic types others write, and the geometry both directions rely on."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.sr.coding import Code

from dicomai.sr import concepts as C
from dicomai.sr.build import build_report
from dicomai.sr.content import Measurement, MeasurementGroup, Region
from dicomai.sr.decode import read_sr
from dicomai.sr.encode import write_sr
from dicomai.sr.shapes import (
    angle_degrees,
    box_corners,
    box_faces,
    box_from_faces,
    markups_from_groups,
    planarity,
    polygon_area,
    polyline_length,
)


def test_measures():
    square = np.array([[0, 0, 0], [2, 0, 0], [2, 3, 0], [0, 3, 0]], float)
    assert polygon_area(square) == 6.0
    assert polyline_length(square, closed=True) == 10.0
    assert polyline_length(square) == 7.0
    assert angle_degrees([1, 0, 0], [0, 0, 0], [0, 1, 0]) == pytest.approx(90.0)
    assert angle_degrees([1, 0, 0], [0, 0, 0], [-1, 1e-12, 0]) == pytest.approx(180.0)
    assert planarity(square) == pytest.approx(0.0, abs=1e-12)
    assert planarity(np.vstack([square, [[1, 1, 0.5]]])) > 0.1


def _rotation(a, b, c):
    ca, sa, cb, sb, cc, sc = np.cos(a), np.sin(a), np.cos(b), np.sin(b), np.cos(c), np.sin(c)
    rz = np.array([[ca, -sa, 0], [sa, ca, 0], [0, 0, 1]])
    ry = np.array([[cb, 0, sb], [0, 1, 0], [-sb, 0, cb]])
    rx = np.array([[1, 0, 0], [0, cc, -sc], [0, sc, cc]])
    return rz @ ry @ rx


def test_boxes_come_back_from_their_faces_in_any_face_order():
    axes = _rotation(0.3, -0.7, 1.1)
    center, size = np.array([10.0, -20.0, 30.0]), np.array([4.0, 9.0, 2.5])
    faces = box_faces(center, size, axes)
    c, s, a = box_from_faces(faces)
    np.testing.assert_allclose(c, center, atol=1e-9)
    np.testing.assert_allclose(s, size, atol=1e-9)
    np.testing.assert_allclose(a, axes, atol=1e-9)
    # another writer: faces in another order, each walked the other way round
    foreign = [f[::-1] for f in faces[::-1]]
    c, s, a = box_from_faces(foreign)
    np.testing.assert_allclose(c, center, atol=1e-9)
    assert np.linalg.det(a) == pytest.approx(1.0)
    np.testing.assert_allclose(
        np.sort(box_corners(c, s, a), axis=0), np.sort(box_corners(center, size, axes), axis=0), atol=1e-9
    )
    # not a box: one corner moved
    bent = [f.copy() for f in faces]
    bent[1][0] += [0.5, 0.0, 0.0]
    assert box_from_faces(bent) is None


def _group(regions, surface=False, measurements=(), tracking_id="G"):
    return MeasurementGroup(
        template="1411" if surface else "1410",
        tracking_id=tracking_id,
        regions=regions,
        surface=surface,
        measurements=list(measurements),
    )


def test_graphic_types_of_other_writers_load_as_markups():
    ellipse = Region("ELLIPSE", [[-10, 0, 5], [10, 0, 5], [0, -4, 5], [0, 4, 5]])
    ellipsoid = Region("ELLIPSOID", [[-10, 0, 0], [10, 0, 0], [0, -4, 0], [0, 4, 0], [0, 0, -2], [0, 0, 2]])
    multipoint = Region("MULTIPOINT", [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    three = Region("POLYLINE", [[0, 0, 0], [1, 0, 0], [1, 1, 0]])
    closed = Region("POLYLINE", [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 0, 0]])
    angle = _group([three], measurements=[Measurement(C.ANGLE, 90.0, C.DEGREE)], tracking_id="A")
    groups = [
        _group([ellipse], tracking_id="E"),
        _group([ellipsoid], surface=True, tracking_id="S"),
        _group([multipoint], tracking_id="M"),
        _group([three], tracking_id="C"),
        _group([closed], tracking_id="CC"),
        angle,
    ]
    markups, warnings = markups_from_groups(groups)
    assert not warnings
    got = {m.name: m for m in markups}
    e = got["E"]
    assert e.kind == "closed_curve" and len(e.points) == 32
    x, y = e.points[:, 0], e.points[:, 1]
    np.testing.assert_allclose((x / 10) ** 2 + (y / 4) ** 2, 1.0, atol=1e-12)
    s = got["S"]
    assert s.kind == "roi"
    np.testing.assert_allclose(s.center, 0, atol=1e-12)
    np.testing.assert_allclose(s.size, [20, 8, 4])
    m = got["M"]
    assert m.kind == "points" and m.labels == ["M-1", "M-2", "M-3"]
    assert got["C"].kind == "curve" and got["CC"].kind == "closed_curve" and len(got["CC"].points) == 3
    assert got["A"].kind == "angle"


def test_volume_surface_that_is_not_a_box_loads_as_closed_curves():
    tri = [np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 0]], float) + [0, 0, z] for z in range(3)]
    markups, warnings = markups_from_groups([_group([Region("POLYGON", t) for t in tri], surface=True)])
    assert [m.kind for m in markups] == ["closed_curve"] * 3 and "not a box" in warnings[0]


def test_an_ellipsoid_surface_we_write_reads_back_as_its_bounding_box(axial_case, tmp_path):
    from dicomai.sr.content import Markup

    report = build_report(axial_case.source, [Markup("points", "P", [axial_case.at(5, 20, 18)])])
    c = axial_case.at(5, 20, 18)
    report.groups.append(
        MeasurementGroup(
            template="1411",
            tracking_id="Tumour",
            tracking_uid="1.2.3.4.5",
            finding=Code("108369006", "SCT", "Neoplasm"),
            regions=[
                Region(
                    "ELLIPSOID",
                    [
                        c - [6, 0, 0],
                        c + [6, 0, 0],
                        c - [0, 3, 0],
                        c + [0, 3, 0],
                        c - [0, 0, 2],
                        c + [0, 0, 2],
                    ],
                )
            ],
            surface=True,
            measurements=[
                Measurement(
                    C.code("121221", "DCM", "Volume of ellipsoid"), 4 / 3 * np.pi * 36, C.CUBIC_MILLIMETER
                )
            ],
        )
    )
    write_sr(report, axial_case.source, tmp_path / "sr.dcm")
    back = read_sr(tmp_path / "sr.dcm")
    roi = next(m for m in back.markups() if m.name == "Tumour")
    assert roi.kind == "roi"
    np.testing.assert_allclose(roi.center, c, atol=1e-4)
    np.testing.assert_allclose(roi.size, [12, 6, 4], atol=1e-4)
