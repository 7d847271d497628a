"""Slicer markups files (``.mrk.json``) <-> :class:`~dicomai.sr.content.Markup`.

Slicer writes control point positions in the file's ``coordinateSystem`` ("LPS" since Slicer 4.11,
the schema default; older files say "RAS") and ``coordinateUnits`` ("mm" or "um"). ROIs and
planes also store ``center``, ``size`` and a 3x3 ``orientation`` (row-major; its columns are the
object's axes in the file's coordinate system). The node name is not part of the file: Slicer
names the node after the file, so the reader does too (unless the file has a ``name``).

Files written here use LPS millimetres, schema v1.0.3 (read by Slicer 5.x).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import List, Optional, Union

import numpy as np

from ..errors import InputError
from ..fileio import atomic_output
from .content import LPS_RAS, Markup

__all__ = ["MARKUPS_TYPES", "markup_file_name", "read_markups", "write_markups"]

PathLike = Union[str, "os.PathLike[str]"]

SCHEMA = (
    "https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/Markups/Resources/"
    "Schema/markups-schema-v1.0.3.json#"
)

#: .mrk.json "type" -> our markup kind
MARKUPS_TYPES = {
    "Fiducial": "points",
    "Line": "line",
    "Curve": "curve",
    "ClosedCurve": "closed_curve",
    "Angle": "angle",
    "Plane": "plane",
    "ROI": "roi",
}
_TYPE_OF_KIND = {v: k for k, v in MARKUPS_TYPES.items()}

# Slicer's measurement names per type and the unit Slicer writes them in
_MEASUREMENTS = {
    "line": (("length", "mm"),),
    "curve": (("length", "mm"),),
    "closed_curve": (("length", "mm"), ("area", "mm2")),
    "angle": (("angle", "deg"),),
    "plane": (("area", "mm2"),),
    "roi": (("volume", "mm3"),),
}


def _stem(path: Path) -> str:
    name = path.name
    for ext in (".mrk.json", ".json"):
        if name.lower().endswith(ext):
            return name[: -len(ext)]
    return path.stem


def read_markups(path: PathLike, warnings: Optional[list] = None) -> List[Markup]:
    """Every markup in a ``.mrk.json`` file, in LPS millimetres.

    Control points without a position (``positionStatus`` other than "defined") are left out
    and reported in ``warnings`` when a list is given.

    Raises
    ------
    InputError
        The file is not JSON, has no ``markups`` list, or a markup is malformed.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read markups file {str(path)!r}: {e}") from e
    except ValueError as e:
        raise InputError(f"markups file {str(path)!r} is not JSON: {e}") from e
    items = data.get("markups") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise InputError(
            f"{str(path)!r} holds no markups (expected a Slicer .mrk.json with a 'markups' list)"
        )
    stem = _stem(path)
    out = []
    for i, item in enumerate(items):
        default = stem if len(items) == 1 else f"{stem}_{i + 1}"
        markup, skipped = _markup_from_json(item, default, f"{path.name}, markup {i + 1}")
        if skipped and warnings is not None:
            warnings.append(
                f"{path.name}: {markup.name!r} has {skipped} control point(s) without a position; left out"
            )
        out.append(markup)
    return out


def _vector(value, n: int, what: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float).ravel()
    except (TypeError, ValueError):
        raise InputError(f"{what} must be {n} numbers, got {value!r}") from None
    if arr.size != n or not np.all(np.isfinite(arr)):
        raise InputError(f"{what} must be {n} finite numbers, got {value!r}")
    return arr


def _markup_from_json(item: dict, default_name: str, where: str):
    if not isinstance(item, dict):
        raise InputError(f"{where}: a markup must be a JSON object")
    mtype = item.get("type")
    kind = MARKUPS_TYPES.get(mtype)
    if kind is None:
        raise InputError(
            f"{where}: markup type {mtype!r} is not one of {', '.join(MARKUPS_TYPES)} "
            "(Slicer's point list is 'Fiducial')"
        )
    system = str(item.get("coordinateSystem") or "LPS").upper()
    if system not in ("LPS", "RAS"):
        raise InputError(f"{where}: coordinateSystem {system!r} is neither LPS nor RAS")
    units = item.get("coordinateUnits", "mm")
    if isinstance(units, list):
        units = units[0] if units else "mm"
    scale = {"mm": 1.0, "um": 1e-3}.get(str(units or "mm"))
    if scale is None:
        raise InputError(f"{where}: coordinateUnits {units!r} is not supported (mm or um)")
    flip = LPS_RAS if system == "RAS" else np.ones(3)
    name = str(item.get("name") or default_name)

    points, labels, descriptions = [], [], []
    skipped = 0
    for j, cp in enumerate(item.get("controlPoints") or []):
        if not isinstance(cp, dict):
            raise InputError(f"{where}: control point {j + 1} is not a JSON object")
        status = str(cp.get("positionStatus", "defined"))
        if status != "defined" or cp.get("position") is None:
            skipped += 1
            continue
        p = _vector(cp.get("position"), 3, f"{where}: control point {j + 1} position")
        points.append(p * scale * flip)
        labels.append(str(cp.get("label", "")))
        descriptions.append(str(cp.get("description", "")))
    measurements = {}
    for m in item.get("measurements") or []:
        if isinstance(m, dict) and m.get("name") and m.get("value") is not None:
            try:
                measurements[str(m["name"])] = (float(m["value"]), str(m.get("units") or ""))
            except (TypeError, ValueError):
                continue
    kwargs = {}
    if kind in ("roi", "plane"):
        kwargs = _box_fields(item, kind, points, scale, flip, where)
    markup = Markup(
        kind=kind,
        name=name,
        points=np.asarray(points).reshape(-1, 3) if kind not in ("roi", "plane") else None,
        labels=labels if kind not in ("roi", "plane") else None,
        descriptions=descriptions if kind not in ("roi", "plane") else None,
        measurements=measurements,
        description=str(item.get("description") or ""),
        **kwargs,
    )
    if kind in ("roi", "plane") and points:
        markup.labels = labels[:1]
        markup.descriptions = descriptions[:1]
    return markup, skipped


def _box_fields(item, kind, points, scale, flip, where) -> dict:
    orientation = item.get("orientation")
    axes = np.eye(3)
    if orientation is not None:
        axes = _vector(orientation, 9, f"{where}: orientation").reshape(3, 3)
        axes = flip[:, None] * axes  # columns are axes: flip their L/P components
    if kind == "roi":
        if item.get("center") is not None:
            center = _vector(item["center"], 3, f"{where}: center") * scale * flip
        elif points:
            center = points[0]
        else:
            raise InputError(f"{where}: ROI has neither a center nor a control point")
        size = _vector(item.get("size", [0, 0, 0]), 3, f"{where}: size") * scale
        if str(item.get("roiType", "Box")) == "BoundingBox" and len(points) > 1:
            pts = np.asarray(points)
            local = (pts - pts.mean(axis=0)) @ axes
            lo, hi = local.min(axis=0), local.max(axis=0)
            center = pts.mean(axis=0) + axes @ ((lo + hi) / 2)
            size = hi - lo
        return {"center": center, "size": size, "orientation": axes}
    # plane
    if item.get("normal") is not None and orientation is None:
        normal = _vector(item["normal"], 3, f"{where}: normal") * flip
        axes = _axes_from_normal(normal)
    if item.get("center") is not None:
        center = _vector(item["center"], 3, f"{where}: center") * scale * flip
    elif points:
        center = points[0]
    else:
        raise InputError(f"{where}: plane has neither a center nor a control point")
    size = _vector(item.get("size", [0, 0, 0]), 3, f"{where}: size")[:2] * scale
    bounds = item.get("planeBounds")
    if bounds is not None:
        b = _vector(bounds, 4, f"{where}: planeBounds") * scale
        center = center + axes[:, 0] * (b[0] + b[1]) / 2 + axes[:, 1] * (b[2] + b[3]) / 2
        size = np.array([b[1] - b[0], b[3] - b[2]])
    return {"center": center, "size": size, "orientation": axes}


def _axes_from_normal(normal) -> np.ndarray:
    n = np.asarray(normal, float)
    n = n / np.linalg.norm(n)
    helper = np.array([1.0, 0.0, 0.0]) if abs(n[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    x = np.cross(helper, n)
    x /= np.linalg.norm(x)
    y = np.cross(n, x)
    return np.column_stack([x, y, n])


# ---------------------------------------------------------------------------------- writing
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def markup_file_name(markup: Markup) -> str:
    """A file name for a markup: its name with unsafe characters replaced, + ``.mrk.json``."""
    from ..fileio import safe_file_name

    base = _UNSAFE.sub("_", markup.name).strip(" .") or markup.kind
    return f"{safe_file_name(base, markup.kind)}.mrk.json"


def _floats(values) -> list:
    return [float(v) + 0.0 for v in np.asarray(values, dtype=float).ravel()]


def markup_to_json(markup: Markup) -> dict:
    """The ``.mrk.json`` document of one markup (LPS millimetres)."""
    kind = markup.kind
    item: dict = {
        "type": _TYPE_OF_KIND[kind],
        "name": markup.name,
        "coordinateSystem": "LPS",
        "coordinateUnits": "mm",
        "locked": False,
        "fixedNumberOfControlPoints": False,
        "labelFormat": "%N-%d",
        "lastUsedControlPointNumber": int(len(markup.points)),
    }
    if markup.description:
        item["description"] = markup.description
    if kind == "roi":
        item.update(
            {
                "roiType": "Box",
                "center": _floats(markup.center),
                "orientation": _floats(markup.orientation),
                "size": _floats(markup.size),
                "insideOut": False,
            }
        )
    elif kind == "plane":
        axes = markup.orientation
        w, h = (float(v) for v in markup.size.ravel()[:2])
        item.update(
            {
                "planeType": "pointNormal",
                "sizeMode": "absolute",
                "autoScalingFactor": 1.0,
                "center": _floats(markup.center),
                "normal": _floats(axes[:, 2]),
                "orientation": _floats(axes),
                "size": [w, h, 0.0],
                "planeBounds": [-w / 2, w / 2, -h / 2, h / 2],
                # Slicer reads a plane's pose from these (LPS rows, as it writes them)
                "objectToBase": _floats(np.diag([-1.0, -1.0, 1.0, 1.0])),
                "baseToNode": _floats(np.vstack([np.column_stack([axes, markup.center]), [0, 0, 0, 1]])),
            }
        )
    points = markup.points if kind not in ("roi", "plane") else markup.center.reshape(1, 3)
    cps = []
    for i, p in enumerate(points):
        label = markup.labels[i] if i < len(markup.labels) and markup.labels[i] else f"{markup.name}-{i + 1}"
        cps.append(
            {
                "id": str(i + 1),
                "label": label,
                "description": markup.descriptions[i] if i < len(markup.descriptions) else "",
                "associatedNodeID": "",
                "position": _floats(p),
                "orientation": [-1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 1.0],
                "selected": True,
                "locked": False,
                "visibility": True,
                "positionStatus": "defined",
            }
        )
    item["controlPoints"] = cps
    measurements = []
    for name, unit in _MEASUREMENTS.get(kind, ()):
        entry = {"name": name, "enabled": True}
        if name in markup.measurements:
            value, value_unit = markup.measurements[name]
            entry.update({"value": float(value), "units": value_unit or unit})
        measurements.append(entry)
    item["measurements"] = measurements
    return {"@schema": SCHEMA, "markups": [item]}


def write_markups(markup: Markup, path: PathLike, overwrite: bool = False) -> Path:
    """Write one markup as a Slicer ``.mrk.json`` file (LPS, mm)."""
    path = Path(path)
    text = json.dumps(markup_to_json(markup), indent=4)
    with atomic_output(path, overwrite) as tmp:
        Path(tmp).write_text(text + "\n", encoding="utf-8")
    return path
