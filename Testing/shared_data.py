"""Where the tests find data made by other tools: ``../shared/data`` next to the checkout.

``REALDATA`` holds real SEG/SR files written by dcmqi, highdicom, Iowa2DICOM and pydicom's test
files (see its README.md). It is not part of the repository: tests that need it skip cleanly when
it is absent (a clean clone in CI). ``DICOMAI_REALDATA`` points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

_SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
REALDATA = Path(os.environ.get("DICOMAI_REALDATA", _SHARED / "realdata"))

# (SEG, its source series or None, {segment number: voxel count} as dcmjs/dcmqi/highdicom count them)
REALDATA_SEGS = [
    ("dcmqi/segmentations/liver.dcm", "dcmqi/segmentations/ct-3slice", {1: 107098}),
    (
        "dcmqi/segmentations/partial_overlaps.dcm",
        "dcmqi/segmentations/ct-3slice",
        {1: 9602, 2: 11888, 3: 10743, 4: 6693, 5: 4713},
    ),
    ("dcmqi/segmentations/sparse-labelmap-noppv.dcm", "dcmqi/segmentations/24x38x3/image", {1: 630}),
    ("dcmqi/segmentations/sparse-labelmap-ppv5.dcm", "dcmqi/segmentations/24x38x3/image", {1: 630}),
    ("dcmqi/segmentations/24x38x3/seg/label.seg", "dcmqi/segmentations/24x38x3/image", {1: 315}),
    ("dcmqi/segmentations/23x38x3/seg/label.seg", "dcmqi/segmentations/23x38x3/image", {1: 322}),
    ("highdicom/seg_image_ct_binary.dcm", "pydicom/CT2", {1: 638}),
    ("highdicom/seg_image_ct_binary_overlap.dcm", "pydicom/CT2", {1: 64, 2: 16}),
    ("highdicom/seg_image_ct_binary_fractional.dcm", "pydicom/CT2", {1: 638}),
    ("highdicom/seg_image_ct_true_fractional.dcm", "pydicom/CT2", None),
    ("highdicom/seg_image_ct_binary_single_frame.dcm", "pydicom/CT_small.dcm", {1: 1832}),
    ("highdicom/seg_image_cr_binary.dcm", "pydicom/CR1/6154", {1: 151}),
    ("dcmqi/sr-example/seg.dcm", None, {1: 795}),
]


def seg_case_id(case) -> str:
    return case[0].replace("/", "_")
