"""How a TID 1500 Structured Report is built and written: :class:`ReportOptions`.

Validated once, when constructed (strings converted to codes, observers and enums on entry);
:func:`dicomai.sr.build.build_report` and :func:`dicomai.sr.encode.write_sr` take the same object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

from ..equipment import MANUFACTURER
from ..errors import InputError
from ..seg.enum import _CaseInsensitive
from ..seg.options import to_enum
from .content import DeviceObserver, PersonObserver

__all__ = ["Coordinates", "ReportOptions"]

#: A point lies on a slice when it is at most this far (mm) from the slice plane.
ON_SLICE_TOL_MM = 1e-3


class Coordinates(_CaseInsensitive):
    """How regions are written: Graphic Type in SCOORD (2D, on an image) or SCOORD3D (patient mm)."""

    AUTO = "auto"  # SCOORD for planar regions on one slice, SCOORD3D for the others
    TWO_D = "2d"  # the same, with a warning naming how many stay 3D
    THREE_D = "3d"  # SCOORD3D for every region


@dataclass
class ReportOptions:
    """Options of a TID 1500 Measurement Report (Comprehensive 3D SR), with what each one sets.

    Parameters
    ----------
    device:
        Device observer (TID 1004: Device Observer UID, Name, Manufacturer, Model Name, Serial
        Number); its ``name`` and ``version`` are also each group's Algorithm Identification (TID
        4019). Without a device or a person, the observer is this software.
    person:
        Person observer (TID 1003: Person Observer Name), a :class:`PersonObserver` or a name as
        ``Family^Given``.
    procedure_reported:
        Procedure Reported (TID 1500 row 4): a code, several codes, or ``"SCHEME^VALUE^Meaning"``;
        default from the modality (CT: LOINC 25045-6).
    series_description, series_number, instance_number:
        Series Description (0008,103E), Series Number (0020,0011) and Instance Number
        (0020,0013); defaults "<model> measurements", the source series number + 200 and 1.
    seg_volumes:
        With a SEG and no measurement table, one volumetric group (TID 1411) per segment with its
        volume.
    coordinates:
        :class:`Coordinates`: Graphic Data as SCOORD on the image for planar groups on one slice
        (``auto``, ``2d``) or SCOORD3D for all (``3d``).
    ohif:
        Follow the OHIF Viewer's conventions (Tracking Identifier (TID 1500 row 2) in Cornerstone's
        form, measurements INFERRED FROM their region; :mod:`dicomai.sr.viewers`).
    on_slice_tol_mm:
        Distance (mm) from a slice plane within which a point lies on that slice.
    image_library:
        List the source images in the Image Library (TID 1600).
    manufacturer:
        Manufacturer (0008,0070).

    Raises
    ------
    InputError
        A value outside its choices, a malformed procedure code.
    """

    device: Optional[DeviceObserver] = None
    person: Optional[Union[PersonObserver, str]] = None
    procedure_reported: object = None
    series_description: Optional[str] = None
    series_number: Optional[int] = None
    instance_number: int = 1
    seg_volumes: bool = True
    coordinates: Union[Coordinates, str] = Coordinates.AUTO
    ohif: bool = True
    on_slice_tol_mm: float = ON_SLICE_TOL_MM
    image_library: bool = True
    manufacturer: str = MANUFACTURER

    def __post_init__(self) -> None:
        self.coordinates = to_enum(Coordinates, self.coordinates or "auto", "coordinates")
        if isinstance(self.person, str):
            self.person = PersonObserver(self.person) if self.person else None
        if self.device is not None and not isinstance(self.device, DeviceObserver):
            raise InputError(f"device must be a DeviceObserver, got {type(self.device).__name__}")
        if isinstance(self.procedure_reported, str):
            from .concepts import parse_code

            self.procedure_reported = parse_code(self.procedure_reported, "procedure")
