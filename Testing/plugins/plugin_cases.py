"""A small study written with the core (and dcmqi): CT, SEGs of each type, a TID 1500 SR."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import dicomai_samples as samples
import peers
from dicomai.imageio import write_image
from dicomai.seg.content import SegmentationContent
from dicomai.seg.encode import write_seg
from dicomai.seg.metadata import load_metadata, segments_for_labels
from dicomai.source import read_source_series
from dicomai.sr.build import SegAttachment, build_report
from dicomai.sr.content import Markup
from dicomai.sr.encode import write_sr

SHAPE = (10, 36, 32)
ROOT = Path(__file__).resolve().parents[2]
EXPORT_DIR = ROOT / "DicomAIExport"
IMPORT_DIR = ROOT / "DicomAIImport"
VERSIONS = {"5.12": (5, 12, 3), "5.10": (5, 10, 0)}


def unload_modules():
    """As Slicer does on exit: moduleAboutToBeUnloaded makes each widget clean up (drop its observers)."""
    import slicer

    manager = slicer.app.moduleManager()
    for name in list(manager.modulesNames()):
        manager.unloadModule(name)


@dataclass
class Study:
    folder: Path
    ct: Path
    source: object
    labels: np.ndarray
    seg: Path  # ours, LABELMAP, 4 organs
    fractional: Path  # ours, FRACTIONAL PROBABILITY, 2 segments
    sr: Path  # ours, TID 1500: a line, points, and the SEG's segment volumes
    dcmqi: Path = None  # dcmqi BINARY, when dcmqi is installed
    files: dict = field(default_factory=dict)


def _segments(keep):
    meta = load_metadata(
        samples.dcmqi_metadata([s for s in samples.phantom_segments() if s["labelID"] in keep])
    )
    return meta, segments_for_labels(list(keep), meta, [])


def write_study(root: Path, with_dcmqi: bool = True) -> Study:
    grid = samples.make_grid(shape=SHAPE, orientation="axial", spacing=(2.5, 0.9, 0.9))
    ct, labels, _ = samples.phantom(SHAPE)
    samples.write_series(
        root / "ct", ct, grid, file_names="random", series_description="Phantom CT", patient_id="PLUG1"
    )
    source = read_source_series(root / "ct")
    keep = (1, 2, 3, 4)
    lab = np.where(np.isin(labels, keep), labels, 0).astype(np.uint8)
    _, segs = _segments(keep)
    content = SegmentationContent.from_labelmap(lab, grid, segs)
    seg = root / "ours_labelmap_seg.dcm"
    write_seg(
        content,
        source,
        seg,
        segmentation_type="LABELMAP",
        series_description="AI organs",
        algorithm_name="PhantomNet",
        algorithm_version="1.0",
    )
    _, fsegs = _segments((1, 2))
    fractions = {
        s.number: np.clip((labels == s.label_value).astype(np.float32) * 0.8 + 0.1 * (labels > 0), 0, 1)
        for s in fsegs
    }
    frac = SegmentationContent(grid=grid, segments=fsegs, fractions=fractions)
    fractional = root / "ours_fractional_seg.dcm"
    write_seg(frac, source, fractional, segmentation_type="FRACTIONAL", series_description="AI probabilities")
    at = lambda k, r, c: grid.index_to_world([[k, r, c]])[0]  # noqa: E731
    markups = [
        Markup("line", "Liver diameter", [at(4.2, 12.0, 10.0), at(4.9, 18.5, 17.25)]),
        Markup("points", "Lesions", [at(3.3, 10.2, 11.7), at(5.5, 20.25, 8.1)], labels=["L1", "L2"]),
    ]
    attachment = SegAttachment.read(seg)
    report = build_report(source, markups=markups, seg=attachment, series_description="AI measurements")
    sr = root / "ours_sr.dcm"
    write_sr(report, source, sr, segs=[attachment.dataset])
    study = Study(root, root / "ct", source, labels, seg, fractional, sr)
    if with_dcmqi and peers.have("itkimage2segimage"):
        nrrd = root / "work" / "labels.nrrd"
        nrrd.parent.mkdir()
        write_image(nrrd, lab, grid)
        meta = root / "work" / "meta.json"
        meta.write_text(
            json.dumps(
                samples.dcmqi_metadata(
                    [s for s in samples.phantom_segments() if s["labelID"] in keep],
                    SeriesDescription="dcmqi organs",
                )
            )
        )
        study.dcmqi = peers.itkimage2segimage(nrrd, root / "ct", meta, root / "dcmqi_seg.dcm")
    return study
