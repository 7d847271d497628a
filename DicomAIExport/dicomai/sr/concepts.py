"""Coded concepts of the TID 1500 family that the SR package writes and recognises.

Concepts are :class:`dicomai.coding.Code` (equal to pydicom's ``Code`` for the same concept); their
equality treats retired SNOMED-RT ("SRT") codes as their SNOMED CT ("SCT") equivalents, so
``Code("G-C0E3", "SRT", ...)`` equals :data:`FINDING_SITE`. The numbers in the comments are DICOM
PS3.16 template rows or context groups.
"""

from __future__ import annotations

from typing import Optional

from ..coding import Code, is_code

__all__ = [
    "ALGORITHM_NAME",
    "ALGORITHM_PARAMETERS",
    "ALGORITHM_VERSION",
    "ANGLE",
    "ANGLE_CONCEPTS",
    "AREA",
    "AREA_CONCEPTS",
    "BOUNDED_BY",
    "CERTAINTY_OF_FINDING",
    "DEGREE",
    "DERIVATION",
    "DIAGNOSTIC_IMAGING_REPORT",
    "FINDING",
    "FINDING_CATEGORY",
    "FINDING_SITE",
    "GEOMETRIC_PURPOSE",
    "HOUNSFIELD_UNIT",
    "IMAGE_REGION",
    "IMAGING_MEASUREMENTS",
    "IMAGING_MEASUREMENT_REPORT",
    "LENGTH",
    "LENGTH_CONCEPTS",
    "MEASUREMENT_GROUP",
    "MEASUREMENT_METHOD",
    "MILLIMETER",
    "NO_UNITS",
    "PERIMETER",
    "REFERENCED_SEGMENT",
    "REGION_IN_SPACE",
    "SQUARE_MILLIMETER",
    "CUBIC_MILLIMETER",
    "TRACKING_IDENTIFIER",
    "TRACKING_UID",
    "VOLUME",
    "VOLUME_OF_BOUNDING_REGION",
    "VOLUME_SURFACE",
    "code",
    "format_code",
    "is_concept",
    "parse_code",
]


def code(value: str, scheme: str, meaning: str) -> Code:
    return Code(str(value), str(scheme), str(meaning))


# ------------------------------------------------------------------------ document structure
IMAGING_MEASUREMENT_REPORT = code("126000", "DCM", "Imaging Measurement Report")  # CID 7021
# the title of a report without any image region when written for OHIF (CID 7000; see viewers.py)
DIAGNOSTIC_IMAGING_REPORT = code("18748-4", "LN", "Diagnostic imaging report")
IMAGING_MEASUREMENTS = code("126010", "DCM", "Imaging Measurements")
MEASUREMENT_GROUP = code("125007", "DCM", "Measurement Group")
IMAGE_LIBRARY = code("111028", "DCM", "Image Library")
IMAGE_LIBRARY_GROUP = code("126200", "DCM", "Image Library Group")
QUALITATIVE_EVALUATIONS = code("C0034375", "UMLS", "Qualitative Evaluations")
PROCEDURE_REPORTED = code("121058", "DCM", "Procedure reported")
LANGUAGE = code("121049", "DCM", "Language of Content Item and Descendants")
OBSERVER_TYPE = code("121005", "DCM", "Observer Type")
PERSON = code("121006", "DCM", "Person")
DEVICE = code("121007", "DCM", "Device")
PERSON_OBSERVER_NAME = code("121008", "DCM", "Person Observer Name")
PERSON_OBSERVER_ORGANIZATION = code("121009", "DCM", "Person Observer's Organization Name")
PERSON_OBSERVER_ROLE = code("121010", "DCM", "Person Observer's Role in the Organization")
DEVICE_OBSERVER_UID = code("121012", "DCM", "Device Observer UID")
DEVICE_OBSERVER_NAME = code("121013", "DCM", "Device Observer Name")
DEVICE_OBSERVER_MANUFACTURER = code("121014", "DCM", "Device Observer Manufacturer")
DEVICE_OBSERVER_MODEL_NAME = code("121015", "DCM", "Device Observer Model Name")
DEVICE_OBSERVER_SERIAL_NUMBER = code("121016", "DCM", "Device Observer Serial Number")

# ------------------------------------------------------------------------ measurement groups
TRACKING_IDENTIFIER = code("112039", "DCM", "Tracking Identifier")
TRACKING_UID = code("112040", "DCM", "Tracking Unique Identifier")
FINDING = code("121071", "DCM", "Finding")
FINDING_CATEGORY = code("276214006", "SCT", "Finding category")
FINDING_SITE = code("363698007", "SCT", "Finding Site")
LATERALITY = code("272741003", "SCT", "Laterality")
TOPOGRAPHICAL_MODIFIER = code("106233006", "SCT", "Topographical modifier")
MEASUREMENT_METHOD = code("370129005", "SCT", "Measurement Method")
DERIVATION = code("121401", "DCM", "Derivation")
GEOMETRIC_PURPOSE = code("130400", "DCM", "Geometric purpose of region")
IMAGE_REGION = code("111030", "DCM", "Image Region")
REGION_IN_SPACE = code("130488", "DCM", "Region in Space")
VOLUME_SURFACE = code("121231", "DCM", "Volume Surface")
REFERENCED_SEGMENT = code("121191", "DCM", "Referenced Segment")
REFERENCED_SEGMENTATION_FRAME = code("121214", "DCM", "Referenced Segmentation Frame")
SOURCE_SERIES_FOR_SEGMENTATION = code("121232", "DCM", "Source series for segmentation")
SOURCE_IMAGE_FOR_SEGMENTATION = code("121233", "DCM", "Source image for segmentation")
SOURCE = code("260753009", "SCT", "Source")
SOURCE_OF_MEASUREMENT = code("121112", "DCM", "Source of Measurement")
REAL_WORLD_VALUE_MAP = code("126100", "DCM", "Real World Value Map used for measurement")
ALGORITHM_NAME = code("111001", "DCM", "Algorithm Name")
ALGORITHM_VERSION = code("111003", "DCM", "Algorithm Version")
ALGORITHM_PARAMETERS = code("111002", "DCM", "Algorithm Parameters")
ACTIVITY_SESSION = code("C67447", "NCIt", "Activity Session")
TIME_POINT = code("C2348792", "UMLS", "Time Point")

# ------------------------------------------------------------------------ geometric purpose (CID 219)
BOUNDED_BY = code("75958009", "SCT", "Bounded by")
CENTER = code("111010", "DCM", "Center")

# ------------------------------------------------------------------------ quantities
LENGTH = code("410668003", "SCT", "Length")  # CID 7470
PERIMETER = code("131191004", "SCT", "Perimeter")  # CID 7470
AREA = code("42798000", "SCT", "Area")  # CID 7472 (area)
ANGLE = code("1483009", "SCT", "Angle")
VOLUME = code("118565006", "SCT", "Volume")  # CID 7472 (volume)
VOLUME_OF_BOUNDING_REGION = code("121219", "DCM", "Volume of bounding three dimensional region")
CERTAINTY_OF_FINDING = code("111012", "DCM", "Certainty of Finding")
COMMENT = code("121106", "DCM", "Comment")
SUM_OF_SEGMENTED_VOXELS = code("126030", "DCM", "Sum of segmented voxel method for volume")

# concepts recognised on import as "the length of a line", "the area of a region", "an angle"
LENGTH_CONCEPTS = (
    LENGTH,
    code("121227", "DCM", "Line segment length"),
    code("121206", "DCM", "Distance"),
    code("103339001", "SCT", "Long Axis"),
    code("103340004", "SCT", "Short Axis"),
    code("131187009", "SCT", "Major Axis"),
    code("131188004", "SCT", "Minor Axis"),
    code("81827009", "SCT", "Diameter"),
    code("121211", "DCM", "Path length"),
)
AREA_CONCEPTS = (AREA, code("131184002", "SCT", "Area of defined region"))
ANGLE_CONCEPTS = (
    ANGLE,
    code("110859", "DCM", "Angle"),
    code("285285000", "SCT", "Cobb angle"),
)

# ------------------------------------------------------------------------ UCUM units
MILLIMETER = code("mm", "UCUM", "millimeter")
SQUARE_MILLIMETER = code("mm2", "UCUM", "square millimeter")
CUBIC_MILLIMETER = code("mm3", "UCUM", "cubic millimeter")
DEGREE = code("deg", "UCUM", "degree")
HOUNSFIELD_UNIT = code("[hnsf'U]", "UCUM", "Hounsfield unit")
NO_UNITS = code("1", "UCUM", "no units")


def is_concept(c, *candidates) -> bool:
    """True when ``c`` equals one of ``candidates`` (SRT and SCT forms count as equal)."""
    if c is None:
        return False
    for cand in candidates:
        if is_code(cand):
            if c == cand:
                return True
        elif isinstance(cand, (list, tuple)):
            if is_concept(c, *cand):
                return True
    return False


def format_code(c) -> str:
    """``Meaning (SCHEME VALUE)``, or ``""`` for None."""
    if c is None:
        return ""
    return f"{c.meaning} ({c.scheme_designator} {c.value})"


def parse_code(text: Optional[str], what: str = "code") -> Optional[Code]:
    """A code written as ``SCHEME^VALUE^Meaning`` (Slicer's order), e.g. ``SCT^10200004^Liver``.

    Also accepts ``(VALUE, SCHEME, "Meaning")`` as printed by :func:`dicomai.coding.format_code`.
    """
    from ..errors import InputError

    if text is None or not str(text).strip():
        return None
    t = str(text).strip()
    if t.startswith("(") and t.endswith(")"):
        inner = t[1:-1]
        parts = [p.strip().strip('"') for p in inner.split(",", 2)]
        if len(parts) == 3 and all(parts):
            return Code(parts[0], parts[1], parts[2])
    parts = t.split("^")
    if len(parts) >= 3 and parts[0] and parts[1] and parts[2]:
        return Code(parts[1], parts[0], "^".join(parts[2:]))
    raise InputError(
        f"{what} {text!r} is not a code: write it as SCHEME^VALUE^Meaning, e.g. SCT^10200004^Liver"
    )
