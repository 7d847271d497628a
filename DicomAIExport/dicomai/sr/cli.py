"""``dicomai export-sr`` and ``dicomai import-sr`` (registered by :func:`add_commands`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import InputError

__all__ = ["add_commands"]


def _warn(messages, quiet: bool) -> None:
    if quiet:
        return
    for m in messages:
        print(f"dicomai: warning: {' | '.join(str(m).splitlines())}", file=sys.stderr)


# ---------------------------------------------------------------------------------- export-sr
def _default_output(args) -> Path:
    if args.table:
        base = Path(args.table)
    elif args.markups:
        base = Path(args.markups[0])
    elif args.seg:
        base = Path(args.seg)
    else:
        return Path("report.sr.dcm")
    name = base.name
    for ext in (".mrk.json", ".seg.dcm", ".schema.tsv", ".tsv", ".csv", ".json", ".dcm"):
        if name.lower().endswith(ext):
            name = name[: -len(ext)]
            break
    return base.with_name(f"{name}.sr.dcm")


def _cmd_export_sr(args) -> int:
    from ..destinations import FileDestination
    from ..source import read_source_series
    from .build import SegAttachment, build_report
    from .concepts import parse_code
    from .content import DeviceObserver, PersonObserver
    from .encode import write_sr
    from .findings import load_findings
    from .markups import read_markups
    from .options import ReportOptions
    from .tables import read_measurement_table

    if not (args.markups or args.table or args.seg or args.findings):
        raise InputError("nothing to report: give --markups, --table, --seg and/or --findings")
    source = read_source_series(args.source)
    warnings: list = []
    markups = []
    for f in args.markups or []:
        markups.extend(read_markups(f, warnings))
    table = read_measurement_table(args.table, modality=source.modality) if args.table else None
    seg = SegAttachment.read(args.seg) if args.seg else None
    findings = load_findings(args.findings) if args.findings else []
    device = None
    if any([args.model_name, args.model_version, args.model_manufacturer, args.model_uid, args.model_serial]):
        device = DeviceObserver(
            name=args.model_name,
            version=args.model_version,
            manufacturer=args.model_manufacturer,
            uid=args.model_uid,
            serial_number=args.model_serial,
            model_name=args.model_name,
        )
    person = PersonObserver(args.person) if args.person else None
    procedure = [parse_code(p, "--procedure") for p in args.procedure] if args.procedure else None
    options = ReportOptions(
        device=device,
        person=person,
        procedure_reported=procedure,
        series_description=args.series_description,
        series_number=args.series_number,
        coordinates={None: "auto", True: "2d", False: "3d"}[args.two_d],
        ohif=args.ohif,
    )
    report = build_report(source, markups, table, seg, findings, options)
    out = Path(args.out) if args.out else _default_output(args)
    args.destination = FileDestination(out, args.overwrite)  # --send stores what it wrote
    result = write_sr(report, source, args.destination, options, segs=[seg.dataset] if seg else [])
    all_warnings = warnings + report.warnings + result.warnings
    _warn(all_warnings, args.quiet)
    if args.json:
        print(
            json.dumps(
                {
                    "output": str(result.path),
                    "sop_instance_uid": result.sop_instance_uid,
                    "groups": [
                        {
                            "number": g.number,
                            "template": g.template,
                            "tracking_id": g.tracking_id,
                            "tracking_uid": g.tracking_uid,
                            "markup": g.markup_name,
                            "segment": g.segment.label if g.segment else None,
                            "measurements": len(g.measurements),
                        }
                        for g in report.groups
                    ],
                    "groups_2d": result.groups_2d,
                    "warnings": all_warnings,
                },
                indent=2,
            )
        )
    else:
        extra = f", {result.groups_2d} on one slice in 2D" if args.two_d is not False else ""
        print(f"wrote {result.path} (TID 1500 SR, {result.groups} measurement group(s){extra})")
    return 0


# ---------------------------------------------------------------------------------- import-sr
def _find_segs(paths, wanted: list) -> list:
    """SEG files among ``paths`` (folders searched) whose SOP Instance UID is wanted."""
    import pydicom

    from ..source import list_dicom_files

    found = []
    for f in list_dicom_files(paths):
        try:
            ds = pydicom.dcmread(f, stop_before_pixels=True, specific_tags=["SOPInstanceUID", "Modality"])
        except Exception:
            continue
        if str(ds.get("Modality", "")) == "SEG" and str(ds.get("SOPInstanceUID", "")) in wanted:
            found.append(f)
    return found


def _cmd_import_sr(args) -> int:
    from ..source import read_source_series
    from .decode import read_sr
    from .markups import markup_file_name, write_markups
    from .tables import write_table

    source = read_source_series(args.source, allow_nonuniform=True) if args.source else None
    segs = list(args.seg or [])
    report = read_sr(args.sr, source=source, segs=segs)
    if not segs and args.source and report.referenced_seg_uids:
        found = _find_segs(args.source, report.referenced_seg_uids)
        if found:
            report = read_sr(args.sr, source=source, segs=found)
    markups = report.markups(curve_type="linear")
    rows = report.rows()
    out_dir = Path(args.out_dir)
    targets = [out_dir / markup_file_name(m) for m in markups]
    names = [t.name for t in targets]
    for i, t in enumerate(targets):  # two markups whose names differ only in unsafe characters
        if names.count(t.name) > 1:
            targets[i] = t.with_name(f"{t.name[: -len('.mrk.json')]}_{i + 1}.mrk.json")
    table_path = out_dir / "measurements.tsv"
    from ..fileio import atomic_outputs, check_writable

    check_writable([*targets, table_path], args.overwrite)
    # every file under a temporary name first, all renamed at the end: all or nothing
    with atomic_outputs([*targets, table_path], args.overwrite) as temps:
        for m, tmp in zip(markups, temps):
            write_markups(m, tmp, overwrite=True)
        write_table(rows, temps[-1], overwrite=True)
    written = [*targets, table_path]
    _warn(report.warnings + (source.warnings if source else []), args.quiet)
    if args.json:
        print(
            json.dumps(
                {
                    "written": [str(p) for p in written],
                    "markups": [{"name": m.name, "kind": m.kind, "points": len(m.points)} for m in markups],
                    "groups": len(report.groups),
                    "rows": len(rows),
                    "warnings": report.warnings,
                },
                indent=2,
            )
        )
    else:
        for p in written:
            print(f"wrote {p}")
        print(
            f"{len(report.groups)} measurement group(s), {len(markups)} markup(s), {len(rows)} table row(s) "
            f"from {args.sr}"
        )
    return 0


# ---------------------------------------------------------------------------------- parser
def add_commands(sub, common) -> None:
    """Add ``export-sr`` and ``import-sr`` to the ``dicomai`` command line."""
    e = sub.add_parser(
        "export-sr",
        parents=[common],
        help="markups / measurement table / findings + source series -> DICOM SR (TID 1500)",
        description="Write a TID 1500 Measurement Report (Comprehensive 3D SR) about a source series: "
        "Slicer markups (.mrk.json), a per-segment measurement table referencing the segments of a SEG, "
        "and classification results.",
    )
    e.add_argument(
        "--source", required=True, nargs="+", metavar="DIR", help="the CT/MR/PT series reported on"
    )
    e.add_argument("--seg", metavar="SEG", help="the DICOM SEG whose segments the table rows are")
    e.add_argument("--markups", nargs="+", metavar="FILE", help="Slicer markups files (.mrk.json)")
    e.add_argument(
        "--table", metavar="FILE", help="per-segment measurements (.tsv or .csv), e.g. Segment Statistics"
    )
    e.add_argument("--findings", metavar="JSON", help="classification / detection results (see docs/sr.md)")
    e.add_argument("--out", metavar="FILE", help="output SR file (default: <table|markups|seg>.sr.dcm)")
    e.add_argument(
        "--2d",
        dest="two_d",
        action="store_true",
        default=None,
        help="warn about markups that do not lie on one slice (those on one are written as 2D "
        "coordinates on that image, SCOORD, by default: the OHIF Viewer draws these)",
    )
    e.add_argument(
        "--3d", dest="two_d", action="store_false", help="write every coordinate in 3D (SCOORD3D) instead"
    )
    e.add_argument(
        "--no-ohif",
        dest="ohif",
        action="store_false",
        help="plain TID 1500, without what the OHIF Viewer needs to list, draw and edit the measurements "
        "(Cornerstone tracking identifiers, INFERRED FROM copies, slice outlines of boxes; docs/sr.md)",
    )
    g = e.add_argument_group("observer and procedure")
    g.add_argument("--model-name", metavar="NAME", help="AI model / algorithm (device observer name)")
    g.add_argument(
        "--model-version", metavar="V", help="its version (written as Algorithm Version per group)"
    )
    g.add_argument("--model-manufacturer", metavar="NAME", help="its manufacturer")
    g.add_argument("--model-uid", metavar="UID", help="device observer UID (default: derived from the above)")
    g.add_argument("--model-serial", metavar="TEXT", help="device serial number")
    g.add_argument("--person", metavar="NAME", help="person observer, DICOM name form Family^Given")
    g.add_argument(
        "--procedure",
        nargs="+",
        metavar="CODE",
        help="procedure reported as SCHEME^VALUE^Meaning (default by modality, CT: LN^25045-6^...)",
    )
    e.add_argument("--series-description", metavar="TEXT")
    e.add_argument("--series-number", type=int, metavar="N")
    e.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    e.set_defaults(func=_cmd_export_sr)

    i = sub.add_parser(
        "import-sr",
        parents=[common],
        help="DICOM SR (TID 1500) -> Slicer markups (.mrk.json) + measurements.tsv",
        description="Read any TID 1500 Measurement Report: one Slicer .mrk.json per markup its coordinates "
        "describe, and measurements.tsv with every measurement and qualitative evaluation.",
    )
    i.add_argument("sr", metavar="SR", help="the SR file")
    i.add_argument(
        "--source",
        nargs="+",
        metavar="DIR",
        help="the referenced series (places 2D coordinates; SEGs found there name their segments)",
    )
    i.add_argument("--seg", nargs="+", metavar="SEG", help="the SEG(s) volumetric groups reference")
    i.add_argument(
        "--out-dir", required=True, metavar="DIR", help="folder for the .mrk.json files and measurements.tsv"
    )
    i.add_argument("--overwrite", action="store_true", help="replace existing output files")
    i.set_defaults(func=_cmd_import_sr)
