"""Image files: labelmaps and probability maps (NRRD, NIfTI, MHA) and Slicer's ``.seg.nrrd``.

Plain images go through SimpleITK, whose physical space is LPS like DICOM's. Slicer's
segmentation file (``.seg.nrrd``: one 3D or 4D NRRD whose first axis holds the shared labelmap
layers, with ``SegmentN_*`` header fields) is read and written here directly, so that overlapping
segments, names, colours and terminology survive without Slicer.
"""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from .errors import InputError
from .geometry import Grid

__all__ = [
    "IMAGE_EXTENSIONS",
    "is_seg_nrrd",
    "read_image",
    "read_labelmap",
    "read_seg_nrrd",
    "write_image",
    "write_seg_nrrd",
]

IMAGE_EXTENSIONS = (".nrrd", ".nhdr", ".nii", ".nii.gz", ".mha", ".mhd")


def _has_image_extension(path) -> bool:
    name = str(path).lower()
    return name.endswith(IMAGE_EXTENSIONS)


def is_seg_nrrd(path) -> bool:
    return str(path).lower().endswith(".seg.nrrd")


def read_image(path) -> Tuple[np.ndarray, Grid]:
    """Read a 3D (or 2D) scalar image: ``(array[k, r, c], grid)``.

    Raises
    ------
    InputError
        Missing or unreadable file, unknown extension, vector or 4D images.
    """
    import SimpleITK as sitk

    p = Path(path)
    if not p.is_file():
        raise InputError(f"image file {str(p)!r} does not exist")
    if not _has_image_extension(p):
        raise InputError(
            f"{str(p)!r}: unknown image format; use NRRD (.nrrd), NIfTI (.nii, .nii.gz) or MetaImage (.mha)"
        )
    try:
        image = sitk.ReadImage(str(p))
    except RuntimeError as e:
        first = str(e).strip().splitlines()[-1] if str(e).strip() else "unreadable"
        raise InputError(f"cannot read image {str(p)!r}: {first}") from e
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(
            f"{str(p)!r} has {image.GetNumberOfComponentsPerPixel()} components per voxel; a "
            "labelmap must be a scalar image (for Slicer segmentations use the .seg.nrrd file)"
        )
    if image.GetDimension() not in (2, 3):
        raise InputError(f"{str(p)!r} is {image.GetDimension()}D; a 3D image is needed")
    grid = Grid.from_sitk(image)
    array = sitk.GetArrayViewFromImage(image)
    array = np.array(array, copy=True).reshape(grid.shape)
    return array, grid


def read_labelmap(path) -> Tuple[np.ndarray, Grid]:
    """Read an integer labelmap (float files holding whole numbers are accepted)."""
    array, grid = read_image(path)
    if not np.issubdtype(array.dtype, np.integer):
        if array.size and not np.all(np.equal(np.mod(array, 1), 0)):
            raise InputError(
                f"{str(path)!r} holds fractional values ({array.dtype}); a labelmap holds whole "
                "label numbers (for probabilities use --type fractional --probability)"
            )
        array = array.astype(np.int64)
    if array.size and array.min() < 0:
        raise InputError(
            f"{str(path)!r} holds negative label values (min {array.min()}); labels must be >= 0"
        )
    top = int(array.max()) if array.size else 0
    dtype = np.uint8 if top < 256 else np.uint16 if top < 65536 else np.uint32
    return array.astype(dtype, copy=False), grid


def write_image(path, array: np.ndarray, grid: Grid, compress: bool = True) -> None:
    """Write ``array[k, r, c]`` on ``grid`` with SimpleITK (format from the extension)."""
    import SimpleITK as sitk

    if not _has_image_extension(path):
        raise InputError(f"{str(path)!r}: unknown image format; use .nrrd, .nii, .nii.gz or .mha")
    image = sitk.GetImageFromArray(np.ascontiguousarray(array))
    size, spacing, origin, direction = grid.sitk_parameters()
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    image.SetDirection(direction)
    sitk.WriteImage(image, str(path), useCompression=compress)


# ------------------------------------------------------------------------------ .seg.nrrd
_NRRD_TYPES = {
    "unsigned char": np.uint8,
    "uchar": np.uint8,
    "uint8": np.uint8,
    "uint8_t": np.uint8,
    "unsigned short": np.uint16,
    "ushort": np.uint16,
    "uint16": np.uint16,
    "uint16_t": np.uint16,
    "short": np.int16,
    "int16": np.int16,
    "int": np.int32,
    "int32": np.int32,
    "unsigned int": np.uint32,
    "uint": np.uint32,
    "uint32": np.uint32,
    "signed char": np.int8,
}


def _vector(text: str) -> Optional[np.ndarray]:
    text = text.strip()
    if text == "none":
        return None
    return np.asarray([float(v) for v in text.strip("()").split(",")])


def read_seg_nrrd(path):
    """Read Slicer's ``.seg.nrrd`` into :class:`~dicomai.seg.content.SegmentationContent`.

    Segment names, colours, layers, label values and terminology (``TerminologyEntry`` tag)
    are kept.
    """
    from .coding import terminology_from_string
    from .seg.content import SegmentationContent, SegmentInfo

    p = Path(path)
    if not p.is_file():
        raise InputError(f"segmentation file {str(p)!r} does not exist")
    raw = p.read_bytes()
    sep = raw.find(b"\n\n")
    if not raw.startswith(b"NRRD") or sep < 0:
        raise InputError(f"{str(p)!r} is not a NRRD file")
    header = raw[:sep].decode("utf-8", errors="replace").splitlines()
    fields, keys = {}, {}
    for line in header[1:]:
        if line.startswith("#"):
            continue
        if ":=" in line:
            k, v = line.split(":=", 1)
            keys[k] = v
        elif ": " in line:
            k, v = line.split(": ", 1)
            fields[k.strip().lower()] = v.strip()
    try:
        dtype = np.dtype(_NRRD_TYPES[fields["type"]])
        sizes = [int(v) for v in fields["sizes"].split()]
        dirs = re.findall(r"none|\([^)]*\)", fields["space directions"])
        origin = _vector(fields.get("space origin", "(0,0,0)"))
    except (KeyError, ValueError) as e:
        raise InputError(f"{str(p)!r}: unsupported NRRD header ({e})") from e
    space = fields.get("space", "left-posterior-superior")
    if "data file" in fields:
        raise InputError(f"{str(p)!r}: detached NRRD data is not supported; save as a single .seg.nrrd")
    data = raw[sep + 2 :]
    enc = fields.get("encoding", "raw")
    if enc in ("gzip", "gz"):
        data = gzip.decompress(data)
    elif enc != "raw":
        raise InputError(f"{str(p)!r}: NRRD encoding {enc!r} is not supported")
    if dtype.itemsize > 1:
        endian = "<" if fields.get("endian", "little") == "little" else ">"
        dtype = dtype.newbyteorder(endian)
    arr = np.frombuffer(data, dtype=dtype, count=int(np.prod(sizes)))
    vectors = [d for d in dirs if d != "none"]
    if len(sizes) == 4:
        layers_n = sizes[0]
        arr = arr.reshape(sizes[::-1])  # (z, y, x, layers)
        layers = [
            np.ascontiguousarray(arr[..., i]).astype(np.uint8 if dtype.itemsize == 1 else np.uint16)
            for i in range(layers_n)
        ]
    elif len(sizes) == 3:
        layers = [arr.reshape(sizes[::-1]).astype(np.uint8 if dtype.itemsize == 1 else np.uint16)]
    else:
        raise InputError(f"{str(p)!r}: a {len(sizes)}D NRRD is not a segmentation")
    mat = np.column_stack([_vector(v) for v in vectors])  # columns: x (i), y (j), z (k)
    if space in ("right-anterior-superior", "RAS"):
        flip = np.diag([-1.0, -1.0, 1.0])
        mat, origin = flip @ mat, flip @ origin
    affine = np.eye(4)
    affine[:3, 0], affine[:3, 1], affine[:3, 2] = mat[:, 2], mat[:, 1], mat[:, 0]
    affine[:3, 3] = origin
    grid = Grid(layers[0].shape, affine)
    # shift by the reference extent offset (Slicer crops files to the segments' extent)
    offset = [int(v) for v in keys.get("Segmentation_ReferenceImageExtentOffset", "0 0 0").split()]
    if any(offset):
        affine = grid.affine.copy()
        affine[:3, 3] = grid.index_to_world([offset[2], offset[1], offset[0]])
        grid = Grid(grid.shape, affine)
    segments = []
    i = 0
    while f"Segment{i}_ID" in keys or f"Segment{i}_Name" in keys:
        pre = f"Segment{i}_"
        name = keys.get(pre + "Name") or keys.get(pre + "ID") or f"Segment {i + 1}"
        color = keys.get(pre + "Color")
        rgb = tuple(int(round(float(v) * 255)) for v in color.split()) if color else None
        tags = dict(t.split(":", 1) for t in keys.get(pre + "Tags", "").split("|") if ":" in t)
        term = terminology_from_string(tags.get("TerminologyEntry", ""))
        segments.append(
            SegmentInfo(
                number=i + 1,
                label=name,
                category=term["category"],
                type=term["type"],
                type_modifiers=[term["type_modifier"]] if term["type_modifier"] else [],
                anatomic_region=term["region"],
                anatomic_region_modifiers=[term["region_modifier"]] if term["region_modifier"] else [],
                color=rgb,
                layer=int(keys.get(pre + "Layer", 0)),
                label_value=int(keys.get(pre + "LabelValue", 1)),
                algorithm_type="SEMIAUTOMATIC",
            )
        )
        i += 1
    if not segments:
        raise InputError(f"{str(p)!r} has no SegmentN_ fields: not a Slicer segmentation file")
    return SegmentationContent(grid=grid, segments=segments, layers=layers)


def write_seg_nrrd(path, content, compress: bool = True) -> None:
    """Write ``content`` as Slicer's ``.seg.nrrd`` (every layer, full grid extent)."""
    from .coding import terminology_to_string

    layers = content.layers
    used = sorted({s.layer for s in content.segments}) or [0]
    remap = {li: i for i, li in enumerate(used)}
    stack = [layers[li] for li in used]
    dtype = np.uint8 if all(a.dtype == np.uint8 for a in stack) else np.uint16
    grid = content.grid
    k, r, c = grid.shape
    col = grid.affine[:3, 2]
    row = grid.affine[:3, 1]
    sl = grid.affine[:3, 0]

    def vec(v) -> str:
        return "(" + ",".join(repr(float(x)) for x in v) + ")"

    if len(stack) == 1:
        data = stack[0].astype(dtype, copy=False)
        head = [
            "dimension: 3",
            f"sizes: {c} {r} {k}",
            f"space directions: {vec(col)} {vec(row)} {vec(sl)}",
            "kinds: domain domain domain",
        ]
    else:
        data = np.stack([a.astype(dtype, copy=False) for a in stack], axis=-1)  # (k, r, c, L)
        head = [
            "dimension: 4",
            f"sizes: {len(stack)} {c} {r} {k}",
            f"space directions: none {vec(col)} {vec(row)} {vec(sl)}",
            "kinds: list domain domain domain",
        ]
    lines = [
        "NRRD0004",
        "# written by dicomai",
        f"type: {'unsigned char' if dtype == np.uint8 else 'unsigned short'}",
        *head,
        "endian: little",
        f"encoding: {'gzip' if compress else 'raw'}",
        "space: left-posterior-superior",
        f"space origin: {vec(grid.origin)}",
    ]
    for i, s in enumerate(content.segments):
        pre = f"Segment{i}_"
        rgb = s.color or (128, 174, 128)
        term = terminology_to_string(
            s.category,
            s.type,
            s.type_modifiers[0] if s.type_modifiers else None,
            s.anatomic_region,
            s.anatomic_region_modifiers[0] if s.anatomic_region_modifiers else None,
        )
        lines += [
            f"{pre}Color:={' '.join(f'{v / 255:.6f}' for v in rgb)}",
            f"{pre}ColorAutoGenerated:=0",
            f"{pre}Extent:=0 {c - 1} 0 {r - 1} 0 {k - 1}",
            f"{pre}ID:=Segment_{s.number}",
            f"{pre}LabelValue:={s.label_value}",
            f"{pre}Layer:={remap.get(s.layer, 0)}",
            f"{pre}Name:={s.label}",
            f"{pre}NameAutoGenerated:=0",
            f"{pre}Tags:=TerminologyEntry:{term}|",
        ]
    lines += [
        "Segmentation_ContainedRepresentationNames:=Binary labelmap|",
        "Segmentation_MasterRepresentation:=Binary labelmap",
        "Segmentation_ReferenceImageExtentOffset:=0 0 0",
    ]
    body = np.ascontiguousarray(data).astype(data.dtype.newbyteorder("<"), copy=False).tobytes()
    if compress:
        body = gzip.compress(body, compresslevel=1)
    with open(os.fspath(path), "wb") as f:
        f.write(("\n".join(lines) + "\n\n").encode("utf-8"))
        f.write(body)
