"""Synthetic, standard-conformant DICOM image series and phantoms.

Used by the tests, the demo and the benchmarks, so that none of them needs patient data:

- :func:`make_grid` builds a :class:`~dicomai.geometry.Grid` (axial, sagittal, coronal, oblique or
  any ImageOrientationPatient);
- :func:`write_series` writes a single-frame CT, MR or PET series on a grid (one file per slice,
  every Type 1 and Type 2 attribute of the IOD filled, so dciodvfy reports no errors);
- :func:`phantom` makes an abdominal CT-like volume with a liver, spleen, both kidneys and a liver
  lesion, its label map and segment descriptions with SNOMED CT codes;
- :func:`many_segments_labelmap` makes a TotalSegmentator-like label map with many segments;
- :func:`dcmqi_metadata` wraps segment descriptions into the JSON that dcmqi's
  ``itkimage2segimage`` reads.

Only numpy and pydicom are used here.
"""

from __future__ import annotations

import datetime
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence, Union

import numpy as np

from .geometry import Grid

__all__ = [
    "SeriesInfo",
    "dcmqi_metadata",
    "make_grid",
    "many_segments_labelmap",
    "phantom",
    "phantom_segments",
    "write_series",
]

PathLike = Union[str, "os.PathLike[str]"]

#: Default acquisition date and time of synthetic series (fixed, so that output is reproducible).
DEFAULT_DATETIME = datetime.datetime(2024, 1, 15, 9, 30, 0)

_ORIENTATIONS = ("axial", "sagittal", "coronal", "oblique")

# Oblique orientation: the axial plane turned 20 degrees about the L axis, then 15 about P.
_OBLIQUE_ANGLES_DEG = (20.0, 15.0)


# ---------------------------------------------------------------------------------------- grids
def _rotation_x(deg: float) -> np.ndarray:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _rotation_y(deg: float) -> np.ndarray:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _orientation_vectors(orientation) -> tuple:
    """``(col_dir, row_dir)`` unit vectors for a named orientation or a 6-value IOP."""
    if isinstance(orientation, str):
        name = orientation.strip().lower()
        if name == "axial":
            return np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
        if name == "sagittal":
            return np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, -1.0])
        if name == "coronal":
            return np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, -1.0])
        if name == "oblique":
            rot = _rotation_y(_OBLIQUE_ANGLES_DEG[1]) @ _rotation_x(_OBLIQUE_ANGLES_DEG[0])
            return rot[:, 0].copy(), rot[:, 1].copy()
        raise ValueError(
            f"orientation {orientation!r} is unknown: use one of {', '.join(_ORIENTATIONS)} "
            "or six ImageOrientationPatient values"
        )
    iop = np.asarray(orientation, dtype=float).ravel()
    if iop.shape != (6,) or not np.all(np.isfinite(iop)):
        raise ValueError(
            f"orientation must name a plane ({', '.join(_ORIENTATIONS)}) or give six finite "
            f"ImageOrientationPatient values, got {orientation!r}"
        )
    col_dir, row_dir = iop[:3], iop[3:]
    nc, nr = np.linalg.norm(col_dir), np.linalg.norm(row_dir)
    if abs(nc - 1.0) > 1e-4 or abs(nr - 1.0) > 1e-4 or abs(float(col_dir @ row_dir)) > 1e-4:
        raise ValueError(
            f"orientation {list(iop)} is not orthonormal (lengths {nc:.6f}, {nr:.6f}, "
            f"dot product {float(col_dir @ row_dir):.6f}): give two perpendicular unit vectors"
        )
    return col_dir / nc, row_dir / nr


def make_grid(
    shape: Sequence[int] = (20, 64, 64),
    spacing: Sequence[float] = (2.5, 0.8, 0.8),
    origin: Optional[Sequence[float]] = None,
    orientation: Union[str, Sequence[float]] = "axial",
) -> Grid:
    """Build a regular grid for a synthetic series.

    Parameters
    ----------
    shape:
        ``(slices, rows, columns)``.
    spacing:
        ``(slice, row, column)`` spacing in mm.
    origin:
        LPS position (mm) of voxel ``(0, 0, 0)``, i.e. ImagePositionPatient of the first slice.
        By default the grid is centred on the LPS origin.
    orientation:
        ``"axial"`` (column index grows to L, row index to P: IOP ``1,0,0,0,1,0``),
        ``"sagittal"`` (IOP ``0,1,0,0,0,-1``), ``"coronal"`` (IOP ``1,0,0,0,0,-1``),
        ``"oblique"`` (the axial plane rotated 20 degrees about the L axis, then 15 degrees about
        the P axis), or six ImageOrientationPatient values (column direction, then row
        direction; must be orthonormal).

    Returns
    -------
    Grid
        The slice direction is the plane normal ``col_dir x row_dir``, so that slice ``k``
        increases along the axis DICOM readers sort by.

    Raises
    ------
    ValueError
        Bad shape, non-positive spacing, unknown orientation or non-orthonormal IOP.
    """
    shape = tuple(int(v) for v in shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"shape must be 3 positive integers (slices, rows, columns), got {shape!r}")
    spacing_arr = np.asarray(spacing, dtype=float).ravel()
    if spacing_arr.shape != (3,) or not np.all(np.isfinite(spacing_arr)) or np.any(spacing_arr <= 0):
        raise ValueError(f"spacing must be 3 positive numbers (slice, row, column) in mm, got {spacing!r}")
    col_dir, row_dir = _orientation_vectors(orientation)
    normal = np.cross(col_dir, row_dir)
    affine = np.eye(4)
    affine[:3, 0] = normal * spacing_arr[0]
    affine[:3, 1] = row_dir * spacing_arr[1]
    affine[:3, 2] = col_dir * spacing_arr[2]
    if origin is None:
        centre = (np.asarray(shape, dtype=float) - 1.0) / 2.0
        affine[:3, 3] = -(affine[:3, :3] @ centre)
    else:
        o = np.asarray(origin, dtype=float).ravel()
        if o.shape != (3,) or not np.all(np.isfinite(o)):
            raise ValueError(f"origin must be 3 finite LPS coordinates in mm, got {origin!r}")
        affine[:3, 3] = o
    # tidy round-off (e.g. 6e-17 instead of 0) so that written values are clean
    affine[np.abs(affine) < 1e-12] = 0.0
    return Grid(shape, affine)


# ------------------------------------------------------------------------------- series writing
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


def _ds(value: float) -> str:
    """The shortest-rounded DS string of at most 16 characters (15 significant digits at most).

    (pydicom 3.0.2's ``format_number_as_ds`` gives 17 characters for 9.999999999999998.)
    """
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"cannot write {v!r} as a DICOM decimal string")
    if abs(v) < 1e-10:
        return "0"
    for digits in range(15, 0, -1):
        text = f"{v:.{digits}g}"
        if len(text) <= 16:
            return text
    raise ValueError(f"cannot write {v!r} in 16 characters")  # pragma: no cover


def _code_item(code):
    from pydicom.dataset import Dataset

    item = Dataset()
    item.CodeValue = code.value
    item.CodingSchemeDesignator = code.scheme_designator
    item.CodeMeaning = code.meaning
    return item


def _uid_factory(uid_seed):
    from pydicom.uid import generate_uid

    if uid_seed is None:
        return lambda *parts: generate_uid()
    return lambda *parts: generate_uid(entropy_srcs=[str(uid_seed), *[str(p) for p in parts]])


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


_SOP_CLASSES = {
    "CT": "1.2.840.10008.5.1.4.1.1.2",  # CT Image Storage
    "MR": "1.2.840.10008.5.1.4.1.1.4",  # MR Image Storage
    "PT": "1.2.840.10008.5.1.4.1.1.128",  # Positron Emission Tomography Image Storage
}

_FILE_NAME_MODES = ("random", "instance", "slice", "sop")


def write_series(
    folder: PathLike,
    volume,
    grid: Grid,
    *,
    modality: str = "CT",
    patient_name: str = "Phantom^Synthetic",
    patient_id: str = "DICOMAI-SYN-0001",
    study_uid: Optional[str] = None,
    series_uid: Optional[str] = None,
    frame_of_reference_uid: Optional[str] = None,
    series_description: Optional[str] = None,
    series_number: int = 1,
    study_description: str = "Synthetic abdomen",
    study_id: str = "1",
    accession_number: str = "SYN0001",
    acquisition_datetime: Optional[datetime.datetime] = None,
    rescale_slope: Optional[Union[float, Sequence[float]]] = None,
    rescale_intercept: Optional[float] = None,
    file_names: Union[str, Callable[[int, object], str]] = "random",
    reverse_instance_numbers: bool = False,
    seed: int = 0,
    uid_seed: Optional[object] = None,
    attributes: Optional[Mapping[str, object]] = None,
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
        share ImageOrientationPatient and PixelSpacing. :func:`make_grid` grids step along the
        plane normal; a grid stepping against it is written as given (readers that sort along
        the normal then see the slices in the opposite order).
    modality:
        ``"CT"`` (CT Image Storage), ``"MR"`` (MR Image Storage) or ``"PT"`` (Positron Emission
        Tomography Image Storage, Units BQML, decay corrected to the series start, with the
        attributes SUV computation needs: PatientWeight, RadionuclideTotalDose,
        RadionuclideHalfLife, RadiopharmaceuticalStartTime).
    patient_name, patient_id, study_description, study_id, accession_number:
        Patient and study attributes.
    study_uid, series_uid, frame_of_reference_uid:
        Reuse existing UIDs (e.g. several series of one study); new ones by default.
    series_description, series_number:
        Series attributes (the description defaults to "Synthetic <modality> ...").
    acquisition_datetime:
        Study, series, acquisition and content date/time (default :data:`DEFAULT_DATETIME`).
    rescale_slope, rescale_intercept:
        CT and PT only. Defaults 1 and 0 (so CT stored values are Hounsfield units). PET
        RescaleIntercept must be 0. ``rescale_slope`` may be one value per slice.
    file_names:
        ``"random"``: 16 random hex digits + ``.dcm``, deterministic for ``seed`` and never
        sorted in slice order (nor reverse slice order when there are 3 or more slices);
        ``"instance"``: ``IM00001.dcm`` by InstanceNumber; ``"slice"``: ``slice_0000.dcm`` by
        slice index; ``"sop"``: the SOPInstanceUID + ``.dcm``; or a callable
        ``(k, dataset) -> file name``.
    reverse_instance_numbers:
        Number instances ``n..1`` in slice order instead of ``1..n``, to prove readers sort by
        position and not by InstanceNumber.
    seed:
        Seeds the random file names.
    uid_seed:
        When given, every UID (study, series, frame of reference, instances) is derived from it
        deterministically; by default UIDs are new on each call.
    attributes:
        Extra ``{keyword: value}`` set on every file last (overrides the defaults).

    Returns
    -------
    SeriesInfo
        Files and UIDs in slice order, and the grid.
    """
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence as DicomSequence
    from pydicom.sr.codedict import codes
    from pydicom.uid import ExplicitVRLittleEndian

    from . import __version__

    modality = str(modality).upper()
    if modality == "PET":
        modality = "PT"
    if modality not in _SOP_CLASSES:
        raise ValueError(f"modality {modality!r} is not supported: use 'CT', 'MR' or 'PT'")
    if not isinstance(grid, Grid):
        raise TypeError(f"grid must be a dicomai.geometry.Grid, got {type(grid).__name__}")
    arr = _check_volume(volume, grid)
    n, rows, cols = grid.shape
    if not callable(file_names) and file_names not in _FILE_NAME_MODES:
        raise ValueError(
            f"file_names {file_names!r} is unknown: use one of {', '.join(_FILE_NAME_MODES)} "
            "or a callable (k, dataset) -> name"
        )

    # rescale
    if modality == "MR":
        if rescale_slope is not None or rescale_intercept is not None:
            raise ValueError("MR Image Storage has no rescale: leave rescale_slope/intercept unset")
        slopes = None
    else:
        s = 1.0 if rescale_slope is None else rescale_slope
        slopes = (
            np.broadcast_to(np.asarray(s, dtype=float), (n,)) if np.ndim(s) == 0 else np.asarray(s, float)
        )
        if slopes.shape != (n,):
            raise ValueError(f"rescale_slope must be one value or one per slice ({n}), got {len(slopes)}")
        intercept = 0.0 if rescale_intercept is None else float(rescale_intercept)
        if modality == "PT" and intercept != 0.0:
            raise ValueError("PET RescaleIntercept must be 0 (PS3.3 C.8.9.4.1.2)")

    uid = _uid_factory(uid_seed)
    study_uid = str(study_uid) if study_uid else uid("study", patient_id)
    series_uid = str(series_uid) if series_uid else uid("series", patient_id, series_number, modality)
    for_uid = str(frame_of_reference_uid) if frame_of_reference_uid else uid("for", study_uid)
    sop_uids = [uid("instance", series_uid, k) for k in range(n)]
    instance_numbers = list(range(n, 0, -1)) if reverse_instance_numbers else list(range(1, n + 1))

    when = acquisition_datetime or DEFAULT_DATETIME
    date, time = when.strftime("%Y%m%d"), when.strftime("%H%M%S")
    spacing_k, spacing_r, spacing_c = grid.spacing
    normal = grid.normal
    thickness = abs(float(grid.affine[:3, 0] @ normal)) or spacing_k
    sop_class = _SOP_CLASSES[modality]

    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    # SOP Common
    ds.SOPClassUID = sop_class
    ds.InstanceCreationDate = date
    ds.InstanceCreationTime = time
    # Patient
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    # General Study
    ds.StudyInstanceUID = study_uid
    ds.StudyDate = date
    ds.StudyTime = time
    ds.ReferringPhysicianName = ""
    ds.StudyID = study_id
    ds.AccessionNumber = accession_number
    ds.StudyDescription = study_description
    # Patient Study
    ds.PatientAge = f"{max(0, when.year - 1970):03d}Y"
    ds.PatientSize = "1.75"
    ds.PatientWeight = "70"
    # General Series
    ds.Modality = modality
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = int(series_number)
    ds.SeriesDate = date
    ds.SeriesTime = time
    ds.SeriesDescription = (
        series_description if series_description is not None else f"Synthetic {modality} {cols}x{rows}x{n}"
    )
    ds.BodyPartExamined = "ABDOMEN"
    if modality != "PT":  # PET carries PatientOrientationCodeSequence instead
        ds.PatientPosition = "HFS"
    # Frame of Reference
    ds.FrameOfReferenceUID = for_uid
    ds.PositionReferenceIndicator = ""
    # General Equipment
    ds.Manufacturer = "DicomAI"
    ds.InstitutionName = "DicomAI synthetic data"
    ds.StationName = "SYNTHETIC"
    ds.ManufacturerModelName = "dicomai.synthetic"
    ds.DeviceSerialNumber = "0"
    ds.SoftwareVersions = str(__version__)
    # General Acquisition / General Image
    ds.AcquisitionNumber = 1
    ds.AcquisitionDate = date
    ds.AcquisitionTime = time
    ds.ContentDate = date
    ds.ContentTime = time
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    # Image Plane
    ds.ImageOrientationPatient = [_ds(v) for v in grid.image_orientation]
    ds.PixelSpacing = [_ds(spacing_r), _ds(spacing_c)]
    ds.SliceThickness = _ds(thickness)
    # Image Pixel
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = cols
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1 if arr.dtype == np.int16 else 0

    if modality == "CT":
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.RescaleIntercept = _ds(intercept)
        ds.RescaleType = "HU"
        ds.KVP = "120"
        ds.DataCollectionDiameter = "500"
        ds.ReconstructionDiameter = _ds(max(rows * spacing_r, cols * spacing_c))
        ds.GantryDetectorTilt = "0"
        ds.TableHeight = "150"
        ds.RotationDirection = "CW"
        ds.ExposureTime = "1000"
        ds.XRayTubeCurrent = "200"
        ds.Exposure = "200"
        ds.FilterType = "BODY"
        ds.ConvolutionKernel = "STANDARD"
        ds.WindowCenter = "40"
        ds.WindowWidth = "400"
        ds.WindowCenterWidthExplanation = "ABDOMEN"
    elif modality == "MR":
        ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
        ds.ScanningSequence = "GR"
        ds.SequenceVariant = "SP"
        ds.ScanOptions = ""
        ds.MRAcquisitionType = "3D"
        ds.SequenceName = "*fl3d1"
        ds.AngioFlag = "N"
        ds.RepetitionTime = "6.5"
        ds.EchoTime = "2.3"
        ds.EchoTrainLength = 1
        ds.FlipAngle = "12"
        ds.NumberOfAverages = "1"
        ds.ImagingFrequency = "127.74"
        ds.ImagedNucleus = "1H"
        ds.EchoNumbers = 1
        ds.MagneticFieldStrength = "3"
        ds.SpacingBetweenSlices = _ds(thickness)
        ds.PixelBandwidth = "400"
        ds.ReceiveCoilName = "Body"
        ds.TransmitCoilName = "Body"
        ds.InPlanePhaseEncodingDirection = "ROW"
    else:  # PT
        injection = when - datetime.timedelta(hours=1)
        ds.ImageType = ["ORIGINAL", "PRIMARY"]
        ds.RescaleIntercept = "0"
        # PET Series
        ds.Units = "BQML"
        ds.CountsSource = "EMISSION"
        ds.SeriesType = ["STATIC", "IMAGE"]
        ds.NumberOfSlices = n
        ds.CorrectedImage = ["DECY", "ATTN", "SCAT", "DTIM", "RAN", "NORM"]
        ds.RandomsCorrectionMethod = "DLYD"
        ds.AttenuationCorrectionMethod = "CT-based"
        ds.ScatterCorrectionMethod = "Model-based"
        ds.DecayCorrection = "START"
        ds.ReconstructionMethod = "OSEM"
        ds.CollimatorType = "NONE"
        ds.AcquisitionStartCondition = "MANU"
        ds.AxialAcceptance = "27"
        # PET Isotope
        window = Dataset()
        window.EnergyWindowLowerLimit = "435"
        window.EnergyWindowUpperLimit = "650"
        ds.EnergyWindowRangeSequence = DicomSequence([window])
        rp = Dataset()
        rp.RadionuclideCodeSequence = DicomSequence([_code_item(codes.cid4020._18Fluorine)])
        rp.RadiopharmaceuticalRoute = "Intravenous route"
        rp.Radiopharmaceutical = "Fludeoxyglucose F^18^"
        rp.RadiopharmaceuticalStartTime = injection.strftime("%H%M%S")
        rp.RadiopharmaceuticalStartDateTime = injection.strftime("%Y%m%d%H%M%S")
        rp.RadionuclideTotalDose = "370000000"
        rp.RadionuclideHalfLife = "6586.2"
        rp.RadionuclidePositronFraction = "0.9673"
        rp.RadiopharmaceuticalCodeSequence = DicomSequence([_code_item(codes.cid4021.FluorodeoxyglucoseF18)])
        ds.RadiopharmaceuticalInformationSequence = DicomSequence([rp])
        # NM/PET Patient Orientation
        orient = _code_item(codes.cid19.Recumbent)
        orient.PatientOrientationModifierCodeSequence = DicomSequence([_code_item(codes.cid20.Supine)])
        ds.PatientOrientationCodeSequence = DicomSequence([orient])
        ds.PatientGantryRelationshipCodeSequence = DicomSequence([_code_item(codes.cid21.Headfirst)])
        # PET Image
        ds.FrameReferenceTime = "0"
        ds.ActualFrameDuration = 180000
        ds.DecayFactor = "1"
        ds.DoseCalibrationFactor = "1"
        ds.ScatterFractionFactor = "0.3"
        ds.DeadTimeFactor = "1"

    for keyword, value in (attributes or {}).items():
        setattr(ds, keyword, value)

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    names = _file_names(file_names, n, seed, sop_uids, instance_numbers)

    files = []
    positions = grid.slice_positions()
    for k in range(n):
        ds.SOPInstanceUID = sop_uids[k]
        ds.InstanceNumber = instance_numbers[k]
        ds.ImagePositionPatient = [_ds(v) for v in positions[k]]
        ds.SliceLocation = _ds(float(positions[k] @ normal))
        if slopes is not None:
            ds.RescaleSlope = _ds(slopes[k])
        if modality == "PT":
            ds.ImageIndex = instance_numbers[k]
        ds.PixelData = np.ascontiguousarray(arr[k]).astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = sop_class
        meta.MediaStorageSOPInstanceUID = sop_uids[k]
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta = meta
        name = file_names(k, ds) if callable(file_names) else names[k]
        path = out / name
        _write_file(path, ds)
        files.append(str(path))

    return SeriesInfo(
        folder=out,
        files=files,
        sop_instance_uids=sop_uids,
        study_instance_uid=study_uid,
        series_instance_uid=series_uid,
        frame_of_reference_uid=for_uid,
        sop_class_uid=sop_class,
        modality=modality,
        grid=grid,
        instance_numbers=instance_numbers,
    )


def _write_file(path: Path, ds) -> None:
    """Write in the DICOM File Format (pydicom 3 ``enforce_file_format``, 2.x ``write_like_original``)."""
    import pydicom

    try:
        pydicom.dcmwrite(path, ds, enforce_file_format=True)
    except TypeError:  # pydicom < 3 (Slicer 5.10)
        pydicom.dcmwrite(path, ds, write_like_original=False)


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


# ------------------------------------------------------------------------------------- coding
def _code_json(code) -> dict:
    """A code (:class:`dicomai.coding.Code` or pydicom's ``Code``) as a dcmqi JSON code dict."""
    return {
        "CodeValue": str(code.value),
        "CodingSchemeDesignator": str(code.scheme_designator),
        "CodeMeaning": str(code.meaning),
    }


def _segment(label_id, label, description, category, type_, rgb, modifier=None, algorithm=None) -> dict:
    seg = {
        "labelID": int(label_id),
        "SegmentLabel": label,
        "SegmentDescription": description,
        "SegmentAlgorithmType": "AUTOMATIC",
        "SegmentAlgorithmName": algorithm or "DicomAI synthetic",
        "SegmentedPropertyCategoryCodeSequence": _code_json(category),
        "SegmentedPropertyTypeCodeSequence": _code_json(type_),
        "recommendedDisplayRGBValue": [int(v) for v in rgb],
    }
    if modifier is not None:
        seg["SegmentedPropertyTypeModifierCodeSequence"] = _code_json(modifier)
    return seg


def dcmqi_metadata(segments: Sequence[Mapping], **series_fields) -> dict:
    """dcmqi segmentation metadata (the JSON ``itkimage2segimage --inputMetadata`` reads).

    Parameters
    ----------
    segments:
        Segment dicts as returned by :func:`phantom` or :func:`many_segments_labelmap`
        (``labelID``, ``SegmentLabel``, codes...). They all go into one label map, i.e. one
        inner list of ``segmentAttributes``.
    **series_fields:
        Override or add top-level fields: ``ContentCreatorName``, ``ClinicalTrialSeriesID``,
        ``ClinicalTrialTimePointID``, ``ClinicalTrialCoordinatingCenterName``,
        ``SeriesDescription``, ``SeriesNumber``, ``InstanceNumber``, ``BodyPartExamined``,
        ``ContentLabel``, ``ContentDescription``... Numbers are written as strings, as dcmqi's
        schema wants.

    Returns
    -------
    dict
        Ready for ``json.dump``.
    """
    meta = {
        "ContentCreatorName": "DicomAI^Synthetic",
        "ClinicalTrialSeriesID": "Session1",
        "ClinicalTrialTimePointID": "1",
        "ClinicalTrialCoordinatingCenterName": "DicomAI",
        "SeriesDescription": "Segmentation",
        "SeriesNumber": "300",
        "InstanceNumber": "1",
        "BodyPartExamined": "ABDOMEN",
    }
    for key, value in series_fields.items():
        meta[key] = str(value) if isinstance(value, (int, np.integer)) else value
    attrs = []
    for seg in segments:
        if "labelID" not in seg:
            raise ValueError(f"segment {dict(seg)!r} has no labelID")
        item = {}
        for key, value in seg.items():
            if isinstance(value, Mapping):
                item[key] = dict(value)
            elif isinstance(value, (list, tuple)):
                item[key] = [int(v) for v in value] if key == "recommendedDisplayRGBValue" else list(value)
            else:
                item[key] = value
        item["labelID"] = int(item["labelID"])
        attrs.append(item)
    meta["segmentAttributes"] = [attrs]
    return meta


# ------------------------------------------------------------------------------------ phantom
class _Axes:
    """Normalised voxel-centre coordinates of a volume: x (columns) and y (rows) in [-1, 1],
    z (slices) in [0, 1]."""

    def __init__(self, shape):
        self.K, self.R, self.C = (int(v) for v in shape)
        self.z = ((np.arange(self.K) + 0.5) / self.K).astype(np.float32)
        self.y = ((np.arange(self.R) + 0.5) / self.R * 2.0 - 1.0).astype(np.float32)
        self.x = ((np.arange(self.C) + 0.5) / self.C * 2.0 - 1.0).astype(np.float32)
        # one voxel in normalised units, per axis (z, y, x)
        self.voxel = (1.0 / self.K, 2.0 / self.R, 2.0 / self.C)

    def semi(self, semi_axes):
        """Semi-axes (z, y, x) widened to at least one voxel each."""
        return tuple(max(float(s), v) for s, v in zip(semi_axes, self.voxel))


def _span(coords: np.ndarray, lo: float, hi: float) -> tuple:
    return int(np.searchsorted(coords, lo, "left")), int(np.searchsorted(coords, hi, "right"))


def _ellipsoid(axes: _Axes, center, semi, k_range=None):
    """``(index tuple, bool mask)`` of an ellipsoid within its bounding box (and k_range)."""
    cz, cy, cx = center
    sz, sy, sx = axes.semi(semi)
    k0, k1 = _span(axes.z, cz - sz, cz + sz)
    if k_range is not None:
        k0, k1 = max(k0, k_range[0]), min(k1, k_range[1])
    r0, r1 = _span(axes.y, cy - sy, cy + sy)
    c0, c1 = _span(axes.x, cx - sx, cx + sx)
    if k0 >= k1 or r0 >= r1 or c0 >= c1:
        return None
    dz = ((axes.z[k0:k1] - cz) / sz) ** 2
    dy = ((axes.y[r0:r1] - cy) / sy) ** 2
    dx = ((axes.x[c0:c1] - cx) / sx) ** 2
    mask = (dz[:, None, None] + (dy[:, None] + dx[None, :])[None]) <= 1.0
    return (slice(k0, k1), slice(r0, r1), slice(c0, c1)), mask


def _ellipse2d(axes: _Axes, center, semi) -> np.ndarray:
    cy, cx = center
    sy, sx = max(semi[0], axes.voxel[1]), max(semi[1], axes.voxel[2])
    return (((axes.y - cy) / sy) ** 2)[:, None] + (((axes.x - cx) / sx) ** 2)[None, :] <= 1.0


# HU of the phantom's tissues
_HU = {
    "air": -1000.0,
    "fat": -100.0,
    "soft": 40.0,
    "cortical": 700.0,
    "cancellous": 250.0,
    "disc": 90.0,
    "canal": 20.0,
    "aorta": 180.0,
    "ivc": 120.0,
    "gas": -900.0,
    "liver": 60.0,
    "spleen": 48.0,
    "kidney": 160.0,
    "sinus": 20.0,
    "lesion": 15.0,
}

# (labelID, SegmentLabel, description, category, type, modifier, RGB) — codes filled in lazily
_PHANTOM_SEGMENTS = (
    (1, "Liver", "Liver", "AnatomicalStructure", "Liver", None, (221, 130, 101)),
    (2, "Spleen", "Spleen", "AnatomicalStructure", "Spleen", None, (157, 108, 162)),
    (3, "Right kidney", "Kidney, right", "AnatomicalStructure", "Kidney", "Right", (185, 102, 83)),
    (4, "Left kidney", "Kidney, left", "AnatomicalStructure", "Kidney", "Left", (185, 102, 83)),
    (
        5,
        "Liver lesion",
        "Hypodense lesion in the right liver lobe",
        "MorphologicallyAbnormalStructure",
        "Neoplasm",
        None,
        (144, 238, 144),
    ),
)


def phantom_segments() -> list:
    """Segment dicts of :func:`phantom` (labels 1 liver, 2 spleen, 3/4 right/left kidney, 5 lesion)."""
    from pydicom.sr.codedict import codes

    out = []
    for label_id, label, desc, cat, typ, mod, rgb in _PHANTOM_SEGMENTS:
        out.append(
            _segment(
                label_id,
                label,
                desc,
                getattr(codes.SCT, cat),
                getattr(codes.SCT, typ),
                rgb,
                modifier=getattr(codes.SCT, mod) if mod else None,
                algorithm="DicomAI synthetic phantom",
            )
        )
    return out


def phantom(shape: Sequence[int] = (40, 128, 128), seed: int = 0) -> tuple:
    """An abdominal CT-like phantom with organ labels.

    The volume is meant for an axial grid (:func:`make_grid` ``orientation="axial"``): columns
    run to the patient's left, rows to posterior, slices to superior. So the liver is at low
    column indices (patient right), the spleen at high ones, the spine and kidneys posterior
    (high row indices). Shapes are fractions of the volume and scale with ``shape``; every
    structure is at least one voxel wide on each axis.

    Parameters
    ----------
    shape:
        ``(slices, rows, columns)``; at least ``(8, 32, 32)`` for every label to be present.
    seed:
        Seeds the image noise (Gaussian, sigma 10 HU).

    Returns
    -------
    ct : numpy.ndarray
        int16 Hounsfield units ``(slices, rows, columns)``: air -1000, subcutaneous fat, soft
        tissue ~40, vertebrae and discs, aorta and vena cava, a gas pocket, liver ~60,
        spleen ~48, enhancing kidneys ~160, hypodense lesion ~15, all with noise.
    labels : numpy.ndarray
        uint8, same shape: 0 background, 1 liver, 2 spleen, 3 right kidney, 4 left kidney,
        5 lesion (inside the liver; it replaces liver voxels).
    segments : list of dict
        dcmqi-style descriptions of labels 1-5 (see :func:`phantom_segments`).
    """
    shape = tuple(int(v) for v in shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"shape must be 3 positive integers (slices, rows, columns), got {shape!r}")
    K, R, C = shape
    axes = _Axes(shape)
    hu = _HU

    # ---- in-plane anatomy, the same on every slice (float32, one slice)
    body = _ellipse2d(axes, (0.02, 0.0), (0.68, 0.88))
    inner = _ellipse2d(axes, (0.02, 0.0), (0.60, 0.80))
    base = np.full((R, C), hu["air"], np.float32)
    base[body] = hu["fat"]
    base[inner] = hu["soft"]
    vb_outer = _ellipse2d(axes, (0.42, 0.0), (0.11, 0.11))
    vb_inner = _ellipse2d(axes, (0.42, 0.0), (0.085, 0.085))
    canal = _ellipse2d(axes, (0.575, 0.0), (0.045, 0.045))
    arch = _ellipse2d(axes, (0.575, 0.0), (0.08, 0.08)) & ~vb_outer
    base[arch] = hu["cortical"]
    base[canal] = hu["canal"]
    base[vb_outer] = hu["cortical"]
    base[vb_inner] = hu["cancellous"]
    base[_ellipse2d(axes, (0.22, 0.07), (0.055, 0.055))] = hu["aorta"]
    base[_ellipse2d(axes, (0.20, -0.15), (0.06, 0.06))] = hu["ivc"]
    # intervertebral discs: every eighth of the volume, a slab ~2% of it thick
    zz = axes.z * 8.0
    disc_slices = np.abs(zz - np.round(zz)) * (K / 8.0) < max(0.5, 0.08 * K / 8.0)

    # ---- 3D structures, painted in this order (later ones win)
    inner_k = inner[None]
    liver_main = ((0.70, -0.02, -0.38), (0.26, 0.42, 0.36))
    liver_left_lobe = ((0.78, -0.30, -0.02), (0.12, 0.16, 0.30))
    spleen = ((0.72, 0.22, 0.50), (0.14, 0.20, 0.16))
    kidney_r = ((0.40, 0.36, -0.33), (0.13, 0.14, 0.11))
    kidney_l = ((0.43, 0.36, 0.33), (0.13, 0.14, 0.11))
    lesion = ((0.72, -0.05, -0.45), (0.06, 0.07, 0.07))
    gas = ((0.86, -0.35, 0.32), (0.05, 0.08, 0.10))

    def scaled(shape_def, factor, shift=(0.0, 0.0, 0.0)):
        (c, s) = shape_def
        return tuple(a + b for a, b in zip(c, shift)), tuple(v * factor for v in s)

    # (center/semi, HU, label or None)
    structures = [
        (gas, hu["gas"], None),
        (scaled(kidney_r, 1.35), hu["fat"], None),
        (scaled(kidney_l, 1.35), hu["fat"], None),
        (liver_main, hu["liver"], 1),
        (liver_left_lobe, hu["liver"], 1),
        (spleen, hu["spleen"], 2),
        (kidney_r, hu["kidney"], 3),
        (scaled(kidney_r, 0.45, (0.0, 0.0, 0.04)), hu["sinus"], 3),
        (kidney_l, hu["kidney"], 4),
        (scaled(kidney_l, 0.45, (0.0, 0.0, -0.04)), hu["sinus"], 4),
        (lesion, hu["lesion"], 5),
    ]

    ct = np.empty(shape, np.int16)
    labels = np.zeros(shape, np.uint8)
    rng = np.random.default_rng(seed)
    chunk = max(1, (1 << 21) // (R * C))
    for k0 in range(0, K, chunk):
        k1 = min(K, k0 + chunk)
        vol = np.empty((k1 - k0, R, C), np.float32)
        vol[...] = base
        for i in np.flatnonzero(disc_slices[k0:k1]):
            vol[i][vb_inner] = hu["disc"]
        lab = labels[k0:k1]
        for (center, semi), value, label in structures:
            found = _ellipsoid(axes, center, semi, (k0, k1))
            if found is None:
                continue
            (ks, rs, cs), mask = found
            mask &= inner_k[:, rs, cs]
            local = (slice(ks.start - k0, ks.stop - k0), rs, cs)
            vol[local][mask] = value
            if label is not None:
                lab[local][mask] = label
        noise = rng.standard_normal(vol.shape, dtype=np.float32)
        noise *= 10.0
        vol += noise
        del noise
        np.rint(vol, out=vol)
        np.clip(vol, -1024, 3071, out=vol)
        ct[k0:k1] = vol
    return ct, labels, phantom_segments()


# ----------------------------------------------------------------------- many-segment label maps
# CID 7191-7198 (segmentation property types per category, CID 7150)
_TYPE_CIDS = (
    ("cid7191", "Tissue"),
    ("cid7192", "AnatomicalStructure"),
    ("cid7193", "PhysicalObject"),
    ("cid7194", "MorphologicallyAbnormalStructure"),
    ("cid7195", "Function"),
    ("cid7196", "SpatialAndRelationalConcept"),
    ("cid7197", "BodySubstance"),
    ("cid7198", "Substance"),
)

_LARGE_ORGANS = (
    ("Liver", None),
    ("Spleen", None),
    ("Kidney", "Right"),
    ("Kidney", "Left"),
    ("Stomach", None),
    ("Pancreas", None),
    ("Lung", "Right"),
    ("Lung", "Left"),
    ("Heart", None),
    ("Gallbladder", None),
    ("Bladder", None),
    ("Colon", None),
    ("SmallIntestine", None),
    ("Duodenum", None),
    ("Esophagus", None),
    ("AdrenalGland", "Right"),
    ("AdrenalGland", "Left"),
    ("Aorta", None),
    ("InferiorVenaCava", None),
    ("PortalVein", None),
    ("Prostate", None),
    ("Rectum", None),
)

_VERTEBRAE = tuple(
    [f"L{i}Vertebra" for i in range(5, 0, -1)]
    + [f"T{i}Vertebra" for i in range(12, 0, -1)]
    + [f"C{i}Vertebra" for i in range(7, 0, -1)]
)

_SLICER_COLOURS = {"Liver": (221, 130, 101), "Spleen": (157, 108, 162), "Kidney": (185, 102, 83)}

_TYPE_TABLE_CACHE: list = []


def _property_types() -> list:
    """``(type Code, category Code)`` for every SNOMED CT code of CID 7151, anatomy first."""
    if _TYPE_TABLE_CACHE:
        return _TYPE_TABLE_CACHE
    from pydicom.sr.codedict import codes

    seen = set()
    table = []
    cid7151 = set(codes.cid7151.dir())
    order = sorted(_TYPE_CIDS, key=lambda t: t[0] != "cid7192")  # anatomy first, then the rest
    for cid, category in order:
        collection = getattr(codes, cid)
        cat = getattr(codes.cid7150, category)
        for keyword in collection.dir():
            code = getattr(collection, keyword)
            if code.scheme_designator != "SCT" or keyword not in cid7151:
                continue
            key = (code.value, code.scheme_designator)
            if key in seen:
                continue
            seen.add(key)
            table.append((code, cat))
    _TYPE_TABLE_CACHE.extend(table)
    return _TYPE_TABLE_CACHE


def _palette(i: int) -> tuple:
    """Distinct, reproducible colours (golden-ratio hues)."""
    import colorsys

    h = (0.13 + i * 0.6180339887) % 1.0
    s = 0.45 + 0.35 * ((i * 7) % 3) / 2.0
    v = 0.95 - 0.25 * ((i * 5) % 4) / 3.0
    return tuple(int(round(255 * c)) for c in colorsys.hsv_to_rgb(h, s, v))


def many_segments_labelmap(shape: Sequence[int], n_segments: int, seed: int = 0) -> tuple:
    """A TotalSegmentator-like label map with ``n_segments`` non-overlapping segments.

    A few segments are large "organs" spanning many slices (about ``sqrt(n) / 2`` of them, at
    least one), up to 24 are stacked "vertebrae" a few slices each, and the rest are small
    structures (short thin "vessels", "nodules", a few mid-sized ones) spanning only a few
    slices, placed at random where the volume is free. Every label ``1..n_segments`` is present.

    Parameters
    ----------
    shape:
        ``(slices, rows, columns)``.
    n_segments:
        Number of segments, 1..65535 (at most the number of voxels).
    seed:
        Seeds sizes and positions.

    Returns
    -------
    labels : numpy.ndarray
        uint8 when ``n_segments <= 255``, else uint16.
    segments : list of dict
        dcmqi-style descriptions (labelID 1..n). Types are real SNOMED CT codes of CID 7151
        (organs, vertebrae, then cycling over CID 7151) with their category from CID 7191-7198.
    """
    from pydicom.sr.codedict import codes

    shape = tuple(int(v) for v in shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"shape must be 3 positive integers (slices, rows, columns), got {shape!r}")
    n = int(n_segments)
    K, R, C = shape
    if n < 1 or n > 65535:
        raise ValueError(f"n_segments must be 1..65535, got {n_segments!r}")
    if n > K * R * C:
        raise ValueError(f"{n} segments do not fit in {K * R * C} voxels")
    dtype = np.uint8 if n <= 255 else np.uint16
    labels = np.zeros(shape, dtype)
    rng = np.random.default_rng(seed)
    axes = _Axes(shape)
    anatomy = codes.cid7150.AnatomicalStructure

    n_large = min(n, max(1, int(round(math.sqrt(n) / 2.0))))
    n_vert = max(0, min(len(_VERTEBRAE), (n - n_large) // 3, K // 2))
    n_small = n - n_large - n_vert
    segments = []
    used_types = set()
    label_counts: dict = {}

    def add_segment(label_id, type_code, category, modifier=None, description="", rgb=None):
        name = type_code.meaning if modifier is None else f"{modifier.meaning} {type_code.meaning.lower()}"
        label_counts[name] = label_counts.get(name, 0) + 1
        if label_counts[name] > 1:
            name = f"{name} {label_counts[name]}"
        used_types.add(type_code.value)
        segments.append(
            _segment(
                label_id,
                name,
                description,
                category,
                type_code,
                rgb or _palette(label_id),
                modifier=modifier,
                algorithm="DicomAI synthetic label map",
            )
        )

    # ---- large organs: one per cell of a g x g lattice over the anterior 70% of the rows
    g = int(math.ceil(math.sqrt(n_large)))
    y_lo, y_hi, x_lo, x_hi = -0.9, 0.45, -0.9, 0.9
    cell_y, cell_x = (y_hi - y_lo) / g, (x_hi - x_lo) / g
    for i in range(n_large):
        label_id = i + 1
        gy, gx = divmod(i, g)
        cy = y_lo + (gy + 0.5) * cell_y + rng.uniform(-0.05, 0.05) * cell_y
        cx = x_lo + (gx + 0.5) * cell_x + rng.uniform(-0.05, 0.05) * cell_x
        cz = rng.uniform(0.4, 0.6)
        semi = (
            rng.uniform(0.2, 0.35),
            0.42 * cell_y * rng.uniform(0.75, 1.0),
            0.42 * cell_x * rng.uniform(0.75, 1.0),
        )
        found = _ellipsoid(axes, (cz, cy, cx), semi)
        if found is not None:
            region, mask = found
            labels[region][mask] = label_id
        organ, side = _LARGE_ORGANS[i % len(_LARGE_ORGANS)]
        type_code = getattr(codes.SCT, organ)
        add_segment(
            label_id,
            type_code,
            anatomy,
            getattr(codes.SCT, side) if side else None,
            "synthetic organ",
            _SLICER_COLOURS.get(organ),
        )

    # ---- vertebrae: a column behind the organs, bottom (L5) to top
    if n_vert:
        height = K / n_vert
        yc, xc = 0.72, 0.0
        ring = _ellipse2d(axes, (yc, xc), (0.12, 0.14))
        for j in range(n_vert):
            label_id = n_large + j + 1
            k0 = int(round(j * height))
            k1 = int(round((j + 1) * height))
            if k1 - k0 >= 3:
                k1 -= 1  # a disc gap
            labels[k0:k1][:, ring] = label_id
            add_segment(label_id, getattr(codes.SCT, _VERTEBRAE[j]), anatomy, None, "synthetic vertebra")

    # ---- small structures, placed at random where the volume is free
    table = [t for t in _property_types() if t[0].value not in used_types]
    vox_y, vox_x = 2.0 / R, 2.0 / C
    for j in range(n_small):
        label_id = n_large + n_vert + j + 1
        kind = j % 10
        if kind < 4:  # short thin vessel along the slices
            semi = (
                rng.integers(2, 7) / K,
                rng.uniform(1.0, 2.5) * max(vox_y, 0.004),
                rng.uniform(1.0, 2.5) * max(vox_x, 0.004),
            )
            description = "synthetic vessel segment"
        elif kind < 9:  # nodule / small organ
            semi = (rng.uniform(1.0, 4.0) / K, rng.uniform(0.015, 0.05), rng.uniform(0.015, 0.05))
            description = "synthetic small structure"
        else:  # mid-sized structure
            semi = (rng.uniform(4.0, 12.0) / K, rng.uniform(0.05, 0.09), rng.uniform(0.05, 0.09))
            description = "synthetic structure"
        placed = False
        for _attempt in range(6):
            for _try in range(25):
                center = (rng.uniform(0.0, 1.0), rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0))
                found = _ellipsoid(axes, center, semi)
                if found is None:
                    continue
                region, mask = found
                view = labels[region]
                if view[mask].any():
                    continue
                view[mask] = label_id
                placed = True
                break
            if placed:
                break
            semi = tuple(s * 0.6 for s in semi)
        if not placed:
            _place_single_voxel(labels, label_id, rng)
        type_code, category = table[j % len(table)]
        add_segment(label_id, type_code, category, None, description)

    return labels, segments


def _place_single_voxel(labels: np.ndarray, label_id: int, rng) -> None:
    """Give ``label_id`` one free voxel; when none is left, one voxel of the largest segment."""
    flat = labels.reshape(-1)
    for _ in range(200):
        i = int(rng.integers(0, flat.size))
        if flat[i] == 0:
            flat[i] = label_id
            return
    free = np.flatnonzero(flat == 0)
    if free.size:
        flat[int(free[int(rng.integers(0, free.size))])] = label_id
        return
    counts = np.bincount(flat, minlength=label_id)
    donor = int(np.argmax(counts))
    if counts[donor] < 2:
        raise ValueError("the label map is full: use a larger shape or fewer segments")
    flat[int(np.flatnonzero(flat == donor)[-1])] = label_id
