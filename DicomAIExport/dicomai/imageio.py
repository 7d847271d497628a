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
import zlib
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from .errors import InputError
from .geometry import Grid

__all__ = [
    "IMAGE_EXTENSIONS",
    "is_seg_nrrd",
    "read_image",
    "read_image_grid",
    "check_label_values",
    "read_label_names",
    "read_labelmap",
    "read_seg_nrrd",
    "write_image",
    "write_seg_nrrd",
]

IMAGE_EXTENSIONS = (".nrrd", ".nhdr", ".nii", ".nii.gz", ".mha", ".mhd")


def _has_image_extension(path) -> bool:
    name = str(path).lower()
    return name.endswith(IMAGE_EXTENSIONS)


def _image_file(path) -> Path:
    """``path`` as a Path when it is an existing file with an image extension, else InputError."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"image file {str(p)!r} does not exist")
    if not _has_image_extension(p):
        raise InputError(
            f"{str(p)!r}: unknown image format; use NRRD (.nrrd), NIfTI (.nii, .nii.gz) or MetaImage (.mha)"
        )
    return p


def is_seg_nrrd(path) -> bool:
    return str(path).lower().endswith(".seg.nrrd")


def read_image(path) -> Tuple[np.ndarray, Grid]:
    """Read a 3D (or 2D) scalar image: ``(array[k, r, c], grid)``.

    Plain NRRD files (raw or gzip, one file) are read here directly, which skips SimpleITK's
    import and a second copy of the voxels; other formats and NRRD variants go through SimpleITK.

    Raises
    ------
    InputError
        Missing or unreadable file, unknown extension, vector or 4D images.
    """
    p = _image_file(path)
    if p.name.lower().endswith(".nrrd"):
        try:
            nrrd = _read_nrrd(p)
        except _NrrdUnsupported:
            nrrd = None
        if nrrd is not None and nrrd.array.ndim in (2, 3) and nrrd.affine is not None:
            array = nrrd.array if nrrd.array.ndim == 3 else nrrd.array[None]
            return array, Grid(array.shape, nrrd.affine)
    if p.name.lower().endswith((".nii", ".nii.gz")):
        nifti = _read_nifti(p)
        if nifti is not None:
            return nifti
    return _read_with_sitk(p)


# NIfTI-1 datatype codes read directly (others go through SimpleITK)
_NIFTI_TYPES = {
    2: np.uint8,
    4: np.int16,
    8: np.int32,
    16: np.float32,
    64: np.float64,
    256: np.int8,
    512: np.uint16,
    768: np.uint32,
}


def _read_nifti(p: Path) -> Optional[Tuple[np.ndarray, Grid]]:
    """Read a plain 3D NIfTI-1 file's voxels straight into one array; None to leave it to SimpleITK.

    ITK reads a .nii.gz into a buffer of its own and copies it into the image (2.8x the voxels at
    the peak). Here the geometry still comes from ITK (header only: its sform/qform rules), and the
    voxels are streamed from the (gzip) file into the array. Files with scaling (scl_slope not 0
    or 1, scl_inter not 0), more than 3 dimensions, NIfTI-2 or other data types go to SimpleITK.
    """
    import struct

    opener = gzip.open if p.name.lower().endswith(".gz") else open
    try:
        with opener(p, "rb") as f:
            header = f.read(348)
    except (OSError, EOFError, zlib.error):
        return None
    if len(header) < 348:
        return None
    for endian in ("<", ">"):
        if struct.unpack(endian + "i", header[:4])[0] == 348:
            break
    else:
        return None  # NIfTI-2 or not NIfTI: SimpleITK decides
    dims = struct.unpack(endian + "8h", header[40:56])
    datatype = struct.unpack(endian + "h", header[70:72])[0]
    vox_offset, slope, inter = struct.unpack(endian + "3f", header[108:120])
    ndim = dims[0]
    if not 2 <= ndim <= 7 or any(d != 1 for d in dims[4 : ndim + 1]) or min(dims[1 : min(ndim, 3) + 1]) < 1:
        return None
    if datatype not in _NIFTI_TYPES or header[344:348] not in (b"n+1\0", b"ni1\0"):
        return None
    if header[344:348] != b"n+1\0":
        return None  # header and data in two files
    if slope not in (0.0, 1.0) or inter != 0.0 or not np.isfinite(vox_offset) or vox_offset < 348:
        return None
    grid = _grid_from_header(p)
    if grid is None:
        return None
    dtype = np.dtype(_NIFTI_TYPES[datatype]).newbyteorder(endian)
    count = int(np.prod(grid.shape))
    gzipped = p.name.lower().endswith(".gz")
    if gzipped:
        array = _read_voxels(p, dtype, count, "NIfTI", gzipped=True, stream_offset=int(vox_offset))
    else:
        array = _read_voxels(p, dtype, count, "NIfTI", file_offset=int(vox_offset))
    if not dtype.isnative:
        array = array.astype(dtype.newbyteorder("="))
    return array.reshape(grid.shape), grid


def _grid_from_header(p: Path) -> Optional[Grid]:
    import SimpleITK as sitk

    reader = sitk.ImageFileReader()
    reader.SetFileName(str(p))
    try:
        reader.ReadImageInformation()
    except RuntimeError:
        return None  # SimpleITK's full read gives the error message
    if reader.GetNumberOfComponents() != 1 or reader.GetDimension() not in (2, 3):
        return None
    return Grid.from_sitk(reader)


def read_image_grid(path) -> Grid:
    """The grid of an image file, from its header only (NRRD, NIfTI, MHA)."""
    import SimpleITK as sitk

    p = _image_file(path)
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(p))
    try:
        reader.ReadImageInformation()
    except RuntimeError as e:
        first = str(e).strip().splitlines()[-1] if str(e).strip() else "unreadable"
        raise InputError(f"cannot read image {str(p)!r}: {first}") from e
    dim = reader.GetDimension()
    if dim not in (2, 3):
        raise InputError(f"{str(p)!r} is {dim}D; a 3D image is needed")
    return Grid.from_sitk(reader)


def _read_with_sitk(p: Path) -> Tuple[np.ndarray, Grid]:
    import SimpleITK as sitk

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
    # a view of ITK's buffer, not a copy: the array's base keeps the image alive
    array = np.asarray(_KeepAlive(sitk.GetArrayViewFromImage(image), image)).reshape(grid.shape)
    if np.issubdtype(array.dtype, np.floating):
        raw = _nifti_float_voxels(p, array.shape)  # ITK's NIfTI reader turns NaN and inf into 0
        if raw is not None:
            array = raw
    return array, grid


class _KeepAlive:
    """Exposes an array's buffer while holding a reference to the object that owns the memory."""

    def __init__(self, view: np.ndarray, owner) -> None:
        self.__array_interface__ = view.__array_interface__
        self._view = view
        self._owner = owner


#: The largest label value: labels are unsigned 32-bit integers (dcmqi labelIDs, Slicer label values).
MAX_LABEL_VALUE = 2**32 - 1


def read_labelmap(path) -> Tuple[np.ndarray, Grid]:
    """Read an integer labelmap (float files holding whole numbers are accepted).

    Raises
    ------
    InputError
        NaN or infinite voxels, fractional, negative or too large values (> 2**32 - 1): the
        message names the file, counts the voxels and gives the first one's (x, y, z) index.
    """
    array, grid = read_image(path)
    check_label_values(array, str(path))
    if not np.issubdtype(array.dtype, np.integer):
        array = array.astype(np.int64)
    top = int(array.max()) if array.size else 0
    dtype = np.uint8 if top < 256 else np.uint16 if top < 65536 else np.uint32
    return array.astype(dtype, copy=False), grid


def _first(mask: np.ndarray) -> str:
    k, r, c = (int(v) for v in np.argwhere(mask)[0])
    return f"({c}, {r}, {k})"


def check_label_values(array: np.ndarray, name: str) -> None:
    """Raise :class:`InputError` unless every voxel is a whole number 0..:data:`MAX_LABEL_VALUE`."""
    if not array.size:
        return

    def fail(mask, what, hint):
        n = int(np.count_nonzero(mask))
        raise InputError(
            f"{name!r}: {n} voxel(s) {what}, the first at voxel (x, y, z) = {_first(mask)}; {hint}"
        )

    labels_hint = f"a labelmap holds whole label numbers 0..{MAX_LABEL_VALUE}"
    if np.issubdtype(array.dtype, np.floating):
        finite = np.isfinite(array)
        if not finite.all():
            nan = np.isnan(array)
            if nan.any():
                fail(nan, "are NaN", labels_hint + " (set them to 0 or a label first)")
            fail(~finite, "are infinite", labels_hint)
        fractional = array != np.floor(array)
        if fractional.any():
            fail(
                fractional,
                f"hold fractional values ({array.dtype})",
                labels_hint + " (for probabilities use --type fractional --probability)",
            )
    if np.issubdtype(array.dtype, np.signedinteger) or np.issubdtype(array.dtype, np.floating):
        if array.min() < 0:
            fail(array < 0, f"hold negative values (min {array.min():g})", "labels must be >= 0")
    if array.max() > MAX_LABEL_VALUE:
        fail(
            array > MAX_LABEL_VALUE, f"hold values above {MAX_LABEL_VALUE} (max {array.max():g})", labels_hint
        )


def read_label_names(path) -> dict:
    """Label value -> name from a NIfTI-1 file's label table extension, as TotalSegmentator's
    ``--ml`` output carries it (a CIFTI/Caret ``<LabelTable>`` of ``<Label Key="5">liver</Label>``);
    empty for other files."""
    name = str(path).lower()
    if not name.endswith((".nii", ".nii.gz")):
        return {}
    opener = gzip.open if name.endswith(".gz") else open
    try:
        with opener(os.fspath(path), "rb") as f:
            head = f.read(352)
            if len(head) < 352:
                return {}
            endian = "<" if int(np.frombuffer(head[:4], "<i4")[0]) == 348 else ">"
            if int(np.frombuffer(head[:4], endian + "i4")[0]) != 348 or head[348] == 0:
                return {}
            offset = int(np.frombuffer(head[108:112], endian + "f4")[0])
            blob = f.read(max(0, offset - 352))
    except (OSError, EOFError):
        return {}
    out: dict = {}
    pos = 0
    while pos + 8 <= len(blob):
        size, _code = (int(v) for v in np.frombuffer(blob[pos : pos + 8], endian + "i4"))
        if size < 8:
            break
        text = blob[pos + 8 : pos + size].decode("utf-8", errors="replace")
        if "<LabelTable>" in text:
            for key, cdata, plain in re.findall(
                r'<Label\s[^>]*?Key="(\d+)"[^>]*>\s*(?:<!\[CDATA\[(.*?)\]\]>|([^<]*))\s*</Label>', text, re.S
            ):
                label = (cdata or plain).strip()
                if label and int(key) > 0:
                    out[int(key)] = label
        pos += size
    return out


_NIFTI_FLOATS = {16: "f4", 64: "f8"}


def _nifti_float_voxels(path, shape) -> Optional[np.ndarray]:
    """The voxels of a float NIfTI-1/2 file as stored (NaN and inf kept), or None when ``path``
    is no such file. Shape ``(k, r, c)`` like SimpleITK's array of it (NIfTI keeps x fastest)."""
    name = str(path).lower()
    if not name.endswith((".nii", ".nii.gz")):
        return None
    opener = gzip.open if name.endswith(".gz") else open
    with opener(os.fspath(path), "rb") as f:
        head = f.read(540)
        if len(head) < 348:
            return None
        for endian in ("<", ">"):
            size = int(np.frombuffer(head[:4], endian + "i4")[0])
            if size in (348, 540):
                break
        else:
            return None
        if size == 348:
            dims = np.frombuffer(head[40:56], endian + "i2")
            code = int(np.frombuffer(head[70:72], endian + "i2")[0])
            offset = int(np.frombuffer(head[108:112], endian + "f4")[0])
            slope, inter = (float(v) for v in np.frombuffer(head[112:120], endian + "f4"))
        else:
            dims = np.frombuffer(head[16:80], endian + "i8")
            code = int(np.frombuffer(head[12:14], endian + "i2")[0])
            offset = int(np.frombuffer(head[168:176], endian + "i8")[0])
            slope, inter = (float(v) for v in np.frombuffer(head[176:192], endian + "f8"))
        if code not in _NIFTI_FLOATS:
            return None
        count = int(np.prod(shape))
        if int(np.prod([max(1, int(d)) for d in dims[1 : int(dims[0]) + 1]])) != count:
            return None
        f.seek(offset)
        dtype = np.dtype(endian + _NIFTI_FLOATS[code])
        data = f.read(count * dtype.itemsize)
    if len(data) < count * dtype.itemsize:
        return None
    array = np.frombuffer(data, dtype).reshape(shape).astype(dtype.newbyteorder("="))
    if slope not in (0.0, 1.0) or inter != 0.0:
        array = array * (slope or 1.0) + inter
    return array


def write_image(path, array: np.ndarray, grid: Grid, compress: bool = True) -> None:
    """Write ``array[k, r, c]`` on ``grid`` (format from the extension; NRRD directly, others
    with SimpleITK)."""
    if not _has_image_extension(path):
        raise InputError(f"{str(path)!r}: unknown image format; use .nrrd, .nii, .nii.gz or .mha")
    if str(path).lower().endswith(".nrrd"):
        _write_nrrd(path, [array], grid, [], compress)
        return
    if str(path).lower().endswith((".nii", ".nii.gz")) and _write_nifti(path, array, grid, compress):
        return
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(np.ascontiguousarray(array))
    size, spacing, origin, direction = grid.sitk_parameters()
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    image.SetDirection(direction)
    sitk.WriteImage(image, str(path), useCompression=compress)


_NIFTI_HEADER = 352  # the NIfTI-1 header and the 4-byte extension flag SimpleITK writes


def _write_nifti(path, array: np.ndarray, grid: Grid, compress: bool) -> bool:
    """Write a 3D NIfTI-1 file slice by slice (no full-size copy of the voxels); False when it
    cannot (then SimpleITK writes it whole).

    The header is SimpleITK's own: SimpleITK writes a 1 x 1 x 1 image with the same voxel type,
    spacing, origin and direction (qform and sform do not depend on the size), and the three sizes
    are set in it; the voxels follow as SimpleITK lays them out (column fastest, little endian).
    ``test_imageio_streaming.py`` checks the result equal to SimpleITK's whole-volume file.
    """
    import struct
    import tempfile

    import SimpleITK as sitk

    arr = np.asarray(array)
    if arr.ndim != 3 or tuple(arr.shape) != tuple(grid.shape) or arr.dtype.kind not in "uif":
        return False
    if arr.dtype.itemsize > 8 or arr.dtype == np.float16 or min(arr.shape) < 2:
        return False  # a 1-voxel axis can change the header SimpleITK writes
    little = arr.dtype.newbyteorder("<")
    size, spacing, origin, direction = grid.sitk_parameters()
    one = sitk.GetImageFromArray(np.zeros((1, 1, 1), dtype=arr.dtype.newbyteorder("=")))
    one.SetSpacing(spacing)
    one.SetOrigin(origin)
    one.SetDirection(direction)
    with tempfile.TemporaryDirectory(prefix="dicomai-nii-") as tmp:
        probe = os.path.join(tmp, "header.nii")
        sitk.WriteImage(one, probe, useCompression=False)
        with open(probe, "rb") as f:
            header = bytearray(f.read(_NIFTI_HEADER))
    (sizeof_hdr,) = struct.unpack_from("<i", header, 0)
    dims = struct.unpack_from("<8h", header, 40)
    (vox_offset,) = struct.unpack_from("<f", header, 108)
    if sizeof_hdr != 348 or dims[:4] != (3, 1, 1, 1) or vox_offset != _NIFTI_HEADER:
        return False  # not the layout this writer knows
    k, r, c = arr.shape
    if max(k, r, c) > 32767:
        return False
    struct.pack_into("<3h", header, 42, c, r, k)
    compress = compress and str(path).lower().endswith(".gz")  # the extension decides, as in ITK
    with open(os.fspath(path), "wb") as f:
        out = gzip.GzipFile(fileobj=f, mode="wb", compresslevel=6, mtime=0) if compress else f
        try:
            out.write(bytes(header))
            for z in range(k):  # slice by slice: no full-size temporary
                out.write(np.ascontiguousarray(arr[z], dtype=little).tobytes())
        finally:
            if compress:
                out.close()
    return True


# ------------------------------------------------------------------------------ .seg.nrrd
_NRRD_TYPES = {
    **dict.fromkeys(("unsigned char", "uchar", "uint8", "uint8_t"), np.uint8),
    **dict.fromkeys(("signed char", "int8", "int8_t"), np.int8),
    **dict.fromkeys(("unsigned short", "ushort", "uint16", "uint16_t", "unsigned short int"), np.uint16),
    **dict.fromkeys(("short", "short int", "signed short", "int16", "int16_t"), np.int16),
    **dict.fromkeys(("unsigned int", "uint", "uint32", "uint32_t"), np.uint32),
    **dict.fromkeys(("int", "signed int", "int32", "int32_t"), np.int32),
    "float": np.float32,
    "double": np.float64,
}


def _vector(text: str) -> Optional[np.ndarray]:
    text = text.strip()
    if text == "none":
        return None
    return np.asarray([float(v) for v in text.strip("()").split(",")])


class _NrrdUnsupported(Exception):
    """A NRRD variant this reader leaves to SimpleITK (detached data, other encodings...)."""


class _Nrrd:
    def __init__(self, array, affine, keys, fields):
        self.array = array  # numpy order: slowest axis first, i.e. (z, y, x[, list])
        self.affine = affine  # (k, r, c) -> LPS of the domain axes, or None
        self.keys = keys  # "key:=value" fields
        self.fields = fields


def _nrrd_header(p: Path) -> Tuple[bytes, int]:
    """The header bytes of a single-file NRRD and the offset of its data (after the blank line)."""
    header = b""
    with open(p, "rb") as f:
        while True:
            chunk = f.read(65536)
            if not chunk:
                break
            start = max(len(header) - 1, 0)
            header += chunk
            sep = header.find(b"\n\n", start)
            if sep >= 0:
                if not header.startswith(b"NRRD"):
                    break
                return header[:sep], sep + 2
            if len(header) > (16 << 20):  # no NRRD header is that long
                break
    raise InputError(f"{str(p)!r} is not a NRRD file")


_READ_CHUNK = 8 << 20


def _read_voxels(
    p: Path, dtype, count: int, kind: str, file_offset: int = 0, gzipped: bool = False, stream_offset: int = 0
) -> np.ndarray:
    """Read ``count`` voxels straight into one array: no whole-file bytes object beside it.

    The data starts ``file_offset`` bytes into the file (NRRD: after its text header); when it is
    gzipped, ``stream_offset`` more bytes into the decompressed stream (NIfTI .nii.gz).
    """
    array = np.empty(count, dtype=dtype)
    view = memoryview(array.view(np.uint8).reshape(-1))
    got = 0
    with open(p, "rb") as f:
        f.seek(file_offset)
        try:
            stream = gzip.GzipFile(fileobj=f, mode="rb") if gzipped else f
            if stream_offset:
                stream.seek(stream_offset, 1)
            while got < len(view):
                # bounded pieces: gzip's readinto allocates a bytes object of the size asked for
                n = stream.readinto(view[got : got + _READ_CHUNK])
                if not n:
                    break
                got += n
        except (OSError, EOFError, zlib.error) as e:
            raise InputError(f"{str(p)!r}: {kind} data cannot be read or decompressed ({e})") from None
    if got < len(view):
        raise InputError(f"{str(p)!r}: {kind} data is truncated ({got} of {len(view)} bytes)")
    return array


def _read_nrrd(path) -> _Nrrd:
    """Read a single-file NRRD (raw or gzip). Axes of kind list/vector must come first."""
    p = Path(path)
    header, data_offset = _nrrd_header(p)
    fields, keys = {}, {}
    for line in header.decode("utf-8", errors="replace").splitlines()[1:]:
        if line.startswith("#"):
            continue
        if ":=" in line:
            k, v = line.split(":=", 1)
            keys[k] = v
        elif ": " in line:
            k, v = line.split(": ", 1)
            fields[k.strip().lower()] = v.strip()
    if "data file" in fields or "datafile" in fields or "space directions" not in fields:
        raise _NrrdUnsupported("detached data or no space directions")
    enc = fields.get("encoding", "raw")
    if enc not in ("raw", "gzip", "gz"):
        raise _NrrdUnsupported(f"encoding {enc}")
    try:
        dtype = np.dtype(_NRRD_TYPES[fields["type"]])
        sizes = [int(v) for v in fields["sizes"].split()]
        dirs = re.findall(r"none|\([^)]*\)", fields["space directions"])
        origin = _vector(fields.get("space origin", "(0,0,0)"))
    except (KeyError, ValueError) as e:
        raise _NrrdUnsupported(f"header: {e}") from e
    domain = [i for i, d in enumerate(dirs) if d != "none"]
    if len(dirs) != len(sizes) or domain != list(range(len(sizes) - len(domain), len(sizes))):
        raise _NrrdUnsupported("non-domain axes after domain axes")
    if dtype.itemsize > 1:
        dtype = dtype.newbyteorder("<" if fields.get("endian", "little") == "little" else ">")
    count = int(np.prod(sizes))
    array = _read_voxels(p, dtype, count, "NRRD", file_offset=data_offset, gzipped=enc != "raw")
    array = array.reshape(sizes[::-1])
    if not dtype.isnative:
        array = array.astype(dtype.newbyteorder("="))
    # numpy order puts the list axis (if any) last: move it first for the caller
    if len(domain) < len(sizes):
        array = np.moveaxis(array, -1, 0)
    vectors = [_vector(dirs[i]) for i in domain]
    mat = np.column_stack(vectors)  # columns: x (column), y (row), z (slice)
    space = fields.get("space", "left-posterior-superior").lower()
    if space in ("right-anterior-superior", "ras"):
        flip = np.diag([-1.0, -1.0, 1.0])
        mat, origin = flip @ mat, flip @ origin
    elif space not in ("left-posterior-superior", "lps"):
        raise _NrrdUnsupported(f"space {space}")
    affine = None
    if mat.shape[1] == 3:
        affine = np.eye(4)
        affine[:3, 0], affine[:3, 1], affine[:3, 2] = mat[:, 2], mat[:, 1], mat[:, 0]
        affine[:3, 3] = origin
    elif mat.shape[1] == 2:
        affine = np.eye(4)
        affine[:3, 1], affine[:3, 2] = mat[:, 1], mat[:, 0]
        affine[:3, 0] = np.cross(mat[:, 0], mat[:, 1]) / max(
            np.linalg.norm(np.cross(mat[:, 0], mat[:, 1])), 1e-12
        )
        affine[:3, 3] = origin
    return _Nrrd(array, affine, keys, fields)


def _nrrd_type(dtype) -> str:
    names = {
        np.uint8: "unsigned char",
        np.int8: "signed char",
        np.uint16: "unsigned short",
        np.int16: "short",
        np.uint32: "unsigned int",
        np.int32: "int",
        np.float32: "float",
        np.float64: "double",
    }
    for t, name in names.items():
        if np.dtype(dtype) == np.dtype(t):
            return name
    raise InputError(f"cannot write {dtype} voxels to NRRD")


def _write_nrrd(path, layers, grid: Grid, extra: list, compress: bool = True) -> None:
    """One NRRD: a 3D volume, or a list axis first when several layers are given."""
    k, r, c = grid.shape
    dtype = np.result_type(*[a.dtype for a in layers])

    def vec(v) -> str:
        return "(" + ",".join(repr(float(x)) for x in v) + ")"

    col, row, sl = grid.affine[:3, 2], grid.affine[:3, 1], grid.affine[:3, 0]
    if len(layers) == 1:
        head = [
            "dimension: 3",
            f"sizes: {c} {r} {k}",
            f"space directions: {vec(col)} {vec(row)} {vec(sl)}",
            "kinds: domain domain domain",
        ]
    else:
        head = [
            "dimension: 4",
            f"sizes: {len(layers)} {c} {r} {k}",
            f"space directions: none {vec(col)} {vec(row)} {vec(sl)}",
            "kinds: list domain domain domain",
        ]
    lines = [
        "NRRD0004",
        "# written by dicomai",
        f"type: {_nrrd_type(dtype)}",
        head[0],  # dimension
        "space: left-posterior-superior",  # teem needs the space before its directions
        *head[1:],
        "endian: little",
        f"encoding: {'gzip' if compress else 'raw'}",
        f"space origin: {vec(grid.origin)}",
        *extra,
    ]
    little = np.dtype(dtype).newbyteorder("<")
    with open(os.fspath(path), "wb") as f:
        f.write(("\n".join(lines) + "\n\n").encode("utf-8"))
        out = gzip.GzipFile(fileobj=f, mode="wb", compresslevel=1, mtime=0) if compress else f
        try:
            for z in range(k):  # slice by slice: no full-size temporary
                if len(layers) == 1:
                    chunk = np.ascontiguousarray(layers[0][z], dtype=little)
                else:
                    chunk = np.stack([a[z].astype(little, copy=False) for a in layers], axis=-1)
                out.write(chunk.tobytes())
        finally:
            if compress:
                out.close()


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
    try:
        nrrd = _read_nrrd(p)
    except _NrrdUnsupported as e:
        raise InputError(f"{str(p)!r}: unsupported NRRD ({e}); save it again from Slicer as .seg.nrrd") from e
    keys = nrrd.keys
    if nrrd.array.ndim not in (3, 4) or nrrd.affine is None:
        raise InputError(f"{str(p)!r}: a {nrrd.array.ndim}D NRRD is not a segmentation")
    stack = nrrd.array if nrrd.array.ndim == 4 else nrrd.array[None]
    out_dtype = np.uint8 if stack.dtype.itemsize == 1 else np.uint16
    layers = [np.ascontiguousarray(a, dtype=out_dtype) for a in stack]
    grid = Grid(layers[0].shape, nrrd.affine)
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

    used = sorted({s.layer for s in content.segments}) or [0]
    remap = {li: i for i, li in enumerate(used)}
    layers = [content.layers[li] for li in used]
    k, r, c = content.grid.shape
    extra = []
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
        extra += [
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
    extra += [
        "Segmentation_ContainedRepresentationNames:=Binary labelmap|",
        "Segmentation_MasterRepresentation:=Binary labelmap",
        "Segmentation_ReferenceImageExtentOffset:=0 0 0",
    ]
    _write_nrrd(path, layers, content.grid, extra, compress)
