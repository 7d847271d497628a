"""A fast writer for DICOM Segmentations of single-frame image series.

highdicom's ``Segmentation`` constructor is the reference implementation (``encode.py`` uses it for
everything this module does not cover). With 100 segments on a 512 x 512 x 200 CT it spends most
of its time building ~1,800 per-frame functional group items as pydicom datasets, comparing every
plane with every segment and writing those items back out element by element. This module writes
the same object directly:

- the top-level attributes are the ones highdicom's constructor sets, built as one small pydicom
  dataset; segment descriptions, plane positions, orientation, pixel measures, contributing
  equipment and the plane order are built by :mod:`dicomai.seg._dataset` with pydicom alone, the
  way highdicom's content classes and spatial helpers build them (this module imports highdicom
  only to encode JPEG-LS and JPEG 2000 frames);
- each per-frame functional group item is concatenated from byte strings encoded once per slice
  (derivation image, plane position) or once per segment (segment identification), plus the
  frame's Dimension Index Values;
- frames are found from per-slice label histograms, packed with ``numpy.packbits`` (BINARY) or
  taken as they are (LABELMAP), and streamed to the file, so no full-size copy per segment and no
  second copy of the output is held in memory.

``Testing/core/test_fast_path.py`` proves the result equal to highdicom's on the same input:
every attribute (bar generated UIDs, creation dates and times, the writing-software entries listed
in :data:`DIFFERENCES_FROM_HIGHDICOM`), the decoded frames, zero dciodvfy errors, read back by
highdicom and dcmqi.

Frames compress independently: with ``workers`` > 1 (default :func:`default_workers`) RLE and
JPEG-LS frames are encoded by a pool of threads in chunks, in order, and a deflated file is
compressed by a second thread while the frames are packed; the bytes written are the same
whatever the number of workers (``Testing/core/test_fast_workers.py``). JPEG 2000 frames are
encoded one at a time: pylibjpeg-openjpeg 2.6 crashes (segmentation fault) when two threads
encode at once.

Covered: sources with plane geometry and a frame of reference (CT, MR, PET...), BINARY, LABELMAP
and FRACTIONAL, Explicit VR Little Endian, Deflated Explicit VR Little Endian, RLE Lossless,
JPEG-LS Lossless and JPEG 2000 Lossless. Not covered (``unsupported_reason`` says why and
``encode.write_seg`` uses highdicom): projection images without a frame of reference, Implicit VR,
sources whose ImageOrientationPatient strings differ between slices (highdicom rejects them).
"""

from __future__ import annotations

import datetime
import os
import struct
import zlib
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence

import numpy as np

from ..errors import InputError
from ..sopclasses import LABEL_MAP_SEGMENTATION_STORAGE, SEGMENTATION_STORAGE
from .content import slice_label_counts

__all__ = [
    "DIFFERENCES_FROM_HIGHDICOM",
    "FAST_TRANSFER_SYNTAXES",
    "FastSegInput",
    "PATIENT_STUDY_KEYWORDS",
    "WORKERS_ENV",
    "default_workers",
    "unsupported_reason",
    "write_fast",
]

EXPLICIT_VR_LE = "1.2.840.10008.1.2.1"
DEFLATED_LE = "1.2.840.10008.1.2.1.99"
RLE_LOSSLESS = "1.2.840.10008.1.2.5"
JPEG_LS_LOSSLESS = "1.2.840.10008.1.2.4.80"
JPEG_2000_LOSSLESS = "1.2.840.10008.1.2.4.90"
LABELMAP_SEGMENTATION_STORAGE = LABEL_MAP_SEGMENTATION_STORAGE

#: Transfer syntaxes the fast path writes, per segmentation type.
FAST_TRANSFER_SYNTAXES = {
    "BINARY": (EXPLICIT_VR_LE, DEFLATED_LE, JPEG_2000_LOSSLESS),
    "LABELMAP": (EXPLICIT_VR_LE, DEFLATED_LE, RLE_LOSSLESS, JPEG_LS_LOSSLESS, JPEG_2000_LOSSLESS),
    "FRACTIONAL": (EXPLICIT_VR_LE, DEFLATED_LE, RLE_LOSSLESS, JPEG_LS_LOSSLESS, JPEG_2000_LOSSLESS),
}

#: What differs, by design, from highdicom's output on the same input (besides new UIDs and the
#: creation date and time): the software that wrote the file names itself.
DIFFERENCES_FROM_HIGHDICOM = {
    "ImplementationClassUID": "pydicom's implementation UID instead of highdicom's",
    "ImplementationVersionName": "'DICOMAI_<version>' instead of 'highdicom<version>'",
    "ContributingEquipmentSequence[-1]": "the processing-equipment item names dicomai, not highdicom",
    "PixelData padding": "an odd-length native Pixel Data is padded with 0x00 (highdicom: b'0')",
    "RLE fragments": "RLE is encoded by dicomai's encoder; the decoded frames are identical",
}

#: Root-level attributes of the Patient, Clinical Trial Subject, General Study, Patient Study and
#: Clinical Trial Study modules (PS3.3), copied from the source like highdicom's
#: ``copy_patient_and_study_information``. test_fast_path.py checks the list against highdicom's
#: tables.
PATIENT_STUDY_KEYWORDS = (
    "ReferencedPatientSequence", "PatientName", "PatientID", "IssuerOfPatientID", "TypeOfPatientID",
    "IssuerOfPatientIDQualifiersSequence", "SourcePatientGroupIdentificationSequence",
    "GroupOfPatientsIdentificationSequence", "PatientBirthDate", "PatientBirthTime",
    "PatientBirthDateInAlternativeCalendar", "PatientDeathDateInAlternativeCalendar",
    "PatientAlternativeCalendar", "PatientSex", "QualityControlSubject", "StrainDescription",
    "StrainNomenclature", "StrainStockSequence", "StrainAdditionalInformation", "StrainCodeSequence",
    "GeneticModificationsSequence", "OtherPatientNames", "OtherPatientIDsSequence",
    "ReferencedPatientPhotoSequence", "EthnicGroupCodeSequence", "PatientSpeciesDescription",
    "PatientSpeciesCodeSequence", "PatientBreedDescription", "PatientBreedCodeSequence",
    "BreedRegistrationSequence", "ResponsiblePerson", "ResponsiblePersonRole", "ResponsibleOrganization",
    "PatientComments", "PatientIdentityRemoved", "DeidentificationMethod",
    "DeidentificationMethodCodeSequence", "ClinicalTrialSponsorName", "ClinicalTrialProtocolID",
    "ClinicalTrialProtocolName", "IssuerOfClinicalTrialProtocolID",
    "OtherClinicalTrialProtocolIDsSequence", "ClinicalTrialSiteID", "ClinicalTrialSiteName",
    "IssuerOfClinicalTrialSiteID", "ClinicalTrialSubjectID", "IssuerOfClinicalTrialSubjectID",
    "ClinicalTrialSubjectReadingID", "IssuerOfClinicalTrialSubjectReadingID",
    "ClinicalTrialProtocolEthicsCommitteeName", "ClinicalTrialProtocolEthicsCommitteeApprovalNumber",
    "StudyDate", "StudyTime", "AccessionNumber", "IssuerOfAccessionNumberSequence",
    "ReferringPhysicianName", "ReferringPhysicianIdentificationSequence", "ConsultingPhysicianName",
    "ConsultingPhysicianIdentificationSequence", "StudyDescription", "ProcedureCodeSequence",
    "PhysiciansOfRecord", "PhysiciansOfRecordIdentificationSequence", "NameOfPhysiciansReadingStudy",
    "PhysiciansReadingStudyIdentificationSequence", "ReferencedStudySequence", "StudyInstanceUID",
    "StudyID", "RequestingService", "RequestingServiceCodeSequence",
    "ReasonForPerformedProcedureCodeSequence", "AdmittingDiagnosesDescription",
    "AdmittingDiagnosesCodeSequence", "PatientAge", "PatientSize", "PatientSizeCodeSequence",
    "PatientBodyMassIndex", "MeasuredAPDimension", "MeasuredLateralDimension", "PatientWeight",
    "MedicalAlerts", "Allergies", "Occupation", "SmokingStatus", "AdditionalPatientHistory",
    "PregnancyStatus", "LastMenstrualDate", "PatientSexNeutered", "ReasonForVisit",
    "ReasonForVisitCodeSequence", "AdmissionID", "IssuerOfAdmissionIDSequence", "ServiceEpisodeID",
    "ServiceEpisodeDescription", "IssuerOfServiceEpisodeIDSequence", "PatientState",
    "ClinicalTrialTimePointID", "ClinicalTrialTimePointDescription",
    "LongitudinalTemporalOffsetFromEvent", "LongitudinalTemporalEventType",
    "ClinicalTrialTimePointTypeCodeSequence", "IssuerOfClinicalTrialTimePointID",
    "ConsentForClinicalTrialUseSequence",
)  # fmt: skip

#: Root-level attributes of the Specimen module (copied like highdicom's copy_specimen_information).
SPECIMEN_KEYWORDS = (
    "ContainerIdentifier", "IssuerOfTheContainerIdentifierSequence", "AlternateContainerIdentifierSequence",
    "ContainerTypeCodeSequence", "ContainerDescription", "ContainerComponentSequence",
    "SpecimenDescriptionSequence",
)  # fmt: skip

# highdicom's base constructor sets these from the source (empty when absent) before copying
_TYPE2_FROM_SOURCE = (
    "PatientID", "PatientName", "PatientBirthDate", "PatientSex", "AccessionNumber", "StudyID",
    "StudyDate", "StudyTime", "ReferringPhysicianName",
)  # fmt: skip


@dataclass
class FastSegInput:
    """Everything :func:`write_fast` needs, prepared by :func:`dicomai.seg.encode.write_seg`.

    Attributes
    ----------
    seg_type:
        ``"BINARY"``, ``"LABELMAP"`` or ``"FRACTIONAL"``.
    descriptions:
        Segment Sequence item (a pydicom dataset: ``_dataset.segment_description``, or highdicom's
        ``SegmentDescription``) of every written segment, numbered 1..N (LABELMAP: the values
        written in the frames; background 0 is the Pixel Padding Value and has no item).
    layers:
        BINARY/LABELMAP: integer arrays ``(slices, rows, columns)``.
    where:
        BINARY/LABELMAP: ``(layer index, label value)`` of segment ``i + 1``.
    fractions:
        FRACTIONAL: float arrays in [0, 1] (or integer arrays already on the 0..max scale), one per
        segment.
    workers:
        Threads that encode frames (RLE, JPEG-LS) or deflate the file while frames are packed;
        ``None`` takes :func:`default_workers` (``DICOMAI_WORKERS``). The bytes written do not
        depend on it.
    """

    seg_type: str
    descriptions: list
    layers: Optional[List[np.ndarray]] = None
    where: Optional[List[tuple]] = None
    fractions: Optional[List[np.ndarray]] = None
    fractional_type: str = "PROBABILITY"
    max_fractional_value: int = 255
    presence: Optional[dict] = None  # layer index -> slice_label_counts(layer), when known
    workers: Optional[int] = None


# ------------------------------------------------------------------------------------ workers
#: Environment variable that sets the default number of encoding threads (an integer >= 1).
WORKERS_ENV = "DICOMAI_WORKERS"
_CHUNK = 16  # frames per task: small enough to keep both cores busy, large enough to amortize


def default_workers() -> int:
    """The number of threads that encode a SEG's frames when the caller does not say.

    ``DICOMAI_WORKERS`` when set (an integer >= 1; 1 writes everything on the calling thread),
    else 1: measured on a quiet 2-core machine (``make bench-workers``, docs/scale.md), 2 threads
    gave no gain for any codec the writer uses (0.8x-1.1x), since the per-frame work is small
    next to the thread hand-offs. The one place this default is decided.
    """
    text = os.environ.get(WORKERS_ENV, "").strip()
    if text:
        try:
            n = int(text)
        except ValueError:
            n = 0
        if n < 1:
            raise InputError(f"{WORKERS_ENV}={text!r} is not a number of workers (an integer >= 1)")
        return n
    return 1


def _workers(workers: Optional[int]) -> int:
    if workers is None:
        return default_workers()
    n = int(workers)
    if n < 1:
        raise InputError(f"workers must be at least 1, got {workers!r}")
    return n


def _chunks(items, size: int):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _ordered_map(fn, items, workers: int):
    """``map(fn, items)`` in order; with workers > 1, chunks of items on a thread pool with a
    bounded number of chunks in flight (memory stays a few chunks of frames)."""
    if workers <= 1:
        yield from map(fn, items)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    def run(chunk):
        return [fn(item) for item in chunk]

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dicomai-seg") as pool:
        pending: deque = deque()
        try:
            for chunk in _chunks(items, _CHUNK):
                pending.append(pool.submit(run, chunk))
                if len(pending) >= 2 * workers:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()


# ------------------------------------------------------------------------------------ coverage
def unsupported_reason(source, seg_type: str, transfer_syntax_uid: str) -> Optional[str]:
    """Why the fast path cannot write this SEG (``None`` when it can)."""
    if transfer_syntax_uid not in FAST_TRANSFER_SYNTAXES.get(seg_type, ()):
        return f"transfer syntax {transfer_syntax_uid} for {seg_type}"
    if not source.has_plane_geometry or not source.frame_of_reference_uid:
        return "source images without plane geometry or frame of reference"
    first = source.first
    iop = first.get("ImageOrientationPatient")
    for ds in source.datasets:
        if ds.get("ImageOrientationPatient") != iop:
            return "ImageOrientationPatient differs between source images"
        if int(ds.get("NumberOfFrames", 1) or 1) != 1:
            return "multi-frame source images"
    if "PixelSpacing" not in first:
        return "source images without PixelSpacing"
    return None


# ------------------------------------------------------------------------------------ encoding helpers
def _encode_elements(dataset) -> bytes:
    """Explicit VR little endian encoding of a dataset's elements (no preamble, no meta)."""
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset

    fp = DicomBytesIO()
    fp.is_little_endian = True
    fp.is_implicit_VR = False
    write_dataset(fp, dataset)
    return fp.getvalue()


def _sequence_bytes(tag: int, items_body: Sequence[bytes]) -> bytes:
    """A defined-length SQ element whose items have the given encoded bodies (as pydicom writes)."""
    parts = []
    for body in items_body:
        parts.append(struct.pack("<HHL", 0xFFFE, 0xE000, len(body)))
        parts.append(body)
    value = b"".join(parts)
    return struct.pack("<HH2sHL", tag >> 16, tag & 0xFFFF, b"SQ", 0, len(value)) + value


def _frame_content_bytes(values: Sequence[int]) -> bytes:
    """FrameContentSequence with one item holding DimensionIndexValues (UL)."""
    value = struct.pack(f"<{len(values)}L", *values)
    elem = struct.pack("<HH2sH", 0x0020, 0x9157, b"UL", len(value)) + value
    return _sequence_bytes(0x00209111, [elem])


# ------------------------------------------------------------------------------------ the plan
@dataclass
class _Frame:
    segment_index: int  # 0-based index into descriptions (BINARY/FRACTIONAL), -1 for LABELMAP
    dim_index: int  # 1-based position index among included planes
    k: int  # slice index on the source grid


def _plane_order(source) -> tuple:
    """highdicom's plane sort order and the DS-rounded positions it is computed from."""
    from ._dataset import normal_vector, plane_position

    iop = source.first.ImageOrientationPatient
    positions = [plane_position(ds.ImagePositionPatient) for ds in source.datasets]
    values = np.array([[float(v) for v in p[0].ImagePositionPatient] for p in positions])
    normal = normal_vector(iop)
    distances = (normal[None] @ values.T).squeeze(0)
    _, order = np.unique(distances, return_index=True)
    if len(order) != len(positions):
        raise InputError("two source images lie at the same position: the source holds several volumes")
    return positions, values, order


def _quantize(array: np.ndarray, max_value: int) -> np.ndarray:
    """FRACTIONAL frame values, as highdicom computes them (integers pass unchanged)."""
    if np.issubdtype(array.dtype, np.floating):
        return np.around(array * float(max_value)).astype(np.uint8)
    return array.astype(np.uint8, copy=False)


class _Plan:
    """Which frames the SEG holds, in highdicom's order."""

    def __init__(self, inp: FastSegInput, source):
        self.inp = inp
        self.seg_type = inp.seg_type
        k_count = len(source.datasets)
        self.positions, self.position_values, self.order = _plane_order(source)
        n = len(inp.descriptions)
        # present[i, k]: segment i has a (written) value in slice k; raw_nonzero[k]: plane k is kept
        present = np.zeros((n, k_count), dtype=bool)
        raw_nonzero = np.zeros(k_count, dtype=bool)
        if self.seg_type == "FRACTIONAL":
            for i, arr in enumerate(inp.fractions):
                flat = arr.reshape(k_count, -1)
                raw_nonzero |= flat.any(axis=1)
                for k in np.flatnonzero(flat.any(axis=1)):
                    present[i, k] = bool(_quantize(arr[k], inp.max_fractional_value).any())
        else:
            for li, layer in enumerate(inp.layers):
                values = [(i, v) for i, (lj, v) in enumerate(inp.where) if lj == li]
                if not values:
                    continue
                known = (inp.presence or {}).get(li)
                present_values, counts = known if known is not None else slice_label_counts(layer)
                column = {int(v): j for j, v in enumerate(present_values)}
                for i, v in values:
                    if v in column:
                        present[i] = counts[:, column[v]] > 0
            raw_nonzero = present.any(axis=0)
        self.present = present
        self.voxel_slices = present.sum(axis=1)
        self.included = [int(k) for k in self.order if raw_nonzero[k]]
        frames: List[_Frame] = []
        if self.seg_type == "LABELMAP":
            frames = [_Frame(-1, d, k) for d, k in enumerate(self.included, start=1)]
        else:
            for i in range(n):
                for d, k in enumerate(self.included, start=1):
                    if present[i, k]:
                        frames.append(_Frame(i, d, k))
        self.frames = frames


# ------------------------------------------------------------------------------------ the header
def _build_header(inp: FastSegInput, plan: _Plan, source, meta: dict, transfer_syntax_uid: str):
    """The top-level dataset highdicom's constructor would build (without per-frame items)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, generate_uid
    from pydicom.valuerep import format_number_as_ds

    from .. import __version__
    from ._dataset import (
        ACQUISITION_EQUIPMENT,
        PROCESSING_EQUIPMENT,
        contributing_equipment,
        pixel_measures,
        plane_orientation,
        volume_spacing,
    )

    src = source.first
    seg_type = inp.seg_type
    labelmap = seg_type == "LABELMAP"
    sop_class = LABELMAP_SEGMENTATION_STORAGE if labelmap else SEGMENTATION_STORAGE
    sop_uid = meta["sop_instance_uid"]
    ds = Dataset()
    ds.preamble = b"\x00" * 128
    fm = FileMetaDataset()
    fm.FileMetaInformationVersion = b"\x00\x01"
    fm.MediaStorageSOPClassUID = sop_class
    fm.MediaStorageSOPInstanceUID = sop_uid
    fm.TransferSyntaxUID = transfer_syntax_uid
    fm.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    fm.ImplementationVersionName = f"DICOMAI_{__version__}"[:16]
    ds.file_meta = fm

    # base SOP class: patient, study, series, equipment, SOP common
    for kw in _TYPE2_FROM_SOURCE:
        ds.add_new(kw, _vr(kw), None)
    ds.StudyInstanceUID = src.StudyInstanceUID
    ds.SeriesInstanceUID = meta["series_instance_uid"]
    ds.SeriesNumber = meta["series_number"]
    ds.Modality = "SEG"
    ds.Manufacturer = meta["manufacturer"]
    ds.ManufacturerModelName = meta["manufacturer_model_name"]
    ds.DeviceSerialNumber = meta["device_serial_number"]
    ds.SoftwareVersions = meta["software_versions"]
    ds.SOPInstanceUID = sop_uid
    ds.SOPClassUID = sop_class
    ds.InstanceNumber = meta["instance_number"]
    now = datetime.datetime.now()
    ds.InstanceCreationDate = now.strftime("%Y%m%d")
    ds.InstanceCreationTime = now.strftime("%H%M%S.%f")
    if src.get("SpecificCharacterSet") is not None:
        ds.SpecificCharacterSet = src.SpecificCharacterSet
    ds.ContentDate = ds.InstanceCreationDate
    ds.ContentTime = ds.InstanceCreationTime
    for kw in (*SPECIMEN_KEYWORDS, *PATIENT_STUDY_KEYWORDS):
        if kw in src:
            ds.add(src[kw])

    # contributing equipment: the source's acquisition equipment, then the writing software
    equipment = []
    if src.get("Manufacturer"):
        contribution_datetime = src.get("AcquisitionDateTime")
        if contribution_datetime is None:
            date, time = src.get("AcquisitionDate"), src.get("AcquisitionTime")
            if isinstance(date, datetime.date) and isinstance(time, datetime.time):
                contribution_datetime = datetime.datetime.combine(date, time)
        equipment.append(
            contributing_equipment(
                manufacturer=src.get("Manufacturer"),
                purpose_of_reference=ACQUISITION_EQUIPMENT,
                manufacturer_model_name=src.get("ManufacturerModelName"),
                software_versions=src.get("SoftwareVersions"),
                device_serial_number=src.get("DeviceSerialNumber"),
                institution_name=src.get("InstitutionName"),
                institutional_department_name=src.get("InstitutionalDepartmentName"),
                institution_address=src.get("InstitutionAddress"),
                station_name=src.get("StationName"),
                contribution_datetime=contribution_datetime,
                contribution_description="Acquisition equipment of the source image(s)",
            )
        )
    equipment.append(
        contributing_equipment(
            manufacturer="DicomAI",
            manufacturer_model_name="dicomai.seg.fast",
            contribution_datetime=now,
            software_versions=__version__,
            purpose_of_reference=PROCESSING_EQUIPMENT,
            contribution_description="Software library used to create this instance",
        )
    )
    ds.ContributingEquipmentSequence = equipment

    # segmentation image module
    ds.SegmentationType = seg_type
    ds.ContentLabel = meta["content_label"]
    ds.ContentDescription = meta.get("content_description")
    if meta.get("content_creator_name"):
        ds.ContentCreatorName = meta["content_creator_name"]
    n_segments = len(inp.descriptions)
    if seg_type == "FRACTIONAL":
        ds.SegmentationFractionalType = inp.fractional_type
        ds.MaximumFractionalValue = int(inp.max_fractional_value)
        bits = 8
    elif labelmap:
        bits = 8 if n_segments < 256 else 16
        ds.PixelPaddingValue = 0
    else:
        bits = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    # LABELMAP: background is Pixel Padding Value 0 and gets no Segment Sequence item (PS3.3
    # C.8.20.2; an item numbered 0 shows up as an extra segment in OHIF and shifts its colours)
    ds.SegmentSequence = list(inp.descriptions)
    overlap = "NO" if labelmap else meta["segments_overlap"]
    ds.SegmentsOverlap = overlap

    # multi-frame image
    ds.FrameOfReferenceUID = src.FrameOfReferenceUID
    ds.PositionReferenceIndicator = src.get("PositionReferenceIndicator")
    ds.BitsAllocated = bits
    ds.SamplesPerPixel = 1
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    ds.ImageType = ["DERIVED", "PRIMARY"]
    ds.PresentationLUTShape = "IDENTITY"
    refs = []
    for s in source.datasets:
        ref = Dataset()
        ref.ReferencedSOPClassUID = s.SOPClassUID
        ref.ReferencedSOPInstanceUID = s.SOPInstanceUID
        refs.append(ref)
    ds.SourceImageSequence = refs
    series_ref = Dataset()
    series_ref.SeriesInstanceUID = src.SeriesInstanceUID
    series_ref.ReferencedInstanceSequence = refs
    ds.ReferencedSeriesSequence = [series_ref]
    ds.LossyImageCompression = src.get("LossyImageCompression", "00")
    if ds.LossyImageCompression == "01":
        for kw in ("LossyImageCompressionRatio", "LossyImageCompressionMethod"):
            if kw in src:
                setattr(ds, kw, src[kw].value)
    ds.Rows = int(src.Rows)
    ds.Columns = int(src.Columns)

    dim_uid = generate_uid()
    dims = []
    if not labelmap:
        d = Dataset()
        d.DimensionIndexPointer = 0x0062000B
        d.FunctionalGroupPointer = 0x0062000A
        d.DimensionOrganizationUID = dim_uid
        d.DimensionDescriptionLabel = "Referenced Segment Number"
        dims.append(d)
    d = Dataset()
    d.DimensionIndexPointer = 0x00200032
    d.FunctionalGroupPointer = 0x00209113
    d.DimensionOrganizationUID = dim_uid
    d.DimensionDescriptionLabel = "Image Position Patient"
    dims.append(d)
    ds.DimensionIndexSequence = dims
    org = Dataset()
    org.DimensionOrganizationUID = dim_uid
    ds.DimensionOrganizationSequence = [org]

    shared = Dataset()
    iop = src.ImageOrientationPatient
    shared.PlaneOrientationSequence = plane_orientation(iop)
    measures = pixel_measures(
        pixel_spacing=src.PixelSpacing,
        slice_thickness=src.get("SliceThickness"),
        spacing_between_slices=src.get("SpacingBetweenSlices"),
    )
    if "SpacingBetweenSlices" not in measures[0]:
        spacing = volume_spacing(plan.position_values, iop)
        if spacing is not None:
            measures[0].SpacingBetweenSlices = format_number_as_ds(spacing)
    shared.PixelMeasuresSequence = measures
    single_channel = not labelmap and n_segments == 1
    if single_channel:
        shared.SegmentIdentificationSequence = [_segment_identification(1)]
    ds.SharedFunctionalGroupsSequence = [shared]

    # "3D" when the frames differ by position only and the kept planes are regularly spaced
    if len(plan.included) > 1 and (labelmap or single_channel):
        spacing = volume_spacing(plan.position_values[plan.included], iop, sort=False)
        if spacing is not None and spacing > 0.0:
            ds.DimensionOrganizationType = "3D"
    ds.NumberOfFrames = len(plan.frames)
    return ds, bits


_VRS = {
    "PatientID": "LO",
    "PatientName": "PN",
    "PatientBirthDate": "DA",
    "PatientSex": "CS",
    "AccessionNumber": "SH",
    "StudyID": "SH",
    "StudyDate": "DA",
    "StudyTime": "TM",
    "ReferringPhysicianName": "PN",
}


def _vr(keyword: str) -> str:
    return _VRS[keyword]


def _segment_identification(number: int):
    from pydicom.dataset import Dataset

    item = Dataset()
    item.ReferencedSegmentNumber = int(number)
    return item


def _element(tag: int, vr: bytes, value: bytes) -> bytes:
    """One explicit VR little endian element (VRs with a 2-byte length)."""
    return struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr, len(value)) + value


def _ui(uid) -> bytes:
    value = str(uid).encode("ascii")
    return value + b"\x00" if len(value) & 1 else value


def _ds_values(values) -> bytes:
    text = "\\".join(v.original_string if hasattr(v, "original_string") else str(v) for v in values)
    return (text + " " if len(text) & 1 else text).encode("ascii")


def _reference_item(ref) -> bytes:
    return _element(0x00081150, b"UI", _ui(ref.ReferencedSOPClassUID)) + _element(
        0x00081155, b"UI", _ui(ref.ReferencedSOPInstanceUID)
    )


def _header_bytes(ds) -> bytes:
    """:func:`_encode_elements` of the header, with its two per-source-image sequences
    (SourceImageSequence and ReferencedSeriesSequence > ReferencedInstanceSequence: 1,200 items
    for 600 slices, ~0.2 ms an item through pydicom) assembled from bytes.

    pydicom encodes the header with one item in each; those two sequences, built by hand, must
    be found in its bytes exactly once, and are replaced by the full ones. Anything else (another
    layout, a different encoding) makes pydicom encode the whole header.
    """
    refs = ds.get("SourceImageSequence")
    series = ds.get("ReferencedSeriesSequence")
    if not refs or len(refs) < 2 or not series or len(series) != 1:
        return _encode_elements(ds)
    item = series[0]
    instances = item.get("ReferencedInstanceSequence")
    if instances is None or [e.tag for e in item] != [0x0008114A, 0x0020000E]:
        return _encode_elements(ds)
    if any([e.tag for e in r] != [0x00081150, 0x00081155] for r in list(refs) + list(instances)):
        return _encode_elements(ds)

    def sequences(source_refs, instance_refs) -> tuple:
        source = _sequence_bytes(0x00082112, [_reference_item(r) for r in source_refs])
        body = _sequence_bytes(0x0008114A, [_reference_item(r) for r in instance_refs])
        body += _element(0x0020000E, b"UI", _ui(item.SeriesInstanceUID))
        return source, _sequence_bytes(0x00081115, [body])

    full_refs, full_instances = list(refs), list(instances)
    try:
        ds.SourceImageSequence = full_refs[:1]
        item.ReferencedInstanceSequence = full_instances[:1]
        short = _encode_elements(ds)
    finally:
        ds.SourceImageSequence = full_refs
        item.ReferencedInstanceSequence = full_instances
    short_source, short_series = sequences(full_refs[:1], full_instances[:1])
    if short.count(short_source) != 1 or short.count(short_series) != 1:
        return _encode_elements(ds)
    source, series_bytes = sequences(full_refs, full_instances)
    return short.replace(short_series, series_bytes).replace(short_source, source)


class _FrameItems:
    """Encoded pieces of the per-frame items: per slice, per segment, per frame.

    The derivation and plane-position pieces of every slice differ only in UIDs and position
    strings, so they are assembled from bytes; the first slice's pieces are checked against
    pydicom's own encoding, and any difference makes every slice go through pydicom.
    """

    def __init__(self, plan: _Plan, source):
        from pydicom.dataset import Dataset

        from ._dataset import SEGMENTATION_DERIVATION, SOURCE_IMAGE_FOR_PROCESSING, code_item

        self.plan = plan
        self.source = source
        self.purpose = code_item(SOURCE_IMAGE_FOR_PROCESSING)
        self.derivation_code = code_item(SEGMENTATION_DERIVATION)
        holder = Dataset()
        holder.PurposeOfReferenceCodeSequence = [self.purpose]
        self._purpose_bytes = _encode_elements(holder)
        holder = Dataset()
        holder.DerivationCodeSequence = [self.derivation_code]
        self._derivation_code_bytes = _encode_elements(holder)
        self._by_hand = True
        used = sorted({f.k for f in plan.frames})
        if used:
            k = used[0]
            self._by_hand = self._derivation_by_hand(k) == self._derivation_by_pydicom(
                k
            ) and self._position_by_hand(k) == self._position_by_pydicom(k)

    def _derivation_by_pydicom(self, k: int) -> bytes:
        from pydicom.dataset import Dataset

        s = self.source.datasets[k]
        src_item = Dataset()
        src_item.ReferencedSOPClassUID = s.SOPClassUID
        src_item.ReferencedSOPInstanceUID = s.SOPInstanceUID
        src_item.PurposeOfReferenceCodeSequence = [self.purpose]
        src_item.SpatialLocationsPreserved = "YES"
        der_item = Dataset()
        der_item.DerivationCodeSequence = [self.derivation_code]
        der_item.SourceImageSequence = [src_item]
        holder = Dataset()
        holder.DerivationImageSequence = [der_item]
        return _encode_elements(holder)

    def _derivation_by_hand(self, k: int) -> bytes:
        s = self.source.datasets[k]
        src_item = (
            _element(0x00081150, b"UI", _ui(s.SOPClassUID))
            + _element(0x00081155, b"UI", _ui(s.SOPInstanceUID))
            + _element(0x0028135A, b"CS", b"YES ")
            + self._purpose_bytes
        )
        der_item = _sequence_bytes(0x00082112, [src_item]) + self._derivation_code_bytes
        return _sequence_bytes(0x00089124, [der_item])

    def _position_by_pydicom(self, k: int) -> bytes:
        from pydicom.dataset import Dataset

        holder = Dataset()
        holder.PlanePositionSequence = self.plan.positions[k]
        return _encode_elements(holder)

    def _position_by_hand(self, k: int) -> bytes:
        values = self.plan.positions[k][0].ImagePositionPatient
        return _sequence_bytes(0x00209113, [_element(0x00200032, b"DS", _ds_values(values))])

    def items(self) -> List[bytes]:
        plan = self.plan
        derivation: dict = {}
        position: dict = {}
        for k in sorted({f.k for f in plan.frames}):
            if self._by_hand:
                derivation[k], position[k] = self._derivation_by_hand(k), self._position_by_hand(k)
            else:
                derivation[k], position[k] = self._derivation_by_pydicom(k), self._position_by_pydicom(k)
        labelmap = plan.seg_type == "LABELMAP"
        per_segment = not labelmap and len(plan.inp.descriptions) > 1
        identification = {}
        if per_segment:
            for i in range(len(plan.inp.descriptions)):
                value = struct.pack("<H", i + 1)
                identification[i] = _sequence_bytes(0x0062000A, [_element(0x0062000B, b"US", value)])
        items = []
        for f in plan.frames:
            index = [f.dim_index] if labelmap else [f.segment_index + 1, f.dim_index]
            body = derivation[f.k] + _frame_content_bytes(index) + position[f.k]
            if per_segment:
                body += identification[f.segment_index]
            items.append(body)
        return items


# ------------------------------------------------------------------------------------ pixel frames
def _frame_arrays(plan: _Plan, bits: int):
    """Yield each frame's pixel values (2D uint8 0/1, uint8 or uint16 arrays) in frame order."""
    inp = plan.inp
    if plan.seg_type == "LABELMAP":
        layer = inp.layers[inp.where[0][0]]
        values = [v for _, v in inp.where]
        dtype = np.uint8 if bits == 8 else np.uint16
        identity = values == list(range(1, len(values) + 1)) and layer.dtype == dtype
        lut = None
        if not identity:
            top = max(int(layer.max()), *values)
            lut = np.zeros(top + 1, dtype=dtype)
            for number, v in enumerate(values, start=1):
                lut[v] = number
        for f in plan.frames:
            s = layer[f.k]
            yield s if lut is None else lut[s]
    elif plan.seg_type == "FRACTIONAL":
        for f in plan.frames:
            yield _quantize(inp.fractions[f.segment_index][f.k], inp.max_fractional_value)
    else:
        for f in plan.frames:
            li, v = inp.where[f.segment_index]
            s = inp.layers[li][f.k]
            yield np.equal(s, v).view(np.uint8)


class _Sink:
    """The output file, or a deflate stream into it.

    With ``threaded``, a deflate stream is compressed and written by a second thread (zlib
    releases the GIL) while the caller packs the next frames; the pieces reach the compressor in
    the same order and sizes either way, so the bytes are the same.
    """

    def __init__(self, fp, deflate: bool, threaded: bool = False):
        self.fp = fp
        self.z = (
            zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -zlib.MAX_WBITS) if deflate else None
        )
        self._queue = None
        self._thread = None
        self._error: list = []
        if self.z is not None and threaded:
            import queue
            import threading

            self._queue = queue.Queue(maxsize=64)
            self._thread = threading.Thread(target=self._run, name="dicomai-deflate", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            data = self._queue.get()
            if data is None:
                return
            if self._error:
                continue  # drain: the caller sees the error at its next write or at close
            try:
                self.fp.write(self.z.compress(data))
            except BaseException as e:  # handed to the writing thread
                self._error.append(e)

    def _raise(self) -> None:
        if self._error:
            raise self._error[0]

    def write(self, data) -> None:
        if self._queue is not None:
            self._raise()
            self._queue.put(data)
        elif self.z is None:
            self.fp.write(data)
        else:
            self.fp.write(self.z.compress(data))

    def close(self) -> None:
        self.stop()
        if self.z is not None:
            self.fp.write(self.z.flush())

    def stop(self, raise_error: bool = True) -> None:
        """Wait for the compressing thread (if any); raise what it raised."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
            self._queue = None
        if raise_error:
            self._raise()


def _write_native_pixels(sink: _Sink, frames, n_frames: int, rows: int, cols: int, bits: int) -> None:
    npix = rows * cols
    if bits == 1:
        length = (n_frames * npix + 7) // 8
    else:
        length = n_frames * npix * (bits // 8)
    padded = length + (length & 1)
    vr = b"OW" if bits > 8 else b"OB"
    sink.write(struct.pack("<HH2sHL", 0x7FE0, 0x0010, vr, 0, padded))
    if bits == 1 and npix % 8:
        # frames are not byte aligned: carry the leftover bits into the next frame (PS3.5 8.1.1)
        carry = np.zeros(0, dtype=np.uint8)
        for frame in frames:
            flat = np.concatenate([carry, frame.reshape(-1)])
            take = (flat.size // 8) * 8
            sink.write(np.packbits(flat[:take], bitorder="little").tobytes())
            carry = flat[take:]
        if carry.size:
            sink.write(np.packbits(carry, bitorder="little").tobytes())
    elif bits == 1:
        for frame in frames:
            sink.write(np.packbits(frame.reshape(-1), bitorder="little").tobytes())
    else:
        for frame in frames:
            sink.write(np.ascontiguousarray(frame, dtype="<u2" if bits == 16 else np.uint8).tobytes())
    if length & 1:
        sink.write(b"\x00")


def _encode_compressed(frame: np.ndarray, transfer_syntax_uid: str, bits: int) -> bytes:
    if transfer_syntax_uid == RLE_LOSSLESS:
        from ._rle import encode_frame

        return encode_frame(frame if bits != 1 else frame.astype(np.uint8))
    from highdicom.frame import encode_frame

    return encode_frame(
        np.ascontiguousarray(frame),
        transfer_syntax_uid=transfer_syntax_uid,
        bits_allocated=bits,
        bits_stored=bits,
        photometric_interpretation="MONOCHROME2",
        pixel_representation=0,
    )


#: Codecs whose encoder may run on several threads at once (checked by test_fast_workers.py).
#: Not JPEG 2000: pylibjpeg-openjpeg 2.6 crashes when two threads encode at the same time.
_THREAD_SAFE = (RLE_LOSSLESS, JPEG_LS_LOSSLESS)


def _write_encapsulated_pixels(
    sink: _Sink, frames, transfer_syntax_uid: str, bits: int, workers: int = 1
) -> None:
    def encode(frame):
        return _encode_compressed(frame, transfer_syntax_uid, bits)

    threads = workers if transfer_syntax_uid in _THREAD_SAFE else 1
    encoded = list(_ordered_map(encode, frames, threads))
    items = []
    offsets = []
    pos = 0
    for data in encoded:
        if len(data) & 1:
            data += b"\x00"
        offsets.append(pos)
        pos += 8 + len(data)
        items.append(data)
    sink.write(struct.pack("<HH2sHL", 0x7FE0, 0x0010, b"OB", 0, 0xFFFFFFFF))
    bot = struct.pack(f"<{len(offsets)}L", *offsets)
    sink.write(struct.pack("<HHL", 0xFFFE, 0xE000, len(bot)) + bot)
    for data in items:
        sink.write(struct.pack("<HHL", 0xFFFE, 0xE000, len(data)))
        sink.write(data)
    sink.write(struct.pack("<HHL", 0xFFFE, 0xE0DD, 0))


# ------------------------------------------------------------------------------------ the writer
def write_fast(
    inp: FastSegInput,
    source,
    path,
    meta: dict,
    transfer_syntax_uid: str = EXPLICIT_VR_LE,
    progress: Optional[Callable[[float, str], None]] = None,
):
    """Write the SEG to ``path`` (an open-able path; the caller handles atomic renaming).

    ``inp.workers``: threads that encode frames or deflate the file (see :class:`FastSegInput`).

    ``meta`` holds the header values highdicom's constructor takes: ``sop_instance_uid``,
    ``series_instance_uid``, ``series_number``, ``instance_number``, ``manufacturer``,
    ``manufacturer_model_name``, ``software_versions``, ``device_serial_number``,
    ``content_label``, ``content_description``, ``content_creator_name``, ``segments_overlap``
    and ``extra`` (keyword -> value set last: SeriesDescription, BodyPartExamined...).

    Returns the number of frames written.
    """
    from pydicom.filewriter import write_file_meta_info

    report = progress or (lambda fraction, message: None)
    workers = _workers(inp.workers)
    plan = _Plan(inp, source)
    if not plan.frames:
        raise InputError("every segment is empty (no voxel set): nothing to write")
    ds, bits = _build_header(inp, plan, source, meta, transfer_syntax_uid)
    for kw, value in (meta.get("extra") or {}).items():
        setattr(ds, kw, value)
    report(0.3, f"encoding {len(plan.frames)} frame(s)")
    items = _FrameItems(plan, source).items()
    body = _header_bytes(ds)
    rows, cols = int(ds.Rows), int(ds.Columns)
    with open(path, "wb") as fp:
        fp.write(ds.preamble + b"DICM")
        write_file_meta_info(fp, ds.file_meta, enforce_standard=True)
        sink = _Sink(fp, deflate=transfer_syntax_uid == DEFLATED_LE, threaded=workers > 1)
        try:
            sink.write(body)
            sink.write(_sequence_bytes(0x52009230, items))
            del items
            frames = _frame_arrays(plan, bits)
            if transfer_syntax_uid in (EXPLICIT_VR_LE, DEFLATED_LE):
                _write_native_pixels(sink, frames, len(plan.frames), rows, cols, bits)
            else:
                _write_encapsulated_pixels(sink, frames, transfer_syntax_uid, bits, workers)
            sink.close()
        finally:
            sink.stop(raise_error=False)  # an error on the way is already being raised
    report(0.95, "written")
    return ds, len(plan.frames)
