"""DICOMweb tests: a phantom CT, a SEG of its organs and an SR on it, written once per session.

The servers are real Orthancs (Testing/servers/orthanc.py) started per test module or per test.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

_TESTING = str(Path(__file__).resolve().parents[1])
if _TESTING not in sys.path:
    sys.path.insert(0, _TESTING)

from dicomai import synthetic  # noqa: E402
from dicomai.cli import main as cli  # noqa: E402

SHAPE = (12, 48, 48)


@dataclass
class Case:
    folder: Path
    ct: Path
    labels: Path
    metadata: Path
    seg: Path
    sr: Path
    series: object  # synthetic.SeriesInfo


def _write_case(folder: Path) -> Case:
    import json

    from dicomai.imageio import write_image

    grid = synthetic.make_grid(shape=SHAPE)
    ct, labels, _ = synthetic.phantom(SHAPE)
    info = synthetic.write_series(folder / "ct", ct, grid, uid_seed="dicomweb-case")
    keep = np.where(np.isin(labels, (1, 2, 3, 4)), labels, 0).astype(np.uint8)
    label_path = folder / "organs.nrrd"
    write_image(label_path, keep, grid)
    meta_path = folder / "organs.json"
    meta_path.write_text(
        json.dumps(
            synthetic.dcmqi_metadata(
                [s for s in synthetic.phantom_segments() if s["labelID"] in (1, 2, 3, 4)]
            )
        )
    )
    seg = folder / "organs.seg.dcm"
    assert cli(["export-seg", "--source", str(folder / "ct"), "--labelmap", str(label_path),
                "--metadata", str(meta_path), "--out", str(seg), "-q"]) == 0  # fmt: skip
    table = folder / "stats.tsv"
    table.write_text("Segment\tVolume [mm3]\nLiver\t1500.5\nSpleen\t220.25\n")
    sr = folder / "organs.sr.dcm"
    assert cli(["export-sr", "--source", str(folder / "ct"), "--seg", str(seg), "--table", str(table),
                "--out", str(sr), "-q"]) == 0  # fmt: skip
    return Case(folder, folder / "ct", label_path, meta_path, seg, sr, info)


@pytest.fixture(scope="session")
def case(tmp_path_factory) -> Case:
    return _write_case(tmp_path_factory.mktemp("dicomweb-case"))
