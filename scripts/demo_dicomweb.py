"""The archive part of `make demo`: a throw-away Orthanc, the phantom CT stored there, SEG + SR + an
overlay Secondary Capture made from the server's copy and sent back (verified), then a query.

    .venv/bin/python scripts/demo_dicomweb.py [--out demo-output/dicomweb] [--picture docs/sc-overlay.png]

Every step is a `dicomai` command (run in this process; printed as you would type it). Orthanc is
started with its own temporary storage on a free 127.0.0.1 port (Testing/servers/orthanc.py, the
same launcher the tests use) and stopped at the end. Exit status 1 when a command fails.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT / "Testing", ROOT / "DicomAIExport"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

SHAPE = (40, 128, 128)
SPACING = (2.5, 3.0, 3.0)


def run(args, out_dir: Path) -> str:
    """Run one dicomai command, print it and its output; raise SystemExit(1) when it fails."""
    from dicomai.cli import main as cli

    shown = " ".join(shlex.quote(a.replace(str(out_dir) + "/", "")) for a in args)
    shown = shown.replace(str(out_dir) + "/", "")
    print(f"$ dicomai {shown}")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        code = cli(list(args))
    text = buffer.getvalue()
    for line in text.splitlines():
        print(f"    {line}")
    if code != 0:
        print(f"dicomai {args[0]} exited with {code}", file=sys.stderr)
        raise SystemExit(1)
    return text


def write_inputs(out: Path):
    """The phantom CT (DICOM), the model's labelmap and segment metadata, a lesion line, a table."""
    import numpy as np

    import dicomai_samples as samples
    from dicomai.imageio import write_image
    from dicomai.sr.content import Markup
    from dicomai.sr.markups import write_markups

    grid = samples.make_grid(SHAPE, SPACING, orientation="axial")
    ct, labels, _ = samples.phantom(SHAPE)
    series = samples.write_series(out / "ct", ct, grid, uid_seed="dicomai-demo-dicomweb")
    labelmap = out / "model-output.nrrd"
    write_image(labelmap, labels, grid)
    metadata = out / "model-output.json"
    metadata.write_text(json.dumps(samples.dcmqi_metadata(samples.phantom_segments()), indent=2))
    lesion = np.argwhere(labels == 5)
    k = int(np.bincount(lesion[:, 0]).argmax())
    on_slice = lesion[lesion[:, 0] == k]
    r = int(np.median(on_slice[:, 1]))
    cols = on_slice[on_slice[:, 1] == r][:, 2]
    ends = grid.index_to_world([[k, r, cols.min() - 0.5], [k, r, cols.max() + 0.5]])
    line = out / "Lesion diameter.mrk.json"
    write_markups(Markup(kind="line", name="Lesion diameter", points=ends), line)
    table = out / "volumes.tsv"
    counts = {s["SegmentLabel"]: int((labels == s["labelID"]).sum()) for s in samples.phantom_segments()}
    voxel_mm3 = float(np.prod(SPACING))
    table.write_text(
        "Segment\tVolume [mm3]\n"
        + "".join(f"{name}\t{n * voxel_mm3:.1f}\n" for name, n in counts.items() if n)
    )
    return series, labelmap, metadata, line, table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="demo-output/dicomweb", help="output folder")
    parser.add_argument("--picture", help="also save the first SC's pixels as this PNG (README picture)")
    args = parser.parse_args(argv)

    from servers.orthanc import OrthancServer, missing_reason

    reason = missing_reason()
    if reason:
        print(f"DICOMweb demo skipped: {reason}")
        return 0
    out = Path(args.out).resolve()
    if out.exists():
        import shutil

        shutil.rmtree(out)
    out.mkdir(parents=True)
    series, labelmap, metadata, line, table = write_inputs(out)
    with OrthancServer() as orthanc:
        url = orthanc.dicomweb_url
        print(f"DICOMweb demo: a throw-away Orthanc at {url}")
        run(["send", str(out / "ct"), "--url", url], out)
        source = f"dicomweb:{url}#{series.study_instance_uid}/{series.series_instance_uid}"
        send = ["--send", url, "--quiet"]
        run(["export-seg", "--source", source, "--labelmap", str(labelmap), "--metadata", str(metadata),
             "--out", str(out / "ai.seg.dcm"), *send], out)  # fmt: skip
        run(["export-sr", "--source", source, "--seg", str(out / "ai.seg.dcm"), "--markups", str(line),
             "--table", str(table), "--out", str(out / "ai.sr.dcm"), *send], out)  # fmt: skip
        run(["export-sc", "--source", source, "--seg", str(out / "ai.seg.dcm"), "--sr",
             str(out / "ai.sr.dcm"), "--caption", "NOT FOR DIAGNOSTIC USE", "--out", str(out / "overlay"),
             *send], out)  # fmt: skip
        run(["query", "--url", url, "--study", series.study_instance_uid], out)
        stored = len(orthanc.instance_uids())
    print(f"Orthanc stopped; it held {stored} instance(s). Files in {out}")
    if args.picture:
        import pydicom
        from PIL import Image

        captures = [pydicom.dcmread(str(p)) for p in sorted((out / "overlay").glob("*.dcm"))]
        shown = next((ds for ds in captures if "markup" in str(ds.DerivationDescription)), captures[0])
        Image.fromarray(shown.pixel_array).save(args.picture, optimize=True)
        print(f"saved {args.picture}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
