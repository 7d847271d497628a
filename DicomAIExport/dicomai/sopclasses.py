"""The DICOM SOP class UIDs the project reads and writes, named once.

Dependency-free on purpose: the DICOM browser plugins read these before the core's packages are
installed (pydicom 2.4 of Slicer 5.10 does not name Label Map Segmentation Storage).
"""

from __future__ import annotations

__all__ = [
    "COMPREHENSIVE_3D_SR",
    "LABEL_MAP_SEGMENTATION_STORAGE",
    "SEGMENTATION_STORAGE",
    "SEG_SOP_CLASSES",
    "SR_SOP_CLASSES",
    "SURFACE_SEGMENTATION_STORAGE",
]

SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
LABEL_MAP_SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.7"
SURFACE_SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.5"
COMPREHENSIVE_3D_SR = "1.2.840.10008.5.1.4.1.1.88.34"

#: SOP class UID -> name, for the segmentation objects we decode
SEG_SOP_CLASSES = {
    SEGMENTATION_STORAGE: "Segmentation Storage",
    LABEL_MAP_SEGMENTATION_STORAGE: "Label Map Segmentation Storage",
}

#: SOP class UID -> name, for the structured reports we read
SR_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.88.11": "Basic Text SR Storage",
    "1.2.840.10008.5.1.4.1.1.88.22": "Enhanced SR Storage",
    "1.2.840.10008.5.1.4.1.1.88.33": "Comprehensive SR Storage",
    COMPREHENSIVE_3D_SR: "Comprehensive 3D SR Storage",
    "1.2.840.10008.5.1.4.1.1.88.35": "Extensible SR Storage",
}

SECONDARY_CAPTURE_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.7"

#: SOP class UID -> name, for the Secondary Capture images we write and describe
SECONDARY_CAPTURE_SOP_CLASSES = {
    SECONDARY_CAPTURE_IMAGE_STORAGE: "Secondary Capture Image Storage",
    "1.2.840.10008.5.1.4.1.1.7.1": "Multi-frame Single Bit Secondary Capture Image Storage",
    "1.2.840.10008.5.1.4.1.1.7.2": "Multi-frame Grayscale Byte Secondary Capture Image Storage",
    "1.2.840.10008.5.1.4.1.1.7.3": "Multi-frame Grayscale Word Secondary Capture Image Storage",
    "1.2.840.10008.5.1.4.1.1.7.4": "Multi-frame True Color Secondary Capture Image Storage",
}
