"""Single-frame CT, MR and PET sample series, one standard-conformant file per slice.

Every Type 1 and Type 2 attribute of the IOD is filled, so dciodvfy reports no errors.
:func:`write_series` takes the pixels, the grid and a :class:`SeriesOptions`.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, NamedTuple, Optional, Sequence, Union

import numpy as np

from dicomai.geometry import Grid

from ._dicom import ds_string, uid_factory, write_file
from ._modalities import set_ct_image, set_mr_image, set_pet

__all__ = ["DEFAULT_DATETIME", "SeriesInfo", "SeriesOptions", "write_series"]

PathLike = Union[str, "os.PathLike[str]"]

#: Default acquisition date and time of synthetic series (fixed, so that output is reproducible).
DEFAULT_DATETIME = datetime.datetime(2024, 1, 15, 9, 30, 0)

_SOP_CLASSES = {
    "CT": "1.2.840.10008.5.1.4.1.1.2",  # CT Image Storage
    "MR": "1.2.840.10008.5.1.4.1.1.4",  # MR Image Storage
    "PT": "1.2.840.10008.5.1.4.1.1.128",  # Positron Emission Tomography Image Storage
}

_FILE_NAME_MODES = ("random", "instance", "slice", "sop")


@dataclass(frozen=True)
class SeriesOptions:
    """How :func:`write_series` writes a series; checked once, on construction.

    Attributes
    ----------
    modality : str
        ``"CT"`` (CT Image Storage), ``"MR"`` (MR Image Storage) or ``"PT"``/``"PET"`` (Positron
        Emission Tomography Image Storage, Units BQML, decay corrected to the series start, with
        the attributes SUV computation needs: PatientWeight, RadionuclideTotalDose,
        RadionuclideHalfLife, RadiopharmaceuticalStartTime). Sets Modality (0008,0060) and
        SOPClassUID (0008,0016); stored upper case, ``"PET"`` as ``"PT"``.
    patient_name, patient_id : str
        PatientName (0010,0010), PatientID (0010,0020).
    study_uid, series_uid, frame_of_reference_uid : str, optional
        Reuse existing StudyInstanceUID (0020,000D), SeriesInstanceUID (0020,000E),
        FrameOfReferenceUID (0020,0052), e.g. for several series of one study; new by default.
    series_description : str, optional
        SeriesDescription (0008,103E); "Synthetic <modality> <columns>x<rows>x<slices>" by default.
    series_number : int
        SeriesNumber (0020,0011).
    study_description, study_id, accession_number : str
        StudyDescription (0008,1030), StudyID (0020,0010), AccessionNumber (0008,0050).
    acquisition_datetime : datetime.datetime, optional
        Study, series, acquisition, content and instance creation date/time (default
        :data:`DEFAULT_DATETIME`); PatientAge counts from a 1970 birth date.
    rescale_slope : float or sequence of float, optional
        RescaleSlope (0028,1053), CT and PT only: one value, or one per slice. Default 1.
    rescale_intercept : float, optional
        RescaleIntercept (0028,1052), CT and PT only; default 0 (so CT stored values are
        Hounsfield units). PET RescaleIntercept must be 0.
    file_names : str or callable
        ``"random"``: 16 random hex digits + ``.dcm``, deterministic for ``seed`` and never
        sorted in slice order (nor reverse slice order when there are 3 or more slices);
        ``"instance"``: ``IM00001.dcm`` by InstanceNumber; ``"slice"``: ``slice_0000.dcm`` by
        slice index; ``"sop"``: the SOPInstanceUID + ``.dcm``; or a callable
        ``(k, dataset) -> file name``.
    reverse_instance_numbers : bool
        InstanceNumber (0020,0013) ``n..1`` in slice order instead of ``1..n``, to prove readers
        sort by position and not by InstanceNumber.
    seed : int
        Seeds the random file names.
    uid_seed : object, optional
        When given, every UID (study, series, frame of reference, instances) is derived from it
        deterministically; by default UIDs are new on each call.
    attributes : mapping, optional
        Extra ``{keyword: value}`` set on every file last (overrides the defaults).

    Raises
    ------
    ValueError
        Unknown modality or file-name mode, a rescale for MR, a PET intercept other than 0.
    """

    modality: str = "CT"
    patient_name: str = "Phantom^Synthetic"
    patient_id: str = "DICOMAI-SYN-0001"
    study_uid: Optional[str] = None
    series_uid: Optional[str] = None
    frame_of_reference_uid: Optional[str] = None
    series_description: Optional[str] = None
    series_number: int = 1
    study_description: str = "Synthetic abdomen"
    study_id: str = "1"
    accession_number: str = "SYN0001"
    acquisition_datetime: Optional[datetime.datetime] = None
    rescale_slope: Optional[Union[float, Sequence[float]]] = None
    rescale_intercept: Optional[float] = None
    file_names: Union[str, Callable[[int, object], str]] = "random"
    reverse_instance_numbers: bool = False
    seed: int = 0
    uid_seed: Optional[object] = None
    attributes: Optional[Mapping[str, object]] = None

    def __post_init__(self) -> None:
        modality = str(self.modality).upper()
        modality = "PT" if modality == "PET" else modality
        if modality not in _SOP_CLASSES:
            raise ValueError(f"modality {self.modality!r} is not supported: use 'CT', 'MR' or 'PT'")
        object.__setattr__(self, "modality", modality)
        if not callable(self.file_names) and self.file_names not in _FILE_NAME_MODES:
            raise ValueError(
                f"file_names {self.file_names!r} is unknown: use one of {', '.join(_FILE_NAME_MODES)} "
                "or a callable (k, dataset) -> name"
            )
        if modality == "MR" and (self.rescale_slope is not None or self.rescale_intercept is not None):
            raise ValueError("MR Image Storage has no rescale: leave rescale_slope/intercept unset")
        if modality == "PT" and self.rescale_intercept is not None and float(self.rescale_intercept) != 0.0:
            raise ValueError("PET RescaleIntercept must be 0 (PS3.3 C.8.9.4.1.2)")


@dataclass
class SeriesInfo:
    """What :func:`write_series` wrote.

    Attributes
    ----------
    folder:
        The output folder.
    files:
        Paths of the written files in slice order (``k = 0`` first).
    sop_instance_uids:
        SOPInstanceUID of each slice, in slice order.
    study_instance_uid, series_instance_uid, frame_of_reference_uid:
        UIDs shared by all files.
    sop_class_uid:
        CT, MR or PET Image Storage.
    modality:
        ``"CT"``, ``"MR"`` or ``"PT"``.
    grid:
        The grid the series was written on.
    instance_numbers:
        InstanceNumber of each slice, in slice order.
    """

    folder: Path
    files: list
    sop_instance_uids: list
    study_instance_uid: str
    series_instance_uid: str
    frame_of_reference_uid: str
    sop_class_uid: str
    modality: str
    grid: Grid
    instance_numbers: list


class _Uids(NamedTuple):
    study: str
    series: str
    frame_of_reference: str
    instances: list


class _PerSlice(NamedTuple):
    """What differs between the slices: SOPInstanceUID, InstanceNumber, RescaleSlope."""

    sop_instance_uids: list
    instance_numbers: list
    slopes: Optional[np.ndarray]


def write_series(
    folder: PathLike, volume, grid: Grid, options: Optional[SeriesOptions] = None, **fields
) -> SeriesInfo:
    """Write a single-frame CT, MR or PET image series, one file per slice.

    Parameters
    ----------
    folder:
        Output folder (created when missing). Existing files with other names are left alone.
    volume:
        ``(slices, rows, columns)`` stored pixel values, int16 (signed) or uint16. Modality values
        are ``stored * rescale_slope + rescale_intercept`` (CT and PT).
    grid:
        Geometry: ImagePositionPatient of slice ``k`` is ``grid.slice_position(k)``; all slices
        share ImageOrientationPatient and PixelSpacing. :func:`~dicomai_samples.make_grid` grids
        step along the plane normal; a grid stepping against it is written as given (readers that
        sort along the normal then see the slices in the opposite order).
    options:
        Identity, acquisition, rescale and file naming (:class:`SeriesOptions`; defaults when
        omitted).
    **fields:
        :class:`SeriesOptions` fields that replace those of ``options``, e.g.
        ``write_series(folder, ct, grid, modality="MR", uid_seed="case-1")``.

    Returns
    -------
    SeriesInfo
        Files and UIDs in slice order, and the grid.

    Raises
    ------
    ValueError, TypeError
        Bad options (see :class:`SeriesOptions`), a volume that does not fit the grid or int16, or
        slopes that are not one per slice. Nothing is written then.
    """
    from dicomai import __version__

    opts = options or SeriesOptions()
    if fields:
        opts = dataclasses.replace(opts, **fields)
    if not isinstance(grid, Grid):
        raise TypeError(f"grid must be a dicomai.geometry.Grid, got {type(grid).__name__}")
    arr = _check_volume(volume, grid)
    slopes = _slopes(opts, grid.shape[0])
    uids = _make_uids(opts, grid.shape[0])
    numbers = _instance_numbers(opts, grid.shape[0])
    ds = _series_dataset(opts, grid, arr, uids, str(__version__))
    files = _write_slices(Path(folder), ds, arr, grid, opts, _PerSlice(uids.instances, numbers, slopes))
    return SeriesInfo(
        folder=Path(folder),
        files=files,
        sop_instance_uids=uids.instances,
        study_instance_uid=uids.study,
        series_instance_uid=uids.series,
        frame_of_reference_uid=uids.frame_of_reference,
        sop_class_uid=_SOP_CLASSES[opts.modality],
        modality=opts.modality,
        grid=grid,
        instance_numbers=numbers,
    )


def _check_volume(volume, grid: Grid) -> np.ndarray:
    arr = np.asarray(volume)
    if arr.ndim != 3:
        raise ValueError(f"volume must be a 3D array (slices, rows, columns), got shape {arr.shape}")
    if tuple(arr.shape) != tuple(grid.shape):
        raise ValueError(f"volume shape {arr.shape} does not match the grid shape {grid.shape}")
    if arr.dtype in (np.int16, np.uint16):
        return arr
    if arr.dtype == bool or np.issubdtype(arr.dtype, np.integer):
        if arr.size and (arr.min() < -32768 or arr.max() > 32767):
            raise ValueError(
                f"volume values {arr.min()}..{arr.max()} do not fit int16: rescale them and pass "
                "rescale_slope / rescale_intercept"
            )
        return arr.astype(np.int16)
    raise TypeError(
        f"volume must hold integers (stored pixel values, int16 or uint16), got {arr.dtype}: "
        "round and rescale floating-point data first"
    )


def _slopes(opts: SeriesOptions, n: int) -> Optional[np.ndarray]:
    """RescaleSlope of each slice (None for MR, which has no rescale)."""
    if opts.modality == "MR":
        return None
    s = 1.0 if opts.rescale_slope is None else opts.rescale_slope
    slopes = np.broadcast_to(np.asarray(s, dtype=float), (n,)) if np.ndim(s) == 0 else np.asarray(s, float)
    if slopes.shape != (n,):
        raise ValueError(f"rescale_slope must be one value or one per slice ({n}), got {len(slopes)}")
    return slopes


def _make_uids(opts: SeriesOptions, n: int) -> _Uids:
    uid = uid_factory(opts.uid_seed)
    study = str(opts.study_uid) if opts.study_uid else uid("study", opts.patient_id)
    series = (
        str(opts.series_uid)
        if opts.series_uid
        else uid("series", opts.patient_id, opts.series_number, opts.modality)
    )
    frame_of_reference = (
        str(opts.frame_of_reference_uid) if opts.frame_of_reference_uid else uid("for", study)
    )
    return _Uids(study, series, frame_of_reference, [uid("instance", series, k) for k in range(n)])


def _instance_numbers(opts: SeriesOptions, n: int) -> list:
    return list(range(n, 0, -1)) if opts.reverse_instance_numbers else list(range(1, n + 1))


def _series_dataset(opts: SeriesOptions, grid: Grid, arr: np.ndarray, uids: _Uids, version: str):
    """The attributes every slice shares (SOP Common to Image Pixel, and the modality's modules)."""
    from pydicom.dataset import Dataset

    when = opts.acquisition_datetime or DEFAULT_DATETIME
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = _SOP_CLASSES[opts.modality]
    _set_patient_and_study(ds, opts, uids, when)
    _set_series_and_equipment(ds, opts, grid, uids, version)
    _set_image(ds, grid, arr, when)
    _set_modality_modules(ds, opts, grid, when)
    for keyword, value in (opts.attributes or {}).items():
        setattr(ds, keyword, value)
    return ds


def _set_patient_and_study(ds, opts: SeriesOptions, uids: _Uids, when: datetime.datetime) -> None:
    """SOP Common dates, Patient, General Study and Patient Study modules."""
    date, time = when.strftime("%Y%m%d"), when.strftime("%H%M%S")
    ds.InstanceCreationDate = date
    ds.InstanceCreationTime = time
    ds.PatientName = opts.patient_name
    ds.PatientID = opts.patient_id
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyInstanceUID = uids.study
    ds.StudyDate = date
    ds.StudyTime = time
    ds.ReferringPhysicianName = ""
    ds.StudyID = opts.study_id
    ds.AccessionNumber = opts.accession_number
    ds.StudyDescription = opts.study_description
    ds.PatientAge = f"{max(0, when.year - 1970):03d}Y"
    ds.PatientSize = "1.75"
    ds.PatientWeight = "70"


def _set_series_and_equipment(ds, opts: SeriesOptions, grid: Grid, uids: _Uids, version: str) -> None:
    """General Series, Frame of Reference and General Equipment modules."""
    n, rows, cols = grid.shape
    when = opts.acquisition_datetime or DEFAULT_DATETIME
    ds.Modality = opts.modality
    ds.SeriesInstanceUID = uids.series
    ds.SeriesNumber = int(opts.series_number)
    ds.SeriesDate = when.strftime("%Y%m%d")
    ds.SeriesTime = when.strftime("%H%M%S")
    ds.SeriesDescription = (
        opts.series_description
        if opts.series_description is not None
        else f"Synthetic {opts.modality} {cols}x{rows}x{n}"
    )
    ds.BodyPartExamined = "ABDOMEN"
    if opts.modality != "PT":  # PET carries PatientOrientationCodeSequence instead
        ds.PatientPosition = "HFS"
    ds.FrameOfReferenceUID = uids.frame_of_reference
    ds.PositionReferenceIndicator = ""
    ds.Manufacturer = "DicomAI"
    ds.InstitutionName = "DicomAI synthetic data"
    ds.StationName = "SYNTHETIC"
    ds.ManufacturerModelName = "dicomai.synthetic"  # kept: the golden digests and peers' files carry it
    ds.DeviceSerialNumber = "0"
    ds.SoftwareVersions = version


def _set_image(ds, grid: Grid, arr: np.ndarray, when: datetime.datetime) -> None:
    """General Acquisition, General Image, Image Plane and Image Pixel modules."""
    date, time = when.strftime("%Y%m%d"), when.strftime("%H%M%S")
    _, spacing_r, spacing_c = grid.spacing
    ds.AcquisitionNumber = 1
    ds.AcquisitionDate = date
    ds.AcquisitionTime = time
    ds.ContentDate = date
    ds.ContentTime = time
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    ds.ImageOrientationPatient = [ds_string(v) for v in grid.image_orientation]
    ds.PixelSpacing = [ds_string(spacing_r), ds_string(spacing_c)]
    ds.SliceThickness = ds_string(_slice_thickness(grid))
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = grid.shape[1]
    ds.Columns = grid.shape[2]
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1 if arr.dtype == np.int16 else 0


def _slice_thickness(grid: Grid) -> float:
    return abs(float(grid.affine[:3, 0] @ grid.normal)) or grid.spacing[0]


def _set_modality_modules(ds, opts: SeriesOptions, grid: Grid, when: datetime.datetime) -> None:
    n, rows, cols = grid.shape
    _, spacing_r, spacing_c = grid.spacing
    if opts.modality == "CT":
        intercept = 0.0 if opts.rescale_intercept is None else float(opts.rescale_intercept)
        set_ct_image(ds, intercept, max(rows * spacing_r, cols * spacing_c))
    elif opts.modality == "MR":
        set_mr_image(ds, _slice_thickness(grid))
    else:
        set_pet(ds, n, when)


def _write_slices(out: Path, ds, arr: np.ndarray, grid: Grid, opts: SeriesOptions, each: _PerSlice) -> list:
    """Write one file per slice from the shared dataset ``ds``; returns the paths in slice order."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    uids, numbers = each.sop_instance_uids, each.instance_numbers
    out.mkdir(parents=True, exist_ok=True)
    names = _file_names(opts.file_names, grid.shape[0], opts.seed, uids, numbers)
    positions = grid.slice_positions()
    files = []
    for k in range(grid.shape[0]):
        ds.SOPInstanceUID = uids[k]
        ds.InstanceNumber = numbers[k]
        ds.ImagePositionPatient = [ds_string(v) for v in positions[k]]
        ds.SliceLocation = ds_string(float(positions[k] @ grid.normal))
        if each.slopes is not None:
            ds.RescaleSlope = ds_string(each.slopes[k])
        if opts.modality == "PT":
            ds.ImageIndex = numbers[k]
        ds.PixelData = np.ascontiguousarray(arr[k]).astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = _SOP_CLASSES[opts.modality]
        meta.MediaStorageSOPInstanceUID = uids[k]
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta = meta
        path = out / (opts.file_names(k, ds) if callable(opts.file_names) else names[k])
        write_file(path, ds)
        files.append(str(path))
    return files


def _file_names(mode, n: int, seed: int, sop_uids: list, instance_numbers: list) -> list:
    if callable(mode):
        return []
    if mode == "instance":
        return [f"IM{i:05d}.dcm" for i in instance_numbers]
    if mode == "slice":
        return [f"slice_{k:04d}.dcm" for k in range(n)]
    if mode == "sop":
        return [f"{u}.dcm" for u in sop_uids]
    rng = np.random.default_rng(seed)
    names: set = set()
    while len(names) < n:
        names.add(rng.bytes(8).hex().upper())
    ordered = sorted(names)
    identity = np.arange(n)
    # a permutation that is neither slice order nor (for 3+ slices) reverse slice order
    perm = identity
    for _ in range(1000):
        perm = rng.permutation(n)
        if n < 2:
            break
        if np.array_equal(perm, identity):
            continue
        if n >= 3 and np.array_equal(perm, identity[::-1]):
            continue
        break
    return [ordered[i] + ".dcm" for i in perm]
