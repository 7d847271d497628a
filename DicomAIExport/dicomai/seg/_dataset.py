"""The pieces of a SEG that highdicom's content classes build, built with pydicom (and numpy) alone.

The fast writer (:mod:`dicomai.seg.fast`) writes what highdicom's ``Segmentation`` constructor
writes, but importing highdicom costs a command-line export 0.07 s beyond pydicom (and highdicom
imports pydicom.sr, another 0.15 s), and building 100 segment descriptions with its classes took
0.1 s. Each function here builds the same pydicom dataset as the highdicom class it names (0.27 and
0.28 build the same, but for the spacing check noted at :func:`volume_spacing`), with the same
arithmetic and the same errors on bad values:

- :func:`code_item`: ``sr.CodedConcept``;
- :func:`cielab_from_rgb`: ``color.CIELabColor.from_rgb(...).value``, and its inverse
  :func:`rgb_from_cielab` (``CIELabColor.to_rgb``, what the SEG reader uses);
- :func:`algorithm_identification`: ``AlgorithmIdentificationSequence``;
- :func:`segment_item`: ``seg.SegmentDescription``, and :func:`segment_description` that item as
  ``encode.segment_description`` fills it;
- :func:`contributing_equipment`: ``ContributingEquipment``;
- :func:`plane_position`, :func:`plane_orientation`, :func:`pixel_measures`:
  ``PlanePositionSequence``, ``PlaneOrientationSequence`` (patient coordinates),
  ``PixelMeasuresSequence``;
- :func:`normal_vector`: ``spatial.get_normal_vector(..., VOLUME_INDEX_CONVENTION)``;
- :func:`volume_spacing`: ``spatial.get_volume_positions(...)[0]`` with default tolerances.

``Testing/core/test_fast_path.py`` proves each one equal to highdicom's (encoded bytes, or the
values), besides comparing whole files.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from ..coding import Code
from .enum import SegmentAlgorithmType

__all__ = [
    "ACQUISITION_EQUIPMENT",
    "ARTIFICIAL_INTELLIGENCE",
    "BLACK_CIELAB",
    "BACKGROUND",
    "PROCESSING_EQUIPMENT",
    "SEGMENTATION_DERIVATION",
    "SOURCE_IMAGE_FOR_PROCESSING",
    "TISSUE",
    "algorithm_identification",
    "cielab_from_rgb",
    "code_item",
    "contributing_equipment",
    "normal_vector",
    "pixel_measures",
    "plane_orientation",
    "plane_position",
    "rgb_from_cielab",
    "segment_description",
    "segment_item",
    "volume_spacing",
]


# the pydicom.sr.codedict concepts the writer uses (test_fast_path.py checks them against pydicom's)
ARTIFICIAL_INTELLIGENCE = Code("123110", "DCM", "Artificial Intelligence")
BACKGROUND = Code("125040", "DCM", "Background")
ACQUISITION_EQUIPMENT = Code("109101", "DCM", "Acquisition Equipment")
PROCESSING_EQUIPMENT = Code("109102", "DCM", "Processing Equipment")
SOURCE_IMAGE_FOR_PROCESSING = Code("121322", "DCM", "Source image for image processing operation")
SEGMENTATION_DERIVATION = Code("113076", "DCM", "Segmentation")  # SegmentationImageDerivation
TISSUE = Code("85756007", "SCT", "Tissue")

_ALGORITHM_TYPES = SegmentAlgorithmType.values()


# ------------------------------------------------------------------------------------ codes
def code_item(code):
    """A code sequence item, as ``highdicom.sr.CodedConcept(value, scheme, meaning, version)``.

    ``code`` is a :class:`dicomai.coding.Code` or a :class:`pydicom.sr.coding.Code`.

    Values longer than 16 characters go to URNCodeValue (URNs and URLs) or LongCodeValue.
    """
    from pydicom.dataset import Dataset

    value, scheme, meaning = code.value, code.scheme_designator, code.meaning
    version = getattr(code, "scheme_version", None)
    item = Dataset()
    if len(value) > 16:
        if value.startswith("urn") or "://" in value:
            item.URNCodeValue = str(value)
        else:
            item.LongCodeValue = str(value)
    else:
        item.CodeValue = str(value)
    if len(meaning) > 64:
        raise ValueError("Code meaning can have maximally 64 characters.")
    item.CodeMeaning = str(meaning)
    item.CodingSchemeDesignator = str(scheme)
    if version is not None:
        item.CodingSchemeVersion = str(version)
    return item


# ------------------------------------------------------------------------------------ colour
# highdicom.color's sRGB -> CIELab, itself adapted from PixelMed's ColorUtilities: the same
# operations in the same order, so the same floating-point results.
def _rgb_component(c: float) -> float:
    c = c / 255.0
    if c > 0.04045:
        return ((c + 0.055) / 1.055) ** 2.4
    return c / 12.92


def _lab_component(c: float) -> float:
    if c >= 8.85645167903563082e-3:
        return c ** (1.0 / 3)
    return (841.0 / 108.0) * c + (4.0 / 29.0)


def cielab_from_rgb(r: float, g: float, b: float) -> tuple:
    """sRGB 0-255 -> RecommendedDisplayCIELabValue (three 16-bit integers), as highdicom computes it."""
    for c in [r, g, b]:
        if not (0 <= c <= 255):
            raise ValueError("Each RGB component must lie in the range 0 to 255.")
    r = _rgb_component(r) * 100
    g = _rgb_component(g) * 100
    b = _rgb_component(b) * 100
    x = r * 0.4124 + g * 0.3576 + b * 0.1805
    y = r * 0.2126 + g * 0.7152 + b * 0.0722
    z = r * 0.0193 + g * 0.1192 + b * 0.9505
    x = _lab_component(x / 95.047)
    y = _lab_component(y / 100.0)
    z = _lab_component(z / 108.883)
    return _cielab_value(116 * y - 16, 500 * (x - y), 200 * (y - z))


def _cielab_value(l_star: float, a_star: float, b_star: float) -> tuple:
    """highdicom.color.CIELabColor(l, a, b).value."""
    if l_star < 0.0 or l_star > 100.0:
        raise ValueError('Value for "l_star" must lie between 0.0 (black) and 100.0 (white).')
    if a_star < -128.0 or a_star > 127.0:
        raise ValueError('Value for "a_star" must lie between -128.0 (red) and 127.0 (green).')
    if b_star < -128.0 or b_star > 127.0:
        raise ValueError('Value for "b_star" must lie between -128.0 (blue) and 127.0 (yellow).')
    return (
        round(l_star * 0xFFFF / 100.0),
        round((a_star + 128.0) * 0xFFFF / 255.0),
        round((b_star + 128.0) * 0xFFFF / 255.0),
    )


BLACK_CIELAB = _cielab_value(0.0, 0.0, 0.0)


def rgb_from_cielab(value) -> Optional[tuple]:
    """sRGB 0-255 of a RecommendedDisplayCIELabValue, or None when it is not a displayable colour.

    The conversion (CIELab D65 -> XYZ -> sRGB) is highdicom's ``CIELabColor.to_rgb``, written out
    here so that reading a SEG does not import highdicom (the SEG reader uses it);
    test_seg_types.py checks both agree.
    """
    if not value or len(value) != 3:
        return None
    try:
        l_val, a_val, b_val = (int(v) for v in value)
    except (TypeError, ValueError):
        return None
    l_star = l_val * (100.0 / 0xFFFF)
    a_star = a_val * (255.0 / 0xFFFF) - 128.0
    b_star = b_val * (255.0 / 0xFFFF) - 128.0
    y = (l_star + 16) / 116
    x = a_star / 500 + y
    z = y - b_star / 200

    def lab_component(c: float) -> float:
        c3 = c**3
        return c3 if c3 > 0.008856 else (c - 16.0 / 116) / 7.787

    x, y, z = 95.047 * lab_component(x), 100.0 * lab_component(y), 108.883 * lab_component(z)
    x, y, z = x / 100, y / 100, z / 100
    linear = (
        x * 3.2406 + y * -1.5372 + z * -0.4986,
        x * -0.9689 + y * 1.8758 + z * 0.0415,
        x * 0.0557 + y * -0.2040 + z * 1.0570,
    )
    out = []
    for c in linear:
        c = (1.055 * (c ** (1 / 2.4)) - 0.055 if c > 0.0031308 else 12.92 * c) * 255
        if not 0 <= round(c) <= 255:
            return None
        out.append(int(round(c)))
    return tuple(out)


# ------------------------------------------------------------------------------------ segments
def algorithm_identification(name: str, family, version: str) -> list:
    """SegmentationAlgorithmIdentificationSequence, as highdicom's AlgorithmIdentificationSequence."""
    from pydicom.dataset import Dataset

    item = Dataset()
    item.AlgorithmName = name
    item.AlgorithmVersion = version
    item.AlgorithmFamilyCodeSequence = [code_item(family)]
    return [item]


def segment_item(
    segment_number: int,
    segment_label: str,
    category,
    type_,
    algorithm_type: str,
    algorithm_identification: Optional[list] = None,
    tracking_uid: Optional[str] = None,
    tracking_id: Optional[str] = None,
    anatomic_regions: Optional[Sequence] = None,
    display_color: Optional[tuple] = None,
):
    """A Segment Sequence item, as ``highdicom.seg.SegmentDescription(...)``.

    ``category``, ``type_`` and ``anatomic_regions`` are code items (:func:`code_item`);
    ``display_color`` is the CIELab value (:func:`cielab_from_rgb`).
    """
    from pydicom.dataset import Dataset

    if segment_number < 1 or segment_number > 65535:
        raise ValueError("Segment number must be a positive integer below 65536.")
    if algorithm_type not in _ALGORITHM_TYPES:
        raise ValueError(f"{algorithm_type!r} is not a valid SegmentAlgorithmTypeValues")
    item = Dataset()
    item.SegmentNumber = segment_number
    item.SegmentLabel = segment_label
    item.SegmentedPropertyCategoryCodeSequence = [category]
    item.SegmentedPropertyTypeCodeSequence = [type_]
    item.SegmentAlgorithmType = algorithm_type
    if algorithm_identification is None:
        if algorithm_type != "MANUAL":
            raise TypeError(
                "Algorithm identification sequence is required unless the segmentation type is MANUAL"
            )
    else:
        item.SegmentAlgorithmName = algorithm_identification[0].AlgorithmName
        item.SegmentationAlgorithmIdentificationSequence = algorithm_identification
    given = sum([tracking_id is not None, tracking_uid is not None])
    if given == 2:
        item.TrackingID = tracking_id
        item.TrackingUID = tracking_uid
    elif given == 1:
        raise TypeError("Tracking ID and Tracking UID must both be provided.")
    if anatomic_regions is not None:
        item.AnatomicRegionSequence = list(anatomic_regions)
    if display_color is not None:
        item.RecommendedDisplayCIELabValue = list(display_color)
    return item


def segment_description(seg, number: int):
    """The Segment Sequence item of one segment, equal to ``encode.segment_description(seg, number)``
    (which builds it with highdicom)."""
    algorithm = None
    if seg.algorithm_type != "MANUAL":
        family = seg.algorithm_family if seg.algorithm_family is not None else ARTIFICIAL_INTELLIGENCE
        algorithm = algorithm_identification(
            name=seg.algorithm_name or "unknown", family=family, version=seg.algorithm_version or "unknown"
        )
    category = seg.category if seg.category is not None else TISSUE
    typ = seg.type if seg.type is not None else TISSUE
    item = segment_item(
        number,
        (seg.label or f"Segment {number}")[:64],
        code_item(category),
        code_item(typ),
        seg.algorithm_type,
        algorithm_identification=algorithm,
        tracking_uid=seg.tracking_uid,
        tracking_id=seg.tracking_id,
        anatomic_regions=[code_item(seg.anatomic_region)] if seg.anatomic_region is not None else None,
        display_color=cielab_from_rgb(*seg.color) if seg.color is not None else None,
    )
    if seg.type_modifiers:
        item.SegmentedPropertyTypeCodeSequence[0].SegmentedPropertyTypeModifierCodeSequence = [
            code_item(c) for c in seg.type_modifiers
        ]
    if seg.anatomic_region is not None and seg.anatomic_region_modifiers:
        item.AnatomicRegionSequence[0].AnatomicRegionModifierSequence = [
            code_item(c) for c in seg.anatomic_region_modifiers
        ]
    if seg.description:
        item.SegmentDescription = seg.description[:64]
    return item


# ------------------------------------------------------------------------------------ equipment
def _check_string(s, limit: int, name: str) -> None:
    """highdicom.valuerep's _check_long_string/_check_short_string/_check_short_text."""
    if len(s) > limit:
        raise ValueError(f"Values of DICOM value representation {name} must not exceed {limit} characters.")
    if "\\" in s:
        raise ValueError(
            f"Values of DICOM value representation {name} must not contain the backslash character."
        )


def _lo(s) -> None:
    _check_string(s, 64, "Long String (LO)")


def contributing_equipment(
    manufacturer: str,
    purpose_of_reference,
    *,
    manufacturer_model_name=None,
    software_versions=None,
    device_serial_number=None,
    institution_name=None,
    institutional_department_name=None,
    institution_address=None,
    station_name=None,
    contribution_datetime=None,
    contribution_description=None,
):
    """A ContributingEquipmentSequence item, as ``highdicom.ContributingEquipment(...)``."""
    from pydicom.dataset import Dataset
    from pydicom.valuerep import DT

    item = Dataset()
    _lo(manufacturer)
    item.Manufacturer = manufacturer
    item.PurposeOfReferenceCodeSequence = [code_item(purpose_of_reference)]
    if manufacturer_model_name is not None:
        _lo(manufacturer_model_name)
        item.ManufacturerModelName = manufacturer_model_name
    if institution_name is not None:
        _lo(institution_name)
        item.InstitutionName = institution_name
    if institutional_department_name is not None:
        _lo(institutional_department_name)
        item.InstitutionalDepartmentName = institutional_department_name
    if institution_address is not None:
        _check_string(institution_address, 1024, "Short Text (ST)")
        item.InstitutionAddress = institution_address
    if station_name is not None:
        _check_string(station_name, 16, "Short String (SH)")
        item.StationName = station_name
    if device_serial_number is not None:
        _lo(device_serial_number)
        item.DeviceSerialNumber = device_serial_number
    if software_versions is not None:
        if isinstance(software_versions, str):
            _lo(software_versions)
        else:
            software_versions = list(software_versions)
            if len(software_versions) == 0:
                raise ValueError("Argument 'software_versions' must not be empty.")
            for version in software_versions:
                _lo(version)
        item.SoftwareVersions = software_versions
    if contribution_datetime is not None:
        item.ContributionDateTime = DT(contribution_datetime)
    if contribution_description is not None:
        _check_string(contribution_description, 1024, "Short Text (ST)")
        item.ContributionDescription = contribution_description
    return item


# ------------------------------------------------------------------------------------ geometry
def plane_position(image_position) -> list:
    """PlanePositionSequence of one plane in patient coordinates (values as auto-formatted DS)."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence as DicomSequence
    from pydicom.valuerep import DS

    item = Dataset()
    item.ImagePositionPatient = [DS(ip, auto_format=True) for ip in image_position]
    return DicomSequence([item])


def plane_orientation(image_orientation) -> list:
    """PlaneOrientationSequence in patient coordinates."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence as DicomSequence
    from pydicom.valuerep import DS

    item = Dataset()
    item.ImageOrientationPatient = [DS(io, auto_format=True) for io in image_orientation]
    return DicomSequence([item])


def pixel_measures(pixel_spacing, slice_thickness, spacing_between_slices=None) -> list:
    """PixelMeasuresSequence."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence as DicomSequence
    from pydicom.valuerep import DS

    item = Dataset()
    item.PixelSpacing = [DS(ps, auto_format=True) for ps in pixel_spacing]
    if slice_thickness is not None:
        item.SliceThickness = DS(slice_thickness, auto_format=True)
    if spacing_between_slices is not None:
        item.SpacingBetweenSlices = DS(spacing_between_slices, auto_format=True)
    return DicomSequence([item])


def normal_vector(image_orientation) -> np.ndarray:
    """The slice normal highdicom sorts planes by: column cosines x row cosines (its volume index
    convention: first index down the rows, second along them, right-handed)."""
    iop = np.array(image_orientation, dtype=np.float64)
    if iop.ndim != 1 or iop.shape[0] != 6:
        raise ValueError("Argument 'image_orientation' should be an array of length 6.")
    return np.cross(iop[3:], iop[:3])


_SPACING_RTOL = 1e-2
_PERPENDICULAR_TOL = 1e-3


def volume_spacing(image_positions, image_orientation, sort: bool = True) -> Optional[float]:
    """The slice spacing when the positions form a regular volume along the normal, else ``None``:
    ``highdicom.spatial.get_volume_positions(image_positions, image_orientation, sort=sort)[0]``
    with its default tolerances, as 0.28 has it (0.27 checks only the first-to-last span against
    the normal, so it also accepts positions that zig-zag off the line in between)."""
    positions = np.array(image_positions)
    if positions.ndim != 2 or positions.shape[1] != 3:
        raise ValueError("Argument 'image_positions' should be an (N, 3) array.")
    n = positions.shape[0]
    if n == 0:
        raise ValueError("Argument 'image_positions' should contain at least 1 position.")
    if n == 1:
        return 1.0
    normal = normal_vector(image_orientation)
    # highdicom takes np.unique(positions, axis=0), which imports numpy.ma (15 ms): the rows in
    # lexicographic order are the same array when no two rows are equal (else: None, as highdicom)
    unique_positions = positions[np.lexsort(positions.T[::-1])]
    if np.any(np.all(unique_positions[1:] == unique_positions[:-1], axis=1)):
        return None  # duplicate positions
    distances = (normal[None] @ unique_positions.T).squeeze(0)
    if sort:
        sort_index = np.argsort(distances)
        distances_sorted = distances[sort_index]
    else:
        sort_index = np.arange(unique_positions.shape[0])
        distances_sorted = distances
    spacings = np.diff(distances_sorted)
    spacing = (distances_sorted[-1] - distances_sorted[0]) / (len(distances_sorted) - 1)
    is_regular = np.isclose(spacings, spacing, rtol=_SPACING_RTOL, atol=0.0).all()
    spans = unique_positions[sort_index[1:]] - unique_positions[sort_index[0]]
    spans /= np.linalg.norm(spans, axis=1)[:, None]
    dot_products = spans @ normal
    is_perpendicular = np.all(
        np.logical_or(
            np.abs(dot_products - 1.0) < _PERPENDICULAR_TOL, np.abs(dot_products + 1.0) < _PERPENDICULAR_TOL
        )
    )
    if is_regular and is_perpendicular:
        return abs(spacing)
    return None
