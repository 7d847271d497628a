"""``dicomai export-sc`` (registered by :func:`add_commands`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import InputError

__all__ = ["add_commands"]


def _warn(messages, quiet: bool) -> None:
    if not quiet:
        for m in messages:
            print(f"dicomai: warning: {m}", file=sys.stderr)


def _window(text):
    if text is None:
        return None
    try:
        center, width = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"--window {text!r}: give CENTER,WIDTH such as 40,400") from None
    return center, width


def _default_output(args) -> Path:
    base = Path(args.seg or args.sr or args.image[0])
    name = base.name
    for ext in (".seg.dcm", ".sr.dcm", ".dcm", ".png", ".jpg", ".jpeg", ".tif", ".tiff"):
        if name.lower().endswith(ext):
            name = name[: -len(ext)]
            break
    return base.with_name(f"{name}-sc")


def _cmd_export_sc(args) -> int:
    from ..source import read_source_series
    from .encode import ScOptions, read_picture, sc_datasets, sc_destination, write_sc

    if bool(args.image) == bool(args.seg or args.sr):
        raise InputError("give either --image PNG... (pictures) or --seg SEG [--sr SR] (rendered slices)")
    source = read_source_series(args.source, allow_nonuniform=True)
    warnings = list(source.warnings)
    if args.image:
        pictures = [read_picture(p) for p in args.image]
        description = args.series_description or "Secondary capture"
    else:
        from .render import RenderOptions, choose_slices, load_volume, render_slices

        options = RenderOptions(
            plane=args.plane,
            style=args.style,
            opacity=args.opacity,
            window=_window(args.window),
            caption=args.caption,
        )
        content = None
        markups = []
        if args.seg:
            from ..seg.decode import read_seg

            content = read_seg(args.seg, source)
            warnings += content.warnings
        if args.sr:
            from ..sr.decode import read_sr

            report = read_sr(args.sr, source, segs=[args.seg] if args.seg else [])
            markups = report.markups()
            warnings += report.warnings
        slices = choose_slices(content, markups, source.grid, args.plane, args.slices)
        pictures = render_slices(source, load_volume(source), content, markups, slices, options)
        description = args.series_description or "Overlay capture"
    sc_options = ScOptions(
        series_description=description,
        series_number=args.series_number,
        burned_in_annotation=args.burned_in_annotation,
    )
    datasets = sc_datasets(source, pictures, sc_options)
    # where the files go, chosen once (--send then stores what this destination wrote)
    args.destination = sc_destination(Path(args.out) if args.out else _default_output(args), args.overwrite)
    written = write_sc(datasets, args.destination)
    _warn(warnings, args.quiet)
    if args.json:
        print(
            json.dumps(
                {
                    "written": [str(p) for p in written],
                    "series_instance_uid": str(datasets[0].SeriesInstanceUID),
                    "images": [
                        {"file": str(p), "sop_instance_uid": str(ds.SOPInstanceUID), "shows": pic.name}
                        for p, ds, pic in zip(written, datasets, pictures)
                    ],
                    "warnings": warnings,
                },
                indent=2,
            )
        )
    else:
        for p, pic in zip(written, pictures):
            print(f"wrote {p} ({pic.name})")
        print(f"{len(written)} Secondary Capture image(s) in series {datasets[0].SeriesInstanceUID}")
    return 0


def add_commands(sub, common) -> None:
    e = sub.add_parser(
        "export-sc",
        parents=[common],
        help="pictures, or slices rendered with a SEG/SR burned in -> DICOM Secondary Capture",
        description="Write Secondary Capture images in a new series of the source study: PNG pictures "
        "as they are, or CT/MR slices with the SEG's segments (outlines or fill, the SEG's colours), the "
        "SR's planar markups, a legend and an optional caption burned in, for viewers and archives that "
        "cannot show SEG or SR.",
    )
    e.add_argument(
        "--source", required=True, nargs="+", metavar="DIR", help="the CT/MR series (study, patient)"
    )
    e.add_argument(
        "--image", nargs="+", metavar="PNG", help="pictures to store (RGB, or grey -> MONOCHROME2)"
    )
    e.add_argument("--seg", metavar="SEG", help="render the source with this SEG's segments")
    e.add_argument("--sr", metavar="SR", help="and this SR's planar markups (points, lines, curves, boxes)")
    e.add_argument(
        "--slices",
        default="auto",
        metavar="auto|all|N,M",
        help="auto (the slice of each segment's largest area and of each markup; default), all, or "
        "slice numbers counted from 1 along the plane's axis",
    )
    e.add_argument("--plane", default="axial", type=str.lower, choices=["axial", "coronal", "sagittal"])
    e.add_argument("--style", default="outline", type=str.lower, choices=["outline", "fill"])
    e.add_argument("--opacity", default=0.4, type=float, metavar="0..1", help="fill opacity (0.4)")
    e.add_argument(
        "--window", metavar="CENTER,WIDTH", help="grey window (default CT 40,400; else percentiles)"
    )
    e.add_argument("--caption", metavar="TEXT", help='text under the legend, e.g. "NOT FOR DIAGNOSTIC USE"')
    e.add_argument(
        "--out", metavar="FILE|DIR", help="a .dcm file (one image) or a folder (default: <input>-sc)"
    )
    e.add_argument("--series-description", metavar="TEXT")
    e.add_argument("--series-number", type=int, default=901, metavar="N")
    e.add_argument(
        "--burned-in-annotation",
        default="YES",
        type=str.upper,
        choices=["YES", "NO"],
        help="BurnedInAnnotation: YES (default) when the pictures carry text or overlays",
    )
    e.add_argument("--overwrite", action="store_true", help="replace existing output files")
    e.set_defaults(func=_cmd_export_sc)
