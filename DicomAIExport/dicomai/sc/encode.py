"""Pictures -> Secondary Capture Image Storage instances, one new series in the source study.

Built with highdicom's ``SCImage.from_ref_dataset`` (patient and study copied from the source's
first image); the core adds Burned In Annotation, what the picture was derived from and the
source series it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

from ..equipment import MANUFACTURER
from ..errors import InputError

__all__ = ["Picture", "ScOptions", "read_picture", "sc_datasets", "write_sc"]


@dataclass
class ScOptions:
    """Options of a Secondary Capture series, with the attribute each one sets.

    Parameters
    ----------
    series_description, series_number:
        Series Description (0008,103E) and Series Number (0020,0011) of the new series.
    burned_in_annotation:
        Burned In Annotation (0028,0301): "YES" when the pictures carry text or overlays that may
        identify the patient (the default: rendered overlays and screenshots do), else "NO".
    manufacturer:
        Manufacturer (0008,0070).
    """

    series_description: str = "Secondary capture"
    series_number: int = 901
    burned_in_annotation: bool = True
    manufacturer: str = MANUFACTURER

    def __post_init__(self) -> None:
        if isinstance(self.burned_in_annotation, str):
            text = self.burned_in_annotation.strip().upper()
            if text not in ("YES", "NO"):
                raise InputError(f"burned in annotation {self.burned_in_annotation!r} is not YES or NO")
            self.burned_in_annotation = text == "YES"
        try:
            self.series_number = int(self.series_number)
        except (TypeError, ValueError):
            raise InputError(f"series number {self.series_number!r} is not an integer") from None


@dataclass
class Picture:
    """One image to store.

    Attributes
    ----------
    pixels:
        ``(rows, columns, 3)`` uint8 RGB, or ``(rows, columns)`` uint8/uint16 grey (MONOCHROME2).
    name:
        Where it came from (file name or a description); used in error messages.
    orientation:
        PatientOrientation ``(row direction, column direction)`` letters when the picture is a
        plane of the patient (``("L", "P")`` for an axial slice), else ``None``.
    source_indices:
        Indices of the source series' instances the picture shows (SourceImageSequence).
    description:
        DerivationDescription text.
    """

    pixels: np.ndarray
    name: str
    orientation: Optional[tuple] = None
    source_indices: List[int] = field(default_factory=list)
    description: str = ""


def read_picture(path) -> Picture:
    """A PNG (or any format Pillow reads) as RGB, or grey when the file is grey."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            mode = im.mode
            if mode in ("1", "L", "LA"):
                pixels = np.asarray(im.convert("L"), dtype=np.uint8)
            elif mode in ("I;16", "I;16B", "I;16L", "I"):
                arr = np.asarray(im)
                if arr.min() < 0 or arr.max() > 65535:
                    raise InputError(f"picture {str(path)!r}: grey values outside 0..65535")
                pixels = arr.astype(np.uint16)
            else:
                rgba = im.convert("RGBA")
                background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
                pixels = np.asarray(Image.alpha_composite(background, rgba).convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as e:
        raise InputError(f"cannot read picture {str(path)!r}: {e}; give a PNG (or JPEG/TIFF)") from None
    if pixels.shape[0] < 1 or pixels.shape[1] < 1:
        raise InputError(f"picture {str(path)!r} is empty")
    return Picture(pixels=np.ascontiguousarray(pixels), name=path.name, description=f"picture {path.name}")


def sc_datasets(source, pictures: Sequence[Picture], options: Optional[ScOptions] = None) -> list:
    """One Secondary Capture dataset per picture, all in one new series of the source's study.

    Parameters
    ----------
    source:
        The :class:`~dicomai.source.SourceSeries`: patient and study (and the Frame of Reference
        is *not* copied: an SC carries no plane geometry).
    pictures:
        :class:`Picture` objects.
    options:
        :class:`ScOptions` (series description and number, Burned In Annotation).
    """
    import highdicom as hd
    from pydicom.dataset import Dataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    options = options if options is not None else ScOptions()
    if not pictures:
        raise InputError("no picture to store")
    series_uid = generate_uid()
    out = []
    for number, pic in enumerate(pictures, start=1):
        px = pic.pixels
        if px.ndim == 3 and px.shape[2] == 3 and px.dtype == np.uint8:
            photometric, bits = "RGB", 8
        elif px.ndim == 2 and px.dtype in (np.uint8, np.uint16):
            photometric, bits = "MONOCHROME2", 8 if px.dtype == np.uint8 else 16
        else:
            raise InputError(
                f"picture {pic.name}: pixels must be (rows, columns, 3) uint8 RGB or (rows, columns) "
                f"uint8/uint16 grey, got {px.shape} {px.dtype}"
            )
        ds = hd.sc.SCImage.from_ref_dataset(
            ref_dataset=source.first,
            pixel_array=px,
            photometric_interpretation=photometric,
            bits_allocated=bits,
            coordinate_system="PATIENT",
            series_instance_uid=series_uid,
            series_number=options.series_number,
            sop_instance_uid=generate_uid(),
            instance_number=number,
            manufacturer=options.manufacturer,
            patient_orientation=pic.orientation or ("L", "P"),
            transfer_syntax_uid=ExplicitVRLittleEndian,
        )
        if pic.orientation is None:
            ds.PatientOrientation = None  # type 2C: present, empty (a picture, not a patient plane)
        if "Laterality" not in ds:
            ds.Laterality = None  # type 2C (dciodvfy asks for it): present, empty (unknown / unpaired)
        ds.SeriesDescription = options.series_description
        ds.BurnedInAnnotation = "YES" if options.burned_in_annotation else "NO"
        ds.ManufacturerModelName = "dicomai export-sc"
        if pic.description:
            ds.DerivationDescription = pic.description[:1024]
        indices = list(pic.source_indices)
        if indices:
            items = []
            for i in indices:
                item = Dataset()
                item.ReferencedSOPClassUID = source.datasets[i].SOPClassUID
                item.ReferencedSOPInstanceUID = source.datasets[i].SOPInstanceUID
                items.append(item)
            ds.SourceImageSequence = items
            ref = Dataset()
            ref.SeriesInstanceUID = source.series_instance_uid
            ref.ReferencedInstanceSequence = [_copy(item) for item in items]
            ds.ReferencedSeriesSequence = [ref]
        out.append(ds)
    return out


def _copy(item):
    from pydicom.dataset import Dataset

    new = Dataset()
    new.ReferencedSOPClassUID = item.ReferencedSOPClassUID
    new.ReferencedSOPInstanceUID = item.ReferencedSOPInstanceUID
    return new


def write_sc(datasets: Sequence, destination) -> List[Path]:
    """Write the datasets through ``destination``, all or nothing; returns the paths.

    A :class:`~dicomai.destinations.FolderDestination` names them ``sc-001.dcm``, ``sc-002.dcm``...;
    a :class:`~dicomai.destinations.FileDestination` takes exactly one dataset; a path is a file
    when it ends in ``.dcm`` (and is not a folder), else a folder.
    """
    destination = sc_destination(destination)
    return destination.write(datasets, destination.name_for("sc-{n:03d}.dcm", len(datasets)))


def sc_destination(out, overwrite: bool = False):
    """``out`` as a destination: a path ending in ``.dcm`` (not a folder) is one file, else a folder."""
    from ..destinations import FileDestination, FolderDestination

    if hasattr(out, "writing"):
        return out
    out = Path(out)
    if out.suffix.lower() == ".dcm" and not out.is_dir():
        return FileDestination(out, overwrite=overwrite)
    return FolderDestination(out, overwrite=overwrite)
