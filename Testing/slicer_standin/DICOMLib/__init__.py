"""Test-only stand-in for Slicer's DICOMLib package (only what DICOM plugins and modules use).

Mirrors Slicer/Slicer Modules/Scripted/DICOMLib/__init__.py (v5.12.3 9034c71a, main 583e9b37),
which star-imports its submodules: ``from DICOMLib import DICOMPlugin, DICOMLoadable`` gives the
classes, ``DICOMLib.DICOMUtils`` the helper module. The browser, export dialog, DICOM send/listen
processes and DICOMExportScalarVolume are not provided.
"""

from . import DICOMUtils
from .DICOMPlugin import DICOMLoadable, DICOMPlugin
from .DICOMUtils import *  # noqa: F403

__all__ = ["DICOMLoadable", "DICOMPlugin", "DICOMUtils", *DICOMUtils.__all__]
