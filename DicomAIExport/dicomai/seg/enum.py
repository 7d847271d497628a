"""The defined terms of a DICOM Segmentation, each listed once (standard library only).

highdicom names the same terms ``SegmentationTypeValues``, ``SegmentAlgorithmTypeValues`` and
``SegmentationFractionalTypeValues``; these mirror them so that the command line, the Slicer
panel and the fast writer can use them without importing highdicom. Every function of the core
accepts the enum or its value as a string, in any case, and converts on entry (``Enum(value)``).
"""

from __future__ import annotations

from enum import Enum

__all__ = ["Compression", "FractionalType", "SegmentAlgorithmType", "SegmentationType"]


class _CaseInsensitive(Enum):
    """Members found by value or name, in any case: ``SegmentationType("labelmap")``."""

    @classmethod
    def _missing_(cls, value):
        text = str(value).strip().lower()
        for member in cls:
            if text in (str(member.value).lower(), member.name.lower()):
                return member
        return None

    @classmethod
    def values(cls) -> tuple:
        """Every value, in definition order (for choices and messages)."""
        return tuple(m.value for m in cls)


class SegmentAlgorithmType(_CaseInsensitive):
    """Segment Algorithm Type (0062,0008) of a segment."""

    AUTOMATIC = "AUTOMATIC"
    SEMIAUTOMATIC = "SEMIAUTOMATIC"
    MANUAL = "MANUAL"


class SegmentationType(_CaseInsensitive):
    """Segmentation Type (0062,0001), which also picks the SOP Class.

    ``AUTO`` is not a DICOM term: it asks :func:`dicomai.seg.options.choose_segmentation_type`
    to pick from the content (LABELMAP unless segments overlap; FRACTIONAL for probabilities).
    """

    BINARY = "BINARY"
    LABELMAP = "LABELMAP"  # Label Map Segmentation Storage
    FRACTIONAL = "FRACTIONAL"
    AUTO = "auto"


class FractionalType(_CaseInsensitive):
    """Segmentation Fractional Type (0062,0010) of a FRACTIONAL SEG."""

    PROBABILITY = "PROBABILITY"
    OCCUPANCY = "OCCUPANCY"


class Compression(_CaseInsensitive):
    """Lossless pixel data compression, by name; :attr:`transfer_syntax_uid` is the Transfer
    Syntax UID (0002,0010) it writes."""

    NONE = "none"
    DEFLATE = "deflate"
    RLE = "rle"
    JPEG_LS = "jpeg-ls"
    JPEG2000 = "jpeg2000"

    @property
    def transfer_syntax_uid(self) -> str:
        return _TRANSFER_SYNTAXES[self.value]


_TRANSFER_SYNTAXES = {
    "none": "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
    "deflate": "1.2.840.10008.1.2.1.99",  # Deflated Explicit VR Little Endian
    "rle": "1.2.840.10008.1.2.5",  # RLE Lossless
    "jpeg-ls": "1.2.840.10008.1.2.4.80",  # JPEG-LS Lossless
    "jpeg2000": "1.2.840.10008.1.2.4.90",  # JPEG 2000 Lossless
}
