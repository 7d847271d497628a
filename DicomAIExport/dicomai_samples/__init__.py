"""Sample data for the demo, the tests, the benchmarks and the modules' self-tests: no patient data.

Not part of the product: the core (``dicomai``) and the adapters (``dicomai_slicer``) never import
this package; it imports them. The pure modules use numpy, pydicom and the core only:

- :mod:`.grids`: :func:`make_grid` builds a :class:`~dicomai.geometry.Grid` (axial, sagittal,
  coronal, oblique or any ImageOrientationPatient);
- :mod:`.series`: :func:`write_series` writes a single-frame CT, MR or PET series on a grid (one
  file per slice, every Type 1 and Type 2 attribute of the IOD filled, so dciodvfy reports no
  errors), configured by :class:`SeriesOptions`;
- :mod:`.phantom`: :func:`phantom` makes an abdominal CT-like volume with a liver, spleen, both
  kidneys and a liver lesion, its label map and segment descriptions with SNOMED CT codes;
- :mod:`.labelmaps`: :func:`many_segments_labelmap` makes a TotalSegmentator-like label map with
  many segments;
- :mod:`.segments`: :func:`dcmqi_metadata` wraps segment descriptions into the JSON that dcmqi's
  ``itkimage2segimage`` reads.

The MRML samples import ``slicer`` (slicer-core or the application) and are imported explicitly:

- :mod:`.nodes`: the phantom's AI segmentation and a lesion line as Slicer nodes;
- :mod:`.demo`: the demo (``python -m dicomai_samples.demo``), run by ``make demo`` and the
  DicomAIExport module's self-test; :mod:`.demo_checks` holds its checks.
"""

from __future__ import annotations

from .grids import make_grid
from .labelmaps import many_segments_labelmap
from .phantom import phantom, phantom_segments
from .segments import dcmqi_metadata
from .series import DEFAULT_DATETIME, SeriesInfo, SeriesOptions, write_series

__all__ = [
    "DEFAULT_DATETIME",
    "SeriesInfo",
    "SeriesOptions",
    "dcmqi_metadata",
    "make_grid",
    "many_segments_labelmap",
    "phantom",
    "phantom_segments",
    "write_series",
]
