"""The sample generators (dicomai_samples) reproduce, byte for byte, what the tests and benchmarks
were built on: digests recorded from dicomai/synthetic.py before it moved and was split up.

A series digest covers each file's name and every byte after the File Meta Information (which
names the writing pydicom version), plus the UIDs and instance numbers :class:`SeriesInfo` reports.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

import dicomai_samples as samples

# recorded with the pre-refactor dicomai.synthetic (commit a6af65c), numpy 2.x and 1.26, pydicom 3.0.2
GOLDEN = {
    "phantom": "e01cda8d4c164e9d07de5deae2e6a2fa",
    "phantom512": "989ebd1d4020d097",
    "ct": "1eee8aae63ed8df8",
    "mr": "415f8acbe556ef0b",
    "pt": "686704fab4dfa02e",
    "ct2": "d9bd8fe1631c9539",
    "many40": "18bd42001213278d4384e81b78dcb1cc",
    "many300": "832833659867b5f4c517e2533149e9e2",
    "dcmqi": "83270f030fc5fe12",
}


def _after_file_meta(data: bytes) -> bytes:
    assert data[128:132] == b"DICM"
    group_length = int.from_bytes(data[140:144], "little")  # (0002,0000) UL, explicit VR
    return data[144 + group_length :]


def _series_digest(info) -> str:
    h = hashlib.sha256()
    for f in info.files:
        h.update(Path(f).name.encode())
        h.update(_after_file_meta(Path(f).read_bytes()))
    uids = (
        info.sop_instance_uids,
        info.study_instance_uid,
        info.series_instance_uid,
        info.frame_of_reference_uid,
        info.sop_class_uid,
        info.modality,
        info.instance_numbers,
    )
    h.update(repr(uids).encode())
    return h.hexdigest()[:16]


def _array_digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(str(a.dtype).encode())
        h.update(repr(a.shape).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def _json_digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def _ramp(shape) -> np.ndarray:
    return np.arange(np.prod(shape), dtype=np.int16).reshape(shape) % 900


def test_phantom_and_its_segments_are_unchanged():
    ct, labels, segments = samples.phantom((16, 48, 40))
    assert _array_digest(ct, labels) + _json_digest(segments) == GOLDEN["phantom"]


def test_phantom_painted_in_two_slabs_is_unchanged():
    """512 x 512 slices are painted 8 at a time: the noise continues across slabs."""
    ct, labels, _ = samples.phantom((12, 512, 512), seed=3)
    assert _array_digest(ct, labels) == GOLDEN["phantom512"]


def test_phantom_ct_series_with_random_names_and_reversed_numbers_is_unchanged(tmp_path):
    grid = samples.make_grid((16, 48, 40), (2.5, 0.8, 0.8), orientation="axial")
    ct, _, _ = samples.phantom((16, 48, 40))
    info = samples.write_series(
        tmp_path, ct, grid, uid_seed="golden-ct", reverse_instance_numbers=True, series_description="CT"
    )
    assert _series_digest(info) == GOLDEN["ct"]


def test_oblique_mr_series_named_by_sop_instance_uid_is_unchanged(tmp_path):
    grid = samples.make_grid((5, 20, 18), (3.0, 1.1, 0.9), orientation="oblique", origin=(-12.5, 4.0, 30.25))
    info = samples.write_series(
        tmp_path,
        _ramp(grid.shape),
        grid,
        modality="MR",
        file_names="sop",
        uid_seed="golden-mr",
        acquisition_datetime=datetime.datetime(2021, 3, 4, 5, 6, 7),
        patient_name="Golden^MR",
        series_number=7,
    )
    assert _series_digest(info) == GOLDEN["mr"]


def test_pet_series_with_per_slice_slopes_and_extra_attributes_is_unchanged(tmp_path):
    grid = samples.make_grid((4, 12, 10), (2.0, 2.0, 2.0), orientation="axial")
    volume = (_ramp((5, 20, 18))[:4, :12, :10] + 5).astype(np.uint16)
    info = samples.write_series(
        tmp_path,
        volume,
        grid,
        modality="PET",
        rescale_slope=[0.5, 1.0, 2.0, 0.25],
        file_names="instance",
        uid_seed="golden-pt",
        attributes={"PatientComments": "golden"},
    )
    assert _series_digest(info) == GOLDEN["pt"]


def test_sagittal_ct_with_given_uids_and_intercept_is_unchanged(tmp_path):
    grid = samples.make_grid((3, 8, 6), (1.5, 1.0, 1.0), orientation="sagittal")
    info = samples.write_series(
        tmp_path,
        np.ones(grid.shape, np.uint16) * 1200,
        grid,
        rescale_intercept=-1024,
        file_names="slice",
        seed=5,
        uid_seed="golden-ct2",
        study_uid="1.2.3.4",
        frame_of_reference_uid="1.2.3.5",
    )
    assert _series_digest(info) == GOLDEN["ct2"]


@pytest.mark.parametrize(
    ("key", "shape", "n", "seed"), [("many40", (10, 40, 36), 40, 2), ("many300", (6, 30, 30), 300, 0)]
)
def test_many_segment_label_maps_are_unchanged(key, shape, n, seed):
    labels, segments = samples.many_segments_labelmap(shape, n, seed=seed)
    assert _array_digest(labels) + _json_digest(segments) == GOLDEN[key]


def test_dcmqi_metadata_is_unchanged():
    meta = samples.dcmqi_metadata(samples.phantom_segments(), SeriesDescription="Golden", SeriesNumber=5)
    assert _json_digest(meta) == GOLDEN["dcmqi"]
