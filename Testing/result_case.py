"""A small case for the destination and Secondary Capture suites: a phantom CT, a SEG of its organs
and an SR on it (a segment-volume table and a lesion diameter line), all written by the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

import dicomai_samples as samples
from dicomai.cli import main as cli

SHAPE = (12, 48, 48)


@dataclass
class Case:
    folder: Path
    ct: Path
    labels: Path
    metadata: Path
    seg: Path
    sr: Path
    series: object  # samples.SeriesInfo
    line_slice: int  # slice index (k) of the SR's diameter line


def write_case(folder: Path) -> Case:
    import json

    from dicomai.imageio import write_image

    grid = samples.make_grid(shape=SHAPE)
    ct, labels, _ = samples.phantom(SHAPE)
    info = samples.write_series(folder / "ct", ct, grid, uid_seed="dicomweb-case")
    keep = np.where(np.isin(labels, (1, 2, 3, 4)), labels, 0).astype(np.uint8)
    label_path = folder / "organs.nrrd"
    write_image(label_path, keep, grid)
    meta_path = folder / "organs.json"
    meta_path.write_text(
        json.dumps(
            samples.dcmqi_metadata([s for s in samples.phantom_segments() if s["labelID"] in (1, 2, 3, 4)])
        )
    )
    seg = folder / "organs.seg.dcm"
    assert cli(["export-seg", "--source", str(folder / "ct"), "--labelmap", str(label_path),
                "--metadata", str(meta_path), "--out", str(seg), "-q"]) == 0  # fmt: skip
    table = folder / "stats.tsv"
    table.write_text("Segment\tVolume [mm3]\nLiver\t1500.5\nSpleen\t220.25\n")
    from dicomai.sr.content import Markup
    from dicomai.sr.markups import write_markups

    line_slice = 6
    ends = grid.index_to_world([[line_slice, 20, 10], [line_slice, 28, 20]])
    markup = folder / "Diameter.mrk.json"
    write_markups(Markup(kind="line", name="Diameter", points=ends), markup)
    sr = folder / "organs.sr.dcm"
    assert cli(["export-sr", "--source", str(folder / "ct"), "--seg", str(seg), "--table", str(table),
                "--markups", str(markup), "--out", str(sr), "-q"]) == 0  # fmt: skip
    return Case(folder, folder / "ct", label_path, meta_path, seg, sr, info, line_slice)
