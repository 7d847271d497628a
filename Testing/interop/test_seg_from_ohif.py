"""SEGs made the way the OHIF Viewer saves them, loaded by our reader.

``Testing/peers/ohif_seg.mjs`` runs @cornerstonejs/adapters' ``generateSegmentation`` (the code
OHIF saves segmentations with; pinned by scripts/install_peers.sh) over a 3-segment labelmap on
our CT, as BINARY and as LABELMAP (OHIF's default store mode). Each reads back voxel for voxel on
the CT grid, with the segment numbers, names and colours the tool state had.
"""

from __future__ import annotations

import numpy as np
import pytest

import dicomai_samples as samples
from dicomai.seg.decode import read_seg
from dicomai.source import read_source_series
from peers import ohif_made

pytestmark = pytest.mark.interop

SEGMENTS = [
    (n, name, ohif_made.CIELAB[name], ohif_made.CODES[name]) for n, name in enumerate(ohif_made.CIELAB, 1)
]


def dicomlab_to_srgb(lab) -> np.ndarray:
    """dcmjs' Colors.dicomlab2RGB (what OHIF shows), 0..255."""
    L, a, b = lab[0] * 100.0 / 65535.0, lab[1] * 255.0 / 65535.0 - 128.0, lab[2] * 255.0 / 65535.0 - 128.0
    y = (L + 16.0) / 116.0
    xyz = [y + a / 500.0, y, y - b / 200.0]
    xyz = [t**3 if t**3 > 0.008856 else (t - 16.0 / 116.0) / 7.787 for t in xyz]
    xyz = np.array(xyz) * [0.950456, 1.0, 1.088754]
    m = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]])
    rgb = np.maximum(m @ xyz, 0)
    rgb = np.where(rgb > 0.0031308, 1.055 * rgb ** (1 / 2.4) - 0.055, 12.92 * rgb)
    return np.round(np.clip(rgb, 0, 1) * 255)


@pytest.fixture(scope="module")
def ohif_segs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ohif-seg")
    shape = (10, 48, 40)
    grid = samples.make_grid(shape=shape, orientation="axial", spacing=(2.5, 0.8, 0.8))
    ct, labels, _ = samples.phantom(shape)
    samples.write_series(folder / "ct", ct, grid)
    source = read_source_series(folder / "ct")
    lab = np.where(np.isin(labels, (1, 2, 3)), labels, 0).astype(np.uint8)
    assert set(np.unique(lab)) == {0, 1, 2, 3}
    out = {}
    for seg_type in ("BINARY", "LABELMAP"):
        out[seg_type] = folder / f"ohif-{seg_type.lower()}.seg.dcm"
        ohif_made.make_seg(source, lab, seg_type, folder, out[seg_type])
    return out, source, lab, folder / "ct"


@pytest.mark.parametrize("seg_type", ["BINARY", "LABELMAP"])
def test_ohifs_seg_reads_back_voxel_exact_with_its_names_and_colours(ohif_segs, seg_type):
    paths, source, lab, _ = ohif_segs
    content = read_seg(paths[seg_type], source)
    assert content.segmentation_type == seg_type
    assert content.warnings == []
    assert np.array_equal(content.labelmap(), lab)
    assert [(s.number, s.label) for s in content.segments] == [(n, label) for n, label, _, _ in SEGMENTS]
    for s, (_, _, lab_value, code) in zip(content.segments, SEGMENTS):
        assert np.max(np.abs(np.subtract(s.color, dicomlab_to_srgb(lab_value)))) <= 3, (s.label, s.color)
        assert s.type.value == code


@pytest.mark.parametrize("seg_type", ["BINARY", "LABELMAP"])
def test_the_cli_imports_ohifs_seg(ohif_segs, seg_type, tmp_path):
    from dicomai.cli import main as cli
    from dicomai.imageio import read_image

    paths, source, lab, ct = ohif_segs
    out = tmp_path / "labels.nrrd"
    assert cli(["import-seg", str(paths[seg_type]), "--source", str(ct), "--out", str(out)]) == 0
    array, grid = read_image(out)
    assert np.array_equal(array, lab)
