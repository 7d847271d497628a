"""The real-viewer suite: our SEG and SR in the OHIF Viewer (prebuilt, pinned) in headless Chromium.

One Orthanc, one same-origin proxy and one browser per module; a fresh page per scenario. The
objects: a phantom CT, its organs as a BINARY and a LABELMAP SEG, an SR of markups on one slice
(what OHIF can edit), an SR of everything we write (3D markups, a box, segment volumes) and an SR
without any image region (a table exported without its SEG, findings on whole images).

The suite fails with the reason when the machine cannot run it (no viewer, no Chromium, no
Playwright, no Orthanc) unless ``DICOMAI_SKIP_VIEWER=1``. Screenshots of every scenario go to
``$DICOMAI_VIEWER_SHOTS`` (default: the test's tmp folder); ``DICOMAI_VIEWER_DOCS=1`` also
refreshes the ``docs/ohif-*.png`` pictures.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

_here = Path(__file__).resolve()
for p in (_here.parent, _here.parents[1], _here.parents[1] / "sr"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
import ohif  # noqa: E402

SHAPE = (16, 96, 96)  # big enough to see the organs in the screenshots, small enough to be quick


@dataclass
class Study:
    folder: Path
    source: object
    labels: object
    files: dict = field(default_factory=dict)  # name -> path of each uploaded object
    reports: dict = field(default_factory=dict)  # SR name -> Report written


def _write_study(folder: Path) -> Study:
    import numpy as np
    import sr_cases
    from pydicom.sr.coding import Code

    import dicomai_samples as samples
    from dicomai.seg.content import SegmentationContent
    from dicomai.seg.encode import write_seg
    from dicomai.seg.metadata import load_metadata, segments_for_labels
    from dicomai.seg.options import SegOptions
    from dicomai.source import read_source_series
    from dicomai.sr.build import ImageFinding, SegAttachment, build_report
    from dicomai.sr.content import Annotation, Evaluation
    from dicomai.sr.encode import write_sr
    from dicomai.sr.options import ReportOptions
    from dicomai.sr.tables import read_measurement_table

    grid = samples.make_grid(shape=SHAPE, orientation="axial", spacing=(2.5, 0.8, 0.8))
    ct, labels, _ = samples.phantom(SHAPE)
    samples.write_series(folder / "ct", ct, grid)
    source = read_source_series(folder / "ct")
    study = Study(folder, source, labels)
    keep = (1, 2, 3, 4)
    lab = np.where(np.isin(labels, keep), labels, 0).astype(np.uint8)
    meta = load_metadata(
        samples.dcmqi_metadata([s for s in samples.phantom_segments() if s["labelID"] in keep])
    )
    segments = segments_for_labels(np.unique(lab[lab > 0]), meta, [])
    for seg_type in ("BINARY", "LABELMAP"):
        path = folder / f"organs-{seg_type.lower()}.seg.dcm"
        content = SegmentationContent.from_labelmap(lab, grid, segments)
        write_seg(
            content,
            source,
            path,
            SegOptions(
                segmentation_type=seg_type,
                algorithm_name="Phantom",
                algorithm_version="1.0",
                series_description=f"Organs {seg_type}",
            ),
        )
        study.files[f"seg-{seg_type.lower()}"] = path
    case = sr_cases.Case("axial", folder, source, labels)
    seg = SegAttachment.read(study.files["seg-binary"])
    k = SHAPE[0] // 2
    specs = {
        "sr-slice": dict(markups=sr_cases.slice_markups(case, k)),
        "sr-all": dict(markups=sr_cases.all_markups(case) + sr_cases.slice_markups(case, k), seg=seg),
    }
    # no image region at all: a table exported without a SEG, findings on whole images
    table = folder / "stats.tsv"
    table.write_text("Segment\tVolume [mm3]\tMean [hnsf'U]\nLiver\t1500.5\t60.25\nSpleen\t220.25\t150\n")
    whole_image = [
        ImageFinding(
            Annotation(finding=Code("56208002", "SCT", "Ulcer")), image_uids=[source.sop_instance_uids[3]]
        ),
        ImageFinding(
            Annotation(evaluations=[Evaluation(sr_cases.MALIGNANCY, sr_cases.MALIGNANT)]),
            image_uids=list(source.sop_instance_uids[:2]),
        ),
    ]
    specs["sr-regionless"] = dict(table=read_measurement_table(table, modality="CT"), findings=whole_image)
    specs["sr-mixed"] = dict(markups=sr_cases.slice_markups(case, k), findings=whole_image)
    for name, kw in specs.items():
        report = build_report(source, **kw, options=ReportOptions(series_description=f"Report {name}"))
        path = folder / f"{name}.sr.dcm"
        write_sr(report, source, path, segs=[seg.dataset] if kw.get("seg") else [])
        study.files[name] = path
        study.reports[name] = report
    return study


@pytest.fixture(scope="module")
def viewer(tmp_path_factory):
    """(Viewer session, Study): Orthanc holding the study, the proxy, one browser context."""
    reason = ohif.missing_reason()
    from servers.orthanc import missing_reason as orthanc_missing

    reason = reason or orthanc_missing()
    if reason:
        if os.environ.get("DICOMAI_SKIP_VIEWER") == "1":
            pytest.skip(reason)
        pytest.fail(reason + " (set DICOMAI_SKIP_VIEWER=1 to skip the viewer tests)")
    from playwright.sync_api import sync_playwright

    from servers.orthanc import OrthancServer

    folder = tmp_path_factory.mktemp("ohif")
    study = _write_study(folder)
    server = OrthancServer().start()
    proxy = None
    try:
        for f in sorted((folder / "ct").iterdir()):
            server.upload(f)
        for f in study.files.values():
            server.upload(f)
        proxy = ohif.SameOriginProxy(ohif.ohif_dist(), server.port)
        with sync_playwright() as p:
            try:
                browser = p.chromium.launch(
                    executable_path=ohif.chromium(), headless=True, args=ohif.CHROMIUM_ARGS
                )
            except Exception as e:  # the machine cannot run a browser: say why
                pytest.fail(f"Chromium ({ohif.chromium()}) does not start: {e}"[:2000])
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            context.add_init_script(ohif.INIT_SCRIPT)
            shots = Path(os.environ.get("DICOMAI_VIEWER_SHOTS") or folder / "shots")
            shots.mkdir(parents=True, exist_ok=True)
            yield Session(context, proxy.origin, shots), study
            context.close()
            browser.close()
    finally:
        if proxy is not None:
            proxy.close()
        server.cleanup()


class Session:
    def __init__(self, context, origin: str, shots: Path):
        self.context, self.origin, self.shots = context, origin, shots

    def page(self) -> ohif.Page:
        return ohif.Page(self.context, self.origin)


@pytest.fixture
def page(viewer, request):
    """A fresh OHIF page; its screenshot and console log are kept when the test fails."""
    session, _ = viewer
    pg = session.page()
    yield pg
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        name = request.node.name.replace("/", "_")
        pg.screenshot(session.shots / f"failed-{name}.png")
        (session.shots / f"failed-{name}.log").write_text("\n".join(pg.log))
    pg.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
