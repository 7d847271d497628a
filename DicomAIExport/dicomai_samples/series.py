"""Single-frame CT, MR and PET sample series, one standard-conformant file per slice.

Every Type 1 and Type 2 attribute of the IOD is filled, so dciodvfy reports no errors.
"""

from __future__ import annotations

import datetime
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence, Union

import numpy as np

from dicomai.geometry import Grid

__all__ = ["DEFAULT_DATETIME", "SeriesInfo", "write_series"]

PathLike = Union[str, "os.PathLike[str]"]

#: Default acquisition date and time of synthetic series (fixed, so that output is reproducible).
DEFAULT_DATETIME = datetime.datetime(2024, 1, 15, 9, 30, 0)


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

    from dicomai import __version__

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
