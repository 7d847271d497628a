"""How a DICOM SEG is written: :class:`SegOptions`, and the one place "auto" SEG type is decided.

The options are validated once, when constructed (enum or string fields are converted then, in
any case), and travel unchanged from the command line or the Slicer adapters to
:func:`dicomai.seg.encode.write_seg`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

from ..equipment import MANUFACTURER
from ..errors import InputError
from .enum import Compression, FractionalType, SegmentAlgorithmType, SegmentationType

__all__ = ["ENGINES", "MANUFACTURER", "SegOptions", "choose_segmentation_type", "to_enum"]

ENGINES = ("auto", "fast", "highdicom")


def to_enum(enum_type, value, what: str):
    """``value`` (a member, or its value or name in any case) as a member of ``enum_type``.

    Raises :class:`InputError` naming ``what`` and the choices.
    """
    if isinstance(value, enum_type):
        return value
    try:
        return enum_type(value)
    except ValueError:
        raise InputError(f"{what} {value!r} is not one of {', '.join(enum_type.values())}") from None


@dataclass
class SegOptions:
    """Options of a DICOM Segmentation, with the attribute each one sets.

    Parameters
    ----------
    segmentation_type:
        Segmentation Type (0062,0001) and the SOP Class: ``BINARY`` (default; Segmentation
        Storage, 1-bit frames, one per segment and slice), ``LABELMAP`` (Label Map Segmentation
        Storage: one 8/16-bit frame per slice; background 0 is the Pixel Padding Value (0028,0120)),
        ``FRACTIONAL`` (8-bit probability or occupancy), or ``auto``
        (:func:`choose_segmentation_type` picks from the content).
    compression:
        Transfer Syntax UID (0002,0010) by name: ``none``, ``deflate``, ``rle``, ``jpeg-ls`` or
        ``jpeg2000`` (all lossless); ``None`` takes the type's default (``DEFAULT_COMPRESSION``
        of :mod:`dicomai.seg.encode`).
    transfer_syntax_uid:
        The same choice by UID (give it or ``compression``, not both).
    fractional_type:
        Segmentation Fractional Type (0062,0010) of a FRACTIONAL SEG: ``PROBABILITY`` (default) or
        ``OCCUPANCY``.
    max_fractional_value:
        Maximum Fractional Value (0062,000E): the stored value meaning 1.0, 1..255 (default 255).
    algorithm_name, algorithm_version:
        Segment Algorithm Name (0062,0009) and the Algorithm Identification Sequence (0062,0007:
        Algorithm Name (0066,0036), Algorithm Version (0066,0031)) of every automatic or
        semi-automatic segment; when not given, each segment keeps its own.
    algorithm_type:
        Segment Algorithm Type (0062,0008) of every segment (``AUTOMATIC``, ``SEMIAUTOMATIC``,
        ``MANUAL``); when not given, each segment keeps its own.
    series_description, series_number, instance_number:
        Series Description (0008,103E), Series Number (0020,0011) and Instance Number (0020,0013);
        defaults: the content's attributes, else "<algorithm> segmentation", the source series
        number + 100 and 1.
    manufacturer:
        Manufacturer (0008,0070) of the equipment that wrote the SEG.
    workers:
        Not an attribute: threads that encode frames (RLE, JPEG-LS) or deflate the file in the
        fast writer; ``None`` (default) takes :func:`dicomai.seg.fast.default_workers`
        (``DICOMAI_WORKERS``, else 1). The bytes written do not depend
        on it.
    engine:
        Not an attribute: ``auto`` (the fast writer when it covers the input, else highdicom),
        ``fast`` (raise when it does not) or ``highdicom`` (the reference writer).

    Raises
    ------
    InputError
        Any value outside its choices (the message names the option).
    """

    segmentation_type: Union[SegmentationType, str] = SegmentationType.BINARY
    compression: Optional[Union[Compression, str]] = None
    transfer_syntax_uid: Optional[str] = None
    fractional_type: Union[FractionalType, str] = FractionalType.PROBABILITY
    max_fractional_value: int = 255
    algorithm_name: Optional[str] = None
    algorithm_version: Optional[str] = None
    algorithm_type: Optional[Union[SegmentAlgorithmType, str]] = None
    series_description: Optional[str] = None
    series_number: Optional[int] = None
    instance_number: Optional[int] = None
    manufacturer: str = MANUFACTURER
    workers: Optional[int] = None
    engine: str = "auto"

    def __post_init__(self) -> None:
        self.segmentation_type = to_enum(
            SegmentationType, self.segmentation_type or "BINARY", "segmentation type"
        )
        if self.compression is not None:
            self.compression = to_enum(Compression, self.compression, "compression")
        if self.compression is not None and self.transfer_syntax_uid:
            raise InputError("give a compression or a transfer syntax UID, not both")
        self.fractional_type = to_enum(
            FractionalType, self.fractional_type or "PROBABILITY", "fractional type"
        )
        try:
            value = int(self.max_fractional_value)
        except (TypeError, ValueError):
            value = 0
        if not 1 <= value <= 255:
            raise InputError(
                f"maximum fractional value {self.max_fractional_value!r} must be 1..255 (8-bit frames)"
            )
        self.max_fractional_value = value
        if self.algorithm_type:
            self.algorithm_type = to_enum(SegmentAlgorithmType, self.algorithm_type, "algorithm type")
        else:
            self.algorithm_type = None
        if self.workers is not None:
            try:
                workers = int(self.workers)
            except (TypeError, ValueError):
                workers = 0
            if workers < 1:
                raise InputError(f"workers {self.workers!r} must be an integer >= 1")
            self.workers = workers
        if self.engine not in ENGINES:
            raise InputError(f"engine {self.engine!r} is not one of {', '.join(ENGINES)}")


def choose_segmentation_type(requested, content=None, referenced_by_sr: bool = False) -> SegmentationType:
    """The SEG type to write; the one place where ``auto`` is decided.

    ``auto`` (or ``None``) becomes:

    - ``BINARY`` when an SR will reference the segments (``referenced_by_sr``): an SR names a
      segment by Referenced Segment Number, which dicom3tools' dciodvfy accepts only for
      Segmentation Storage, not for Label Map Segmentation Storage;
    - else, once ``content`` is known: ``FRACTIONAL`` for probability content, ``LABELMAP`` when
      no voxel belongs to two segments (one small frame per slice), else ``BINARY``;
    - without ``content``: stays ``AUTO`` (decided by the writer).

    Any other value is returned as the :class:`SegmentationType` it names.
    """
    chosen = to_enum(SegmentationType, requested or "auto", "segmentation type")
    if chosen is not SegmentationType.AUTO:
        return chosen
    if referenced_by_sr:
        return SegmentationType.BINARY
    if content is None:
        return chosen
    if content.fractions:
        return SegmentationType.FRACTIONAL
    from .content import layers_overlap

    return SegmentationType.BINARY if layers_overlap(content) else SegmentationType.LABELMAP
