"""Reading a source image series (the CT/MR/PT a segmentation or report refers to).

Only headers are read (``stop_before_pixels``); the pixel data of the source is never needed to
write a SEG or SR. Slices are ordered by their position along the plane normal, never by file name
or InstanceNumber.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

import numpy as np

from .errors import SourceSeriesError
from .geometry import Grid

__all__ = ["SourceSeries", "read_source_series", "list_dicom_files", "NON_IMAGE_MODALITIES"]

PathLike = Union[str, "os.PathLike[str]"]

#: Modalities of objects that are not images and are skipped when looking for a source series.
NON_IMAGE_MODALITIES = frozenset(
    {"SEG", "SR", "KO", "PR", "REG", "RWV", "RTSTRUCT", "RTPLAN", "RTDOSE", "RTRECORD", "DOC", "FID"}
)

# Slice positions may scatter by this fraction of the mean spacing before the series is called
# non-uniform (scanners write positions with a few decimals).
_SPACING_TOLERANCE = 0.01


@dataclass
class SourceSeries:
    """A single-frame image series sorted along its slice normal.

    Attributes
    ----------
    files:
        Paths of the slices, in slice order (``k = 0`` first).
    datasets:
        Their headers (no pixel data), same order.
    grid:
        Voxel lattice of the series.
    """

    files: list
    datasets: list
    grid: Grid
    warnings: list = field(default_factory=list)
    uniform: bool = True
    #: When slices are missing: the regular lattice of every slice position, missing ones included
    #: (``grid`` then places the present slices by index). None otherwise.
    lattice: Optional[Grid] = None
    #: When slices are missing: one line naming the gap(s).
    missing_slices: str = ""

    @property
    def first(self):
        """Header of the first slice (patient, study and series attributes)."""
        return self.datasets[0]

    @property
    def sop_instance_uids(self) -> list:
        return [str(ds.SOPInstanceUID) for ds in self.datasets]

    @property
    def sop_class_uid(self) -> str:
        return str(self.first.SOPClassUID)

    @property
    def series_instance_uid(self) -> str:
        return str(self.first.SeriesInstanceUID)

    @property
    def study_instance_uid(self) -> str:
        return str(self.first.StudyInstanceUID)

    @property
    def frame_of_reference_uid(self):
        v = self.first.get("FrameOfReferenceUID")
        return str(v) if v else None

    @property
    def modality(self) -> str:
        return str(self.first.get("Modality", ""))

    @property
    def has_plane_geometry(self) -> bool:
        """False for projection images (CR, DX...) that carry no ImagePositionPatient."""
        return "ImagePositionPatient" in self.first and "ImageOrientationPatient" in self.first

    @property
    def positions(self) -> np.ndarray:
        """``(slices, 3)`` ImagePositionPatient of every slice as written in the files."""
        if not self.has_plane_geometry:
            return self.grid.slice_positions()
        return np.asarray([[float(v) for v in ds.ImagePositionPatient] for ds in self.datasets])

    def index_of(self, sop_instance_uid: str) -> int:
        """Slice index of an instance, or ``-1``."""
        try:
            return self.sop_instance_uids.index(str(sop_instance_uid))
        except ValueError:
            return -1

    def describe(self) -> str:
        desc = self.first.get("SeriesDescription", "")
        return (
            f"{self.modality} series {self.series_instance_uid}"
            + (f" ({desc!r})" if desc else "")
            + f", {len(self.files)} slice(s), {self.grid.describe()}"
        )


def list_dicom_files(paths: Union[PathLike, Iterable[PathLike]]) -> list:
    """Expand folders (recursively) and files into a sorted list of file paths.

    Hidden files and DICOMDIR are skipped; nothing is opened here.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for root, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for n in sorted(names):
                    if n.startswith(".") or n.upper() == "DICOMDIR":
                        continue
                    out.append(str(Path(root) / n))
        elif p.is_file() and _is_dicomdir(p):
            out.extend(_dicomdir_files(p))
        elif p.is_file():
            out.append(str(p))
        else:
            raise SourceSeriesError(f"source {str(p)!r} does not exist: give a folder or DICOM files")
    return out


def _is_dicomdir(p: Path) -> bool:
    if p.name.upper() == "DICOMDIR":
        return True
    try:
        with open(p, "rb") as f:
            head = f.read(400)
    except OSError:
        return False
    return head[128:132] == b"DICM" and b"1.2.840.10008.1.3.10" in head


def _dicomdir_files(p: Path) -> list:
    """The image files a DICOMDIR references (its IMAGE records), as paths."""
    import pydicom

    try:
        ds = pydicom.dcmread(str(p))
    except Exception as e:
        raise SourceSeriesError(f"source {str(p)!r}: unreadable DICOMDIR ({e})") from e
    out = []
    for rec in ds.get("DirectoryRecordSequence", []):
        ref = rec.get("ReferencedFileID")
        if not ref:
            continue
        parts = [ref] if isinstance(ref, str) else list(ref)
        f = p.parent.joinpath(*[str(x) for x in parts])
        if f.is_file():
            out.append(str(f))
    if not out:
        raise SourceSeriesError(f"source {str(p)!r}: the DICOMDIR references no file that exists beside it")
    return out


def _read_header(path: str):
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        return pydicom.dcmread(path, stop_before_pixels=True)
    except (InvalidDicomError, OSError, EOFError, ValueError):
        return None


def read_source_series(
    source: Union[PathLike, Sequence[PathLike]],
    allow_nonuniform: bool = False,
    series_uid: Optional[str] = None,
    refuse_missing_slices: bool = False,
) -> SourceSeries:
    """Read the headers of one single-frame image series and sort it along the slice normal.

    Parameters
    ----------
    source:
        A folder (searched recursively) or a list of files/folders. Non-DICOM files and
        non-image objects (SEG, SR, ...) are ignored.
    allow_nonuniform:
        Accept slices that are not evenly spaced (for reading objects that reference them by
        instance); the grid then has the mean spacing, ``uniform`` is False and a warning says so.
    series_uid:
        The SeriesInstanceUID to use when the source holds several series.
    refuse_missing_slices:
        Refuse a series with missing slices (gaps of whole multiples of the slice spacing) even
        with ``allow_nonuniform``; the error names the gap. Without it such a series is accepted
        with ``allow_nonuniform`` and ``lattice`` holds the full regular grid.

    Raises
    ------
    SourceSeriesError
        No image found; more than one series; mixed frames of reference, orientations or
        image sizes; multi-frame images; duplicate or non-uniformly spaced slice positions.
    """
    if isinstance(source, (str, os.PathLike)):
        label = str(source)
    else:
        label = str(source[0]) if len(source) == 1 else f"{len(source)} path(s)"
    files = list_dicom_files(source)
    images = []
    skipped_objects = 0
    for f in files:
        ds = _read_header(f)
        if ds is None or "SOPInstanceUID" not in ds:
            continue
        if str(ds.get("Modality", "")).upper() in NON_IMAGE_MODALITIES or "Rows" not in ds:
            skipped_objects += 1
            continue
        images.append((f, ds))
    if not images:
        what = f"{len(files)} file(s)"
        if skipped_objects:
            what += f", {skipped_objects} of them non-image DICOM objects"
        raise SourceSeriesError(
            f"no DICOM images in source {label} ({what}): give the folder of the CT/MR/PT series"
        )

    by_series: dict = {}
    for f, ds in images:
        by_series.setdefault(str(ds.get("SeriesInstanceUID", "")), []).append((f, ds))

    def listing() -> str:
        parts = []
        for uid, its in by_series.items():
            ds0 = its[0][1]
            parts.append(
                f"--series {uid} ({ds0.get('Modality', '?')}, {ds0.get('SeriesDescription', '')!r}, "
                f"{len(its)} image(s))"
            )
        return "; ".join(parts)

    if series_uid is not None:
        if str(series_uid) not in by_series:
            raise SourceSeriesError(f"source {label} holds no series {series_uid}; it holds: {listing()}")
        by_series = {str(series_uid): by_series[str(series_uid)]}
    if len(by_series) > 1:
        raise SourceSeriesError(
            f"source {label} holds {len(by_series)} image series; pick one with {listing()}"
        )
    items = next(iter(by_series.values()))

    frames = [int(ds.get("NumberOfFrames", 1) or 1) for _, ds in items]
    if max(frames) > 1:
        raise SourceSeriesError(
            f"source {label} holds multi-frame images ({max(frames)} frames): only single-frame "
            "series are supported as source; convert it to single-frame first"
        )
    fors = sorted({str(ds.get("FrameOfReferenceUID", "")) for _, ds in items})
    if len(fors) > 1:
        raise SourceSeriesError(
            f"source {label} mixes {len(fors)} frames of reference ({', '.join(fors)}): "
            "give images from one frame of reference"
        )
    sizes = sorted({(int(ds.Rows), int(ds.Columns)) for _, ds in items})
    if len(sizes) > 1:
        raise SourceSeriesError(f"source {label} mixes image sizes {sizes}: images must share one size")

    has_geometry = all("ImagePositionPatient" in ds and "ImageOrientationPatient" in ds for _, ds in items)
    if not has_geometry:
        return _projection_series(items, label)
    return _volume_series(items, label, allow_nonuniform, refuse_missing_slices)


def _pixel_spacing(ds) -> list:
    for kw in ("PixelSpacing", "ImagerPixelSpacing"):
        v = ds.get(kw)
        if v and len(v) == 2:
            return [float(v[0]), float(v[1])]
    return [1.0, 1.0]


def _missing_slices(gaps: np.ndarray, items, dist) -> tuple:
    """``(spacing, description)`` when the uneven gaps are whole multiples (2 or more) of the
    smallest regular spacing, i.e. slices are missing; ``(None, "")`` otherwise."""
    step = float(np.median(gaps))
    ratio = gaps / step
    whole = np.round(ratio)
    if (
        step <= 0
        or np.max(np.abs(ratio - whole)) > _SPACING_TOLERANCE * 5
        or whole.max() < 2
        or whole.min() < 1
    ):
        return None, ""
    parts = []
    for i in np.flatnonzero(whole >= 2):
        n = int(whole[i]) - 1
        parts.append(
            f"{n} slice(s) missing between {Path(items[i][0]).name} and {Path(items[i + 1][0]).name} "
            f"({dist[i]:.2f} and {dist[i + 1]:.2f} mm along the normal: a gap of {gaps[i]:.4g} mm, "
            f"spacing {step:.4g} mm)"
        )
    return step, "; ".join(parts)


def _volume_series(items, label, allow_nonuniform=False, refuse_missing_slices=False) -> SourceSeries:
    ds0 = items[0][1]
    iop = np.asarray([float(v) for v in ds0.ImageOrientationPatient])
    for f, ds in items[1:]:
        other = np.asarray([float(v) for v in ds.ImageOrientationPatient])
        if not np.allclose(other, iop, atol=1e-4):
            raise SourceSeriesError(
                f"source {label}: {f} has ImageOrientationPatient {list(other)} but the series "
                f"has {list(iop)}; slices of one volume must share one orientation"
            )
    normal = np.cross(iop[:3], iop[3:])
    positions = np.asarray([[float(v) for v in ds.ImagePositionPatient] for _, ds in items])
    dist = positions @ normal
    order = np.argsort(dist, kind="stable")
    items = [items[i] for i in order]
    positions, dist = positions[order], dist[order]
    warnings = []
    uniform = True
    lattice = None
    missing = ""
    if len(items) > 1:
        gaps = np.diff(dist)
        if np.any(gaps < 1e-3):
            i = int(np.argmin(gaps))
            raise SourceSeriesError(
                f"source {label}: {items[i][0]} and {items[i + 1][0]} lie at the same position "
                f"along the slice normal ({dist[i]:.3f} mm); the series holds several volumes "
                "(echoes, phases, time points): give the files of one volume"
            )
        mean = float(np.mean(gaps))
        irregular = np.max(np.abs(gaps - mean)) > _SPACING_TOLERANCE * mean + 1e-3
        step, missing = _missing_slices(gaps, items, dist) if irregular else (None, "")
        if missing and (refuse_missing_slices or not allow_nonuniform):
            raise SourceSeriesError(
                f"source {label}: slice spacing is not uniform, {missing}. A regular series is needed: give "
                "the complete series, or pass --allow-missing-slices (docs/nifti.md)"
            )
        if irregular and allow_nonuniform:
            uniform = False
            warnings.append(
                f"source {label}: slice spacing is not uniform ({gaps.min():.4f} to {gaps.max():.4f} mm); "
                "slices are used by index, the grid has the mean spacing"
            )
            if missing:
                count = int(round((dist[-1] - dist[0]) / step)) + 1
                vector = (positions[-1] - positions[0]) / (count - 1)
                lattice = Grid.from_dicom(
                    positions[0], iop, _pixel_spacing(ds0), vector, (count, int(ds0.Rows), int(ds0.Columns))
                )
        elif irregular:
            raise SourceSeriesError(
                f"source {label}: slice spacing is not uniform (from {gaps.min():.4f} to "
                f"{gaps.max():.4f} mm along the normal); a regular grid is needed"
            )
        slice_vector = (positions[-1] - positions[0]) / (len(items) - 1)
    else:
        thickness = ds0.get("SpacingBetweenSlices") or ds0.get("SliceThickness") or 1.0
        slice_vector = normal * float(thickness)
    ps = _pixel_spacing(ds0)
    grid = Grid.from_dicom(positions[0], iop, ps, slice_vector, (len(items), int(ds0.Rows), int(ds0.Columns)))
    return SourceSeries(
        files=[f for f, _ in items],
        datasets=[ds for _, ds in items],
        grid=grid,
        warnings=warnings,
        uniform=uniform,
        lattice=lattice,
        missing_slices=missing,
    )


def _projection_series(items, label) -> SourceSeries:
    """Images without plane geometry (CR, DX, XA...): InstanceNumber order, unit geometry."""
    if len(items) > 1:
        items = sorted(items, key=lambda t: int(t[1].get("InstanceNumber", 0) or 0))
    ds0 = items[0][1]
    ps = _pixel_spacing(ds0)
    grid = Grid.from_dicom(
        [0.0, 0.0, 0.0],
        [1, 0, 0, 0, 1, 0],
        ps,
        [0.0, 0.0, 1.0],
        (len(items), int(ds0.Rows), int(ds0.Columns)),
    )
    return SourceSeries(
        files=[f for f, _ in items],
        datasets=[ds for _, ds in items],
        grid=grid,
        warnings=[f"source {label} has no plane geometry (projection images): positions are nominal"],
    )
