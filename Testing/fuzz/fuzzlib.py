"""A mutation fuzzer for the SEG and SR readers.

Seeds are SEG (BINARY, LABELMAP, FRACTIONAL) and SR files written here by the project, plus the
real files in ``../shared/data/realdata`` when present. Each case is one mutation of one seed:
blind (byte flips, truncation, zeroed / duplicated / deleted blocks) or structure-aware (pydicom
edits of the attributes the readers depend on: see :data:`STRUCTURAL`). Every case runs in a
forked child of a worker process (:mod:`worker`) with a time bound and an address-space limit;
the child runs the readers' entry points and reports, per entry point, one of

- ``accepted``: a result identical to the unmutated file's, or a different one with a new warning,
- ``error``: a :class:`dicomai.errors.DicomAIError`,
- ``crash``: any other exception (or a signal),
- ``hang``: the time bound ran out,
- ``memory``: MemoryError (the address-space limit was hit),
- ``silent``: a result that differs from the unmutated file's without any new warning.

A case takes the worst outcome of its entry points. A sample of cases also runs the ``dicomai``
command line (in the forked child, through :func:`dicomai.cli.main` with its stdout/stderr file
descriptors redirected): exit status 0 or 1, no traceback, exactly one stderr line on failure
and only ``dicomai``-prefixed lines on success.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

HERE = Path(__file__).resolve().parent
TESTING = HERE.parent

# ------------------------------------------------------------------------------------------ seeds


@dataclass
class Seed:
    name: str
    kind: str  # "seg" or "sr"
    path: Path
    source: Optional[Path] = None  # folder or file of the referenced series
    segs: List[Path] = field(default_factory=list)  # SEGs an SR references


def make_seeds(folder: Path, with_realdata: bool = True) -> List[Seed]:
    """Write our own seeds into ``folder`` (a small CT, BINARY / LABELMAP / FRACTIONAL SEGs, an
    SR with markups of every kind and a per-segment table) and add the real files when present."""
    import numpy as np

    import dicomai_samples as samples
    from dicomai.seg.content import SegmentationContent
    from dicomai.seg.encode import write_seg
    from dicomai.seg.metadata import load_metadata, segments_for_labels
    from dicomai.seg.options import SegOptions
    from dicomai.source import read_source_series
    from dicomai.sr.build import SegAttachment, build_report
    from dicomai.sr.content import Markup
    from dicomai.sr.encode import write_sr
    from dicomai.sr.options import ReportOptions

    folder = Path(folder)
    shape = (6, 24, 20)
    grid = samples.make_grid(shape=shape, orientation="oblique", spacing=(2.0, 0.9, 0.8))
    ct, labels, _ = samples.phantom(shape)
    samples.write_series(folder / "ct", ct, grid, file_names="random")
    source = read_source_series(folder / "ct")
    keep = sorted(int(v) for v in np.unique(labels) if v)
    meta = load_metadata(
        samples.dcmqi_metadata([s for s in samples.phantom_segments() if s["labelID"] in keep])
    )
    segments = segments_for_labels(keep, meta, [])
    content = SegmentationContent.from_labelmap(labels.astype(np.uint8), source.grid, segments)
    seeds = []
    for seg_type in ("BINARY", "LABELMAP"):
        out = folder / f"ours-{seg_type.lower()}.seg.dcm"
        write_seg(
            content,
            source,
            out,
            SegOptions(segmentation_type=seg_type, algorithm_name="Fuzz", algorithm_version="1"),
        )
        seeds.append(Seed(out.name, "seg", out, folder / "ct"))
    frac = SegmentationContent(grid=source.grid, segments=segments[:2], segmentation_type="FRACTIONAL")
    ramp = np.linspace(0, 1, shape[2], dtype=np.float32)[None, None, :]
    for i, s in enumerate(segments[:2]):
        frac.fractions[s.number] = np.where(labels == s.label_value, ramp, 0).astype(np.float32) * (
            1 - 0.3 * i
        )
    out = folder / "ours-fractional.seg.dcm"
    write_seg(
        frac,
        source,
        out,
        SegOptions(segmentation_type="FRACTIONAL", algorithm_name="Fuzz", algorithm_version="1"),
    )
    seeds.append(Seed(out.name, "seg", out, folder / "ct"))

    g = source.grid

    def at(k, r, c):
        return g.index_to_world([[k, r, c]])[0]

    ring = [
        at(3.0, 12 + 5 * np.sin(t), 10 + 4 * np.cos(t)) for t in np.linspace(0, 2 * np.pi, 6, endpoint=False)
    ]
    markups = [
        Markup("points", "Seeds", [at(1.2, 5.5, 6.0), at(2.0, 10.0, 4.5)], labels=["a", "b"]),
        Markup("line", "Diameter", [at(2.2, 6.0, 5.0), at(2.9, 14.5, 13.25)]),
        Markup("curve", "Vessel", [at(1.0, 3.0, 3.0), at(2.5, 7.0, 8.5), at(4.0, 12.0, 15.0)]),
        Markup("closed_curve", "Outline", ring),
        Markup("angle", "Angle", [at(1.5, 4.0, 15.0), at(2.0, 9.0, 12.0), at(3.0, 4.0, 10.5)]),
        Markup("roi", "Box", center=at(3.0, 11.0, 9.5), size=[6.5, 4.0, 3.0], orientation=np.eye(3)),
    ]
    from dicomai.seg.decode import read_seg_header, segments_from_dataset

    seg_path = folder / "ours-binary.seg.dcm"
    hdr = read_seg_header(seg_path)
    attach = SegAttachment(hdr, segments_from_dataset(hdr), seg_path)
    report = build_report(source, markups, seg=attach)
    for coords in ("3d", "2d"):
        out = folder / f"ours-{coords}.sr.dcm"
        two_d = [m for m in markups if m.kind != "roi"] if coords == "2d" else markups
        rep = build_report(source, two_d, seg=attach) if coords == "2d" else report
        try:
            write_sr(rep, source, out, ReportOptions(coordinates=coords), segs=[hdr])
        except Exception:  # 2D needs markups on slices: 3D only then
            if coords == "3d":
                raise
            continue
        seeds.append(Seed(out.name, "sr", out, folder / "ct", [seg_path]))
    if with_realdata:
        seeds.extend(realdata_seeds())
    return seeds


def realdata_seeds() -> List[Seed]:
    sys.path.insert(0, str(TESTING))
    from shared_data import REALDATA, REALDATA_SEGS

    if not REALDATA.is_dir():
        return []
    out = []
    for seg, src, _ in REALDATA_SEGS:
        p = REALDATA / seg
        if p.is_file():
            s = REALDATA / src if src else None
            out.append(Seed("real:" + seg, "seg", p, s if s is not None and s.exists() else None))
    for sr, _src, segs in (
        ("highdicom/sr_document.dcm", None, []),
        ("highdicom/sr_document_with_multiple_groups.dcm", None, []),
        ("pydicom/test-SR.dcm", None, []),
        ("dcmqi/sr-example/sr.dcm", None, ["dcmqi/sr-example/seg.dcm"]),
    ):
        p = REALDATA / sr
        if p.is_file():
            out.append(Seed("real:" + sr, "sr", p, None, [REALDATA / s for s in segs]))
    return out


# -------------------------------------------------------------------------------------- mutators


def _pixel_offset(data: bytes) -> int:
    i = data.rfind(b"\xe0\x7f\x10\x00")
    return i if i > 0 else len(data)


def _pos(rng: random.Random, data: bytes) -> int:
    """A position, mostly in the header (where the structure is), sometimes in the pixel data."""
    end = _pixel_offset(data)
    if rng.random() < 0.8 and end > 132:
        return rng.randrange(132, end)
    return rng.randrange(0, max(1, len(data)))


def m_bitflip(rng, data):
    b = bytearray(data)
    for _ in range(rng.choice([1, 1, 2, 4, 8])):
        p = _pos(rng, b)
        if p < len(b):
            b[p] ^= 1 << rng.randrange(8)
    return bytes(b)


def m_byte(rng, data):
    b = bytearray(data)
    for _ in range(rng.choice([1, 2, 3])):
        p = _pos(rng, b)
        if p < len(b):
            b[p] = rng.choice([0x00, 0xFF, 0x7F, 0x80, rng.randrange(256)])
    return bytes(b)


def m_length(rng, data):
    """A 16- or 32-bit field near a tag set to a huge or odd value (corrupted length)."""
    b = bytearray(data)
    p = _pos(rng, b)
    p -= p % 2
    width = rng.choice([2, 4])
    value = rng.choice([0xFFFF, 0xFFFFFFFF, 0x7FFFFFFF, 0x10000000, 0, 1, 3])
    b[p : p + width] = value.to_bytes(4, "little")[:width]
    return bytes(b[: len(data)])


def m_truncate(rng, data):
    return data[: rng.randrange(0, len(data))]


def m_zero_block(rng, data):
    p = _pos(rng, data)
    n = rng.choice([4, 16, 64, 512, 4096])
    return data[:p] + b"\x00" * min(n, len(data) - p) + data[p + n :]


def m_dup_block(rng, data):
    p = _pos(rng, data)
    n = rng.choice([8, 64, 512, 2048])
    q = _pos(rng, data)
    return data[:q] + data[p : p + n] + data[q:]


def m_del_block(rng, data):
    p = _pos(rng, data)
    n = rng.choice([1, 2, 8, 64, 512])
    return data[:p] + data[p + n :]


BLIND: Dict[str, Callable] = {
    "bitflip": m_bitflip,
    "byte": m_byte,
    "length": m_length,
    "truncate": m_truncate,
    "zero-block": m_zero_block,
    "dup-block": m_dup_block,
    "del-block": m_del_block,
}

# --- structure-aware (pydicom) -----------------------------------------------------------------
# name -> (function(rng, ds, kind) -> description or None when not applicable, must_detect)
# must_detect: the readers must give an error or a warning when the result changes (a silently
# different result fails the run); other mutations may change the result legitimately
# (e.g. a flipped pixel) and are only counted.

_GARBAGE = ["nan", "inf", "-inf", "abc", "1e400", "", "1\\2", "0\\0\\0\\0\\0\\0", "1e308\\1e308\\1e308"]


def _raw(tag, vr: str, value: bytes):
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    if len(value) % 2:
        value += b" "
    return RawDataElement(Tag(tag), vr, len(value), value, 0, False, True)


def _items(ds, path=()):
    """(dataset, keyword, path) of every element in the tree."""
    for elem in list(ds):
        yield ds, elem.keyword or elem.tag, path
        if elem.VR == "SQ":
            for i, item in enumerate(elem.value):
                yield from _items(item, path + (elem.keyword, i))


def _all_with(ds, keyword):
    return [(d, p) for d, kw, p in _items(ds) if kw == keyword]


def s_delete_required(rng, ds, kind):
    wanted = {
        "seg": [
            "Rows",
            "Columns",
            "BitsAllocated",
            "SOPInstanceUID",
            "SOPClassUID",
            "SegmentSequence",
            "SegmentNumber",
            "ReferencedSegmentNumber",
            "PerFrameFunctionalGroupsSequence",
            "SharedFunctionalGroupsSequence",
            "PlaneOrientationSequence",
            "ImageOrientationPatient",
            "PixelSpacing",
            "ImagePositionPatient",
            "NumberOfFrames",
            "PixelData",
            "FrameOfReferenceUID",
            "SegmentationType",
            "AlgorithmFamilyCodeSequence",
            "SegmentIdentificationSequence",
            "ReferencedSOPInstanceUID",
            "PixelMeasuresSequence",
            "SegmentLabel",
            "CodeValue",
            "SegmentedPropertyCategoryCodeSequence",
            "MaximumFractionalValue",
            "SamplesPerPixel",
        ],
        "sr": [
            "ContentSequence",
            "ValueType",
            "ConceptNameCodeSequence",
            "GraphicData",
            "GraphicType",
            "MeasuredValueSequence",
            "NumericValue",
            "CodeValue",
            "CodingSchemeDesignator",
            "ReferencedSOPSequence",
            "ReferencedSOPInstanceUID",
            "SOPInstanceUID",
            "SOPClassUID",
            "ReferencedFrameOfReferenceUID",
            "MeasurementUnitsCodeSequence",
            "RelationshipType",
            "ConceptCodeSequence",
            "ContentTemplateSequence",
            "ReferencedSegmentNumber",
        ],
    }[kind]
    kw = rng.choice(wanted)
    found = _all_with(ds, kw)
    if not found:
        return None
    owner, _ = rng.choice(found)
    vt = str(owner.get("ValueType", ""))
    del owner[kw]
    # optional where they are (PS3.3 C.17.3): the content of a NUM, CODE, SCOORD..., the concept
    # name of an IMAGE / SCOORD / SCOORD3D / by-reference item
    optional = (kw == "ContentSequence" and vt not in ("", "CONTAINER")) or (
        kw == "ConceptNameCodeSequence" and vt in ("IMAGE", "SCOORD", "SCOORD3D", "COMPOSITE", "")
    )
    return f"delete {kw}" + (f" of a {vt}" if vt else ""), not optional


_GEOMETRY = {
    "ImagePositionPatient": 3,
    "ImageOrientationPatient": 6,
    "PixelSpacing": 2,
    "SpacingBetweenSlices": 1,
    "SliceThickness": 1,
}


def s_geometry_garbage(rng, ds, kind):
    kw = rng.choice(list(_GEOMETRY))
    found = _all_with(ds, kw)
    if not found:
        return None
    owners = [rng.choice(found)[0]] if rng.random() < 0.5 else [d for d, _ in found]
    n = _GEOMETRY[kw]
    choice = rng.choice(
        _GARBAGE + ["count-short", "count-long", "zero", "parallel", "huge", "negative-spacing"]
    )
    if choice == "count-short":
        text = "\\".join(["1"] * max(n - 1, 0))
    elif choice == "count-long":
        text = "\\".join(["1"] * (n + 1))
    elif choice == "zero":
        text = "\\".join(["0"] * n)
    elif choice == "parallel":
        text = "1\\0\\0\\1\\0\\0" if n == 6 else "\\".join(["1"] * n)
    elif choice == "huge":
        text = "\\".join(["1e300"] * n)
    elif choice == "negative-spacing":
        text = "\\".join(["-0.5"] * n)
    else:
        text = "\\".join([choice] * n) if choice and "\\" not in choice else choice
    tag = owners[0][kw].tag
    for o in owners:
        o[tag] = _raw(tag, "DS", text.encode())
    # a well-formed value (a moved position, another spacing) cannot be told from the truth
    return f"{kw}={text[:40]}", not _plausible(kw, text)


def _plausible(kw: str, text: str) -> bool:
    import math

    try:
        v = [float(x) for x in text.split("\\")]
    except ValueError:
        return False
    if len(v) != _GEOMETRY[kw] or not all(math.isfinite(x) and abs(x) < 1e6 for x in v):
        return False
    if kw == "ImageOrientationPatient":
        a, b = v[:3], v[3:]
        dot = sum(x * y for x, y in zip(a, b))
        na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(x * x for x in b))
        return abs(na - 1) < 0.01 and abs(nb - 1) < 0.01 and abs(dot) < 0.01
    if kw in ("PixelSpacing", "SpacingBetweenSlices", "SliceThickness"):
        return min(v) > 0
    return True


def _set_us(ds, kw, value):
    from pydicom.datadict import tag_for_keyword

    tag = tag_for_keyword(kw)
    ds[tag] = _raw(tag, "US", int(value % 65536).to_bytes(2, "little"))


def s_rows_columns(rng, ds, kind):
    if "Rows" not in ds:
        return None
    kw = rng.choice(["Rows", "Columns"])
    cur = int(ds.get(kw, 1))
    v = rng.choice([0, 65535, cur - 1, cur + 1, 1, 2 * cur])
    _set_us(ds, kw, v)
    return f"{kw}={v}"


def s_number_of_frames(rng, ds, kind):
    if "NumberOfFrames" not in ds:
        return None
    n = int(ds.NumberOfFrames)
    v = rng.choice(["0", "", "1", str(n - 1), str(n + 1), "2147483647", "-3", "abc", "delete"])
    if v == "delete":
        del ds.NumberOfFrames
    else:
        ds[0x00280008] = _raw(0x00280008, "IS", v.encode())
    return f"NumberOfFrames={v!r} (was {n})"


def s_bits_allocated(rng, ds, kind):
    if "BitsAllocated" not in ds:
        return None
    v = rng.choice([1, 8, 16, 12, 0, 32])
    if v == int(ds.BitsAllocated):
        return None
    _set_us(ds, "BitsAllocated", v)
    if rng.random() < 0.5:
        _set_us(ds, "BitsStored", v)
    return f"BitsAllocated={v}"


def s_segmentation_type(rng, ds, kind):
    if "SegmentationType" not in ds:
        return None
    v = rng.choice(["BINARY", "FRACTIONAL", "LABELMAP", "GARBAGE"])
    if v == ds.SegmentationType:
        return None
    ds.SegmentationType = v
    if v == "FRACTIONAL" and "SegmentationFractionalType" not in ds:
        ds.SegmentationFractionalType = "PROBABILITY"
    return f"SegmentationType={v}"


def s_transfer_syntax(rng, ds, kind):
    v = rng.choice(
        ["1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2", "1.2.840.10008.1.2.5", "1.2.3"]
    )
    if str(ds.file_meta.get("TransferSyntaxUID", "")) == v:
        return None
    return ("claim-ts", v)  # applied to the written bytes


def s_segments(rng, ds, kind):
    seq = ds.get("SegmentSequence")
    if not seq:
        return None
    import copy

    what = rng.choice(["duplicate", "renumber", "empty", "ref-zero", "ref-big", "max-frac"])
    if what == "duplicate":
        seq.append(copy.deepcopy(seq[rng.randrange(len(seq))]))
    elif what == "renumber":
        item = rng.choice(list(seq))
        item.SegmentNumber = rng.choice([0, 99, 65535])
    elif what == "empty":
        ds.SegmentSequence = []
    elif what in ("ref-zero", "ref-big"):
        refs = _all_with(ds, "ReferencedSegmentNumber")
        if not refs:
            return None
        owner, _ = rng.choice(refs)
        owner.ReferencedSegmentNumber = 0 if what == "ref-zero" else 999
    else:
        if "MaximumFractionalValue" not in ds:
            return None
        _set_us(ds, "MaximumFractionalValue", rng.choice([0, 1, 65535]))
    return f"segments:{what}"


def s_same_positions(rng, ds, kind):
    found = _all_with(ds, "ImagePositionPatient")
    if len(found) < 2:
        return None
    first = list(found[0][0].ImagePositionPatient)
    for d, _ in found:
        d.ImagePositionPatient = first
    return "every frame at one position"


def s_padding(rng, ds, kind):
    if "SegmentSequence" not in ds:
        return None
    _set_us(ds, "PixelPaddingValue", rng.choice([0, 1, 2, 255]))
    return "PixelPaddingValue"


def _content_items(ds):
    return [d for d, kw, _ in _items(ds) if kw == "ValueType"]


def s_sr_graphic(rng, ds, kind):
    found = _all_with(ds, "GraphicData")
    if not found:
        return None
    owner, _ = rng.choice(found)
    what = rng.choice(["huge", "odd", "nan", "ellipse-short", "ellipsoid-short", "circle", "empty", "type"])
    from pydicom.datadict import tag_for_keyword

    tag = tag_for_keyword("GraphicData")
    pts = [float(v) for v in owner.GraphicData]
    if what == "huge":
        pts = pts * (1_000_000 // max(len(pts), 1))
    elif what == "odd":
        pts = pts[:-1]
    elif what == "nan":
        pts[rng.randrange(len(pts))] = float(rng.choice(["nan", "inf"]))
    elif what == "ellipse-short":
        owner.GraphicType = "ELLIPSE"
        pts = pts[: 2 * (2 if owner.ValueType == "SCOORD" else 3)]
    elif what == "ellipsoid-short":
        owner.GraphicType = "ELLIPSOID"
        pts = pts[:9]
    elif what == "circle":
        owner.GraphicType = "CIRCLE"
    elif what == "empty":
        pts = []
    else:
        owner.GraphicType = rng.choice(["GARBAGE", "", "POLYGON", "MULTIPOINT"])
    import struct

    owner[tag] = _raw(tag, "FL", struct.pack(f"<{len(pts)}f", *pts))
    return f"GraphicData:{what}"


def nest_containers(item, depth: int, concept=None) -> None:
    """Hang ``depth`` CONTAINER items under ``item``, each the only child of the one above (named
    by a copy of ``concept``, a ConceptNameCodeSequence, when given)."""
    import copy

    from pydicom.dataset import Dataset

    node = item
    for _ in range(depth):
        child = Dataset()
        child.RelationshipType = "HAS PROPERTIES"
        child.ValueType = "CONTAINER"
        if concept is not None:
            child.ConceptNameCodeSequence = copy.deepcopy(concept)
        child.ContinuityOfContent = "SEPARATE"
        node.ContentSequence = [child]
        node = child


def save_deep(ds, out) -> None:
    """``ds.save_as(out)`` with room for deep nesting: pydicom writes nested items recursively
    (deep-nesting cases need more than 1,000 frames; a RecursionError inside its writer builds
    enormous messages)."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20000))
    try:
        ds.save_as(out)
    finally:
        sys.setrecursionlimit(limit)


def s_sr_structure(rng, ds, kind):
    what = rng.choice(
        ["no-content", "empty-content", "empty-groups", "deep", "value-garbage", "long-text", "vt"]
    )
    if what == "no-content":
        if "ContentSequence" not in ds:
            return None
        del ds.ContentSequence
    elif what == "empty-content":
        ds.ContentSequence = []
    elif what == "empty-groups":
        n = 0
        for d, kw, _ in list(_items(ds)):
            if kw == "ContentSequence" and d is not ds and str(d.get("ValueType", "")) == "CONTAINER":
                d.ContentSequence = []
                n += 1
        if not n:
            return None
    elif what == "deep":
        items = [d for d in _content_items(ds) if d.get("ValueType") == "NUM"]
        if not items:
            return None
        item = rng.choice(items)
        depth = rng.choice([50, 200, 400])
        nest_containers(item, depth, item.ConceptNameCodeSequence)
    elif what == "value-garbage":
        found = _all_with(ds, "NumericValue")
        if not found:
            return None
        owner, _ = rng.choice(found)
        owner[0x0040A30A] = _raw(0x0040A30A, "DS", rng.choice([b"nan", b"abc", b"1e999", b""]))
    elif what == "long-text":
        found = _all_with(ds, "TextValue") + _all_with(ds, "UID")
        if not found:
            return None
        owner, _ = rng.choice(found)
        kw = "TextValue" if "TextValue" in owner else "UID"
        setattr(owner, kw, ("x/" * 3000) if kw == "TextValue" else "1." * 200)
    else:
        items = _content_items(ds)
        if not items:
            return None
        rng.choice(items).ValueType = rng.choice(["GARBAGE", "NUM", "SCOORD3D", "CONTAINER", ""])
    if what == "long-text":  # a long text is valid: a different name, not damage
        return f"sr:{what}", False
    return f"sr:{what}"


STRUCTURAL: Dict[str, tuple] = {
    "delete-required": (s_delete_required, True),
    "geometry-garbage": (s_geometry_garbage, True),
    "rows-columns": (s_rows_columns, True),
    "number-of-frames": (s_number_of_frames, True),
    "bits-allocated": (s_bits_allocated, True),
    "segmentation-type": (s_segmentation_type, True),
    "transfer-syntax-claim": (s_transfer_syntax, False),
    "segments": (s_segments, True),
    "same-positions": (s_same_positions, True),
    "padding-value": (s_padding, False),
    "sr-graphic": (s_sr_graphic, False),
    "sr-structure": (s_sr_structure, True),
}
_FOR_KIND = {
    "seg": [k for k in STRUCTURAL if not k.startswith("sr-")],
    "sr": ["delete-required", "sr-graphic", "sr-structure", "transfer-syntax-claim"],
}


def _claim_ts(data: bytes, uid: str) -> bytes:
    """Replace the TransferSyntaxUID value in the file meta (same length, padded) of ``data``."""
    i = data.find(b"\x02\x00\x10\x00UI")
    if i < 0:
        return data
    length = int.from_bytes(data[i + 6 : i + 8], "little")
    value = uid.encode()
    if len(value) % 2:
        value += b"\x00"
    new = data[: i + 6] + len(value).to_bytes(2, "little") + value + data[i + 8 + length :]
    # group length of the file meta
    j = new.find(b"\x02\x00\x00\x00UL")
    if j >= 0:
        old = int.from_bytes(new[j + 8 : j + 12], "little")
        new = new[: j + 8] + (old + len(value) - length).to_bytes(4, "little") + new[j + 12 :]
    return new


def mutate(rng: random.Random, seed: Seed, data: bytes):
    """(mutated bytes, mutator name, detail, must_detect) of one case; None when not applicable."""
    if rng.random() < 0.45:
        name = rng.choice(list(BLIND))
        return BLIND[name](rng, data), name, "", False
    import io

    import pydicom

    name = rng.choice(_FOR_KIND[seed.kind])
    fn, must = STRUCTURAL[name]
    try:
        ds = pydicom.dcmread(io.BytesIO(data))
        detail = fn(rng, ds, seed.kind)
        if detail is None:
            return None
        out = io.BytesIO()
        if isinstance(detail, tuple) and detail[0] == "claim-ts":
            return _claim_ts(data, detail[1]), name, f"TransferSyntaxUID={detail[1]}", must
        if isinstance(detail, tuple):  # (detail, must_detect) decided by the mutator
            detail, must = detail
        save_deep(ds, out)
    except (RecursionError, ValueError, TypeError, OverflowError, AttributeError):
        return None  # pydicom cannot write this edit: no case
    return out.getvalue(), name, detail, must


# ----------------------------------------------------------------------------------------- runner

ORDER = ["crash", "hang", "memory", "silent", "error", "accepted"]
FAILING = {"crash", "hang", "memory"}


class Worker:
    """The fork server (worker.py) in a subprocess; one JSON line per request and answer."""

    def __init__(self, env=None):
        env = dict(os.environ if env is None else env)
        core = str(TESTING.parent / "DicomAIExport")
        env["PYTHONPATH"] = core + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.setdefault("PYTHONWARNINGS", "default")
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "worker.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def run(self, request: dict) -> dict:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the fuzz worker died")
        return json.loads(line)

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except Exception:
            self.proc.kill()


def cli_argv(seed: Seed, path: Path, out_dir: Path) -> List[List[str]]:
    if seed.kind == "seg":
        runs = [["info", str(path)], ["import-seg", str(path), "--out", str(out_dir / "lab.nrrd")]]
        if seed.source is not None:
            runs.append(runs[1][:2] + ["--source", str(seed.source), "--out", str(out_dir / "src.nrrd")])
        return runs
    runs = [["info", str(path)], ["import-sr", str(path), "--out-dir", str(out_dir / "sr")]]
    if seed.source is not None:
        runs.append(["import-sr", str(path), "--source", str(seed.source), "--out-dir", str(out_dir / "srs")])
    return runs


def cli_problem(rc: int, stderr: str) -> Optional[str]:
    """What is wrong with one CLI run's exit status and stderr, or None."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    if "Traceback" in stderr:
        return "traceback"
    if rc not in (0, 1):
        return f"exit status {rc}"
    if "internal error" in stderr:
        return "internal error"
    if rc == 1 and len(lines) != 1:
        return f"{len(lines)} stderr lines on failure"
    if rc == 0 and any(not ln.startswith("dicomai") for ln in lines):
        return "raw stderr lines on success"
    return None


@dataclass
class Result:
    seed: str
    kind: str
    mutator: str
    detail: str
    must_detect: bool
    outcome: str
    entries: dict
    cli: List[str] = field(default_factory=list)  # problems found in the CLI runs
    cli_runs: int = 0


def run_fuzz(
    seeds: List[Seed],
    work: Path,
    cases: int,
    seed: int = 0,
    cli_every: int = 10,
    timeout: float = 15.0,
    mem_mb: int = 1500,
    log: Optional[Callable[[str], None]] = None,
    workers: int = 1,
) -> List[Result]:
    """Run ``cases`` mutations over ``seeds``; deterministic for a given ``seed``."""
    import concurrent.futures as cf

    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    pool = [Worker() for _ in range(max(1, workers))]
    try:
        baselines = {}
        for s in seeds:
            r = pool[0].run(_request(s, s.path, work, False, timeout, mem_mb))
            bad = {e: v for e, v in r["entries"].items() if v["outcome"] != "ok"}
            if bad:
                raise RuntimeError(f"seed {s.name} does not read cleanly: {bad}")
            baselines[s.name] = r["entries"]
        datas = {s.name: s.path.read_bytes() for s in seeds}
        planned = []
        i = 0
        while len(planned) < cases:
            s = seeds[i % len(seeds)]
            i += 1
            m = mutate(rng, s, datas[s.name])
            if m is None:
                continue
            data, name, detail, must = m
            n = len(planned)
            path = work / f"case{n:06d}.dcm"
            planned.append((n, s, path, data, name, detail, must))

        def one(job, worker):
            n, s, path, data, name, detail, must = job
            path.write_bytes(data)
            r = worker.run(_request(s, path, work, cli_every and n % cli_every == 0, timeout, mem_mb))
            res = _classify(s, name, detail, must, r, baselines[s.name])
            path.unlink()
            return res

        results: List[Optional[Result]] = [None] * len(planned)
        with cf.ThreadPoolExecutor(len(pool)) as ex:
            chunks = [planned[w :: len(pool)] for w in range(len(pool))]

            def chunk(w):
                for job in chunks[w]:
                    results[job[0]] = one(job, pool[w])
                    if log and job[0] % 100 == 0:
                        log(f"{job[0]}/{len(planned)}")

            list(ex.map(chunk, range(len(pool))))
        return [r for r in results if r is not None]
    finally:
        for w in pool:
            w.close()


def _request(s: Seed, path: Path, work: Path, cli: bool, timeout: float, mem_mb: int) -> dict:
    out_dir = work / f"cli-{path.stem}"
    return {
        "kind": s.kind,
        "path": str(path),
        "source": str(s.source) if s.source else None,
        "segs": [str(p) for p in s.segs],
        "cli": cli_argv(s, path, out_dir) if cli else [],
        "timeout": timeout,
        "mem_mb": mem_mb,
    }


def _classify(s: Seed, name, detail, must, r: dict, base: dict) -> Result:
    entries = {}
    if r.get("died"):
        outcome = r["died"]  # hang / crash (signal)
        entries = {"*": {"outcome": outcome, "message": r.get("message", "")}}
    else:
        outcomes = []
        for e, v in r["entries"].items():
            o = v["outcome"]
            if o == "ok":
                b = base.get(e, {})
                new_warnings = set(v.get("warnings", [])) - set(b.get("warnings", []))
                if v.get("digest") is None or v.get("digest") == b.get("digest") or new_warnings:
                    o = "accepted"
                else:
                    o = "silent"
            entries[e] = dict(v, outcome=o)
            outcomes.append(o)
        outcome = min(outcomes, key=ORDER.index) if outcomes else "accepted"
    cli = []
    for run in r.get("cli", []):
        p = cli_problem(run["rc"], run["stderr"])
        if p:
            cli.append(f"{' '.join(run['argv'][:1])}: {p}: {run['stderr'].strip()[:300]!r}")
    return Result(s.name, s.kind, name, str(detail), must, outcome, entries, cli, len(r.get("cli", [])))


# ----------------------------------------------------------------------------------------- report


def count_table(results: List[Result]) -> str:
    cols = ["cases", "error", "accepted", "crash", "hang", "memory", "silent", "cli problems", "cli runs"]
    rows = ["| | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for kind in ("seg", "sr"):
        rs = [r for r in results if r.kind == kind]
        c = Counter(r.outcome for r in rs)
        vals = [len(rs)] + [c.get(k, 0) for k in cols[1:-2]]
        vals += [sum(bool(r.cli) for r in rs), sum(r.cli_runs for r in rs)]
        rows.append(f"| {kind.upper()} | " + " | ".join(str(v) for v in vals) + " |")
    return "\n".join(rows)


def failures(results: List[Result]) -> List[str]:
    """Every case that fails the run: raw crash, hang, memory, CLI problem, silently changed
    result of a mutation the readers must detect."""
    out = []
    for r in results:
        bad = r.outcome in FAILING or (r.outcome == "silent" and r.must_detect) or r.cli
        if bad:
            why = {
                e: (v["outcome"], v.get("message", "")[:200], v.get("where", ""))
                for e, v in r.entries.items()
                if v["outcome"] in FAILING | {"silent"}
            }
            out.append(f"{r.seed} {r.mutator} {r.detail!r}: {r.outcome} {why} {r.cli}")
    return out


def signatures(results: List[Result]) -> Counter:
    c = Counter()
    for r in results:
        for e, v in r.entries.items():
            if v["outcome"] in FAILING:
                c[f"{v['outcome']}: {v.get('type', '')} at {v.get('where', '')}"] += 1
            elif v["outcome"] == "error" and v.get("unforeseen"):
                c[f"error (unforeseen damage, caught by the net): {v['unforeseen']}"] += 1
            elif v["outcome"] == "silent":
                c[f"silent ({'must detect' if r.must_detect else 'counted'}): {r.mutator} {e}"] += 1
        for p in r.cli:
            c[f"cli: {p[:80]}"] += 1
    return c


def by_mutator(results: List[Result]) -> Dict[str, Counter]:
    out: Dict[str, Counter] = defaultdict(Counter)
    for r in results:
        out[r.mutator][r.outcome] += 1
    return out
