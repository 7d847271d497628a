"""``dicomai export-seg`` and ``dicomai import-seg`` (registered by :func:`add_commands`).

The SEG family's commands, brought to the command line by :data:`dicomai.seg.FAMILY` like the
SR's (:mod:`dicomai.sr.cli`) and the SC's (:mod:`dicomai.sc.cli`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List

from ..errors import InputError

__all__ = ["add_commands"]


def _info(message, quiet: bool = False) -> None:
    if message and not quiet:
        print(f"dicomai: {message}", file=sys.stderr)


def _warn(messages, quiet: bool = False) -> None:
    if quiet:
        return
    for m in messages:
        print(f"dicomai: warning: {' | '.join(str(m).splitlines())}", file=sys.stderr)


# ---------------------------------------------------------------------------- export-seg
def _cmd_export_seg(args) -> int:
    from ..imageio import is_seg_nrrd, read_labelmap, read_seg_nrrd
    from ..source import read_source_series
    from .content import SegmentationContent
    from .encode import layers_overlap, write_seg
    from .metadata import complete_codes, generic_warning, load_metadata, segments_for_labels

    requested = (args.type or ("fractional" if args.probability else "binary")).upper()
    if args.probability and requested not in ("FRACTIONAL", "AUTO"):
        raise InputError(
            f"--probability gives probability maps, written as a FRACTIONAL SEG; --type {args.type} "
            "needs --labelmap (or use --type fractional)"
        )
    source = read_source_series(
        args.source, series_uid=args.series, allow_nonuniform=args.allow_missing_slices
    )
    if args.allow_missing_slices and not source.uniform and source.lattice is None:
        raise InputError(
            f"--source {' '.join(args.source)}: the slice spacing is not uniform and no slice is missing "
            "(--allow-missing-slices only covers missing slices): a regular series is needed"
        )
    metadata = load_metadata(args.metadata)
    if args.labels:
        metadata = _with_label_names(metadata, args.labels)
    terminologies = _terminologies(args.terminology)
    warnings: list = []
    if args.probability:
        from .probability import content_from_probability_maps

        content = content_from_probability_maps(
            args.probability,
            metadata,
            max_fractional_value=args.max_fractional_value,
            fractional_type=args.fractional_type,
            warnings=warnings,
            terminologies=terminologies,
        )
        input_path = Path(args.probability[0])
    else:
        input_path = Path(args.labelmap)
        if is_seg_nrrd(input_path):
            content = read_seg_nrrd(input_path)
            generic: list = []
            for s in content.segments:
                complete_codes(s, warnings, terminologies, generic)
            if generic:
                warnings.append(generic_warning(generic))
            if metadata.segments:
                warnings.append(
                    f"{input_path.name} carries its own segment names and codes: metadata segments ignored"
                )
            content.attributes = metadata.attributes
        else:
            labelmap, grid = read_labelmap(input_path)
            if not args.labels:
                metadata = _with_file_label_names(metadata, input_path, args.quiet)
            present = _present_labels(labelmap)
            if not present:
                raise InputError(
                    f"labelmap {str(input_path)!r} is empty (every voxel is 0): there is no segment to write"
                )
            segments = segments_for_labels(
                present, metadata, warnings, source_name=input_path.name, terminologies=terminologies
            )
            content = SegmentationContent.from_labelmap(
                labelmap, grid, segments, attributes=metadata.attributes
            )
    if source.lattice is not None:
        _info(content.move_to_grid(source.lattice, str(input_path)), args.quiet)
        _drop_missing_slices(content, source, str(input_path))
        warnings.append(f"{source.missing_slices}: no frame written for them (they hold no label)")
    else:
        _info(content.move_to_grid(source.grid, str(input_path)), args.quiet)
    out = Path(args.out) if args.out else _default_output(input_path)
    if requested == "LABELMAP" and layers_overlap(content):
        raise InputError(
            f"segments of {input_path.name} overlap (some voxels belong to two segments): a LABELMAP SEG "
            "gives each voxel one segment; use --type binary, or --type auto to choose by content"
        )
    from ..destinations import FileDestination
    from ..errors import OutputExistsError

    args.destination = FileDestination(out, args.overwrite)  # --send stores what it wrote
    try:
        result = write_seg(content, source, args.destination, _seg_options(requested, args))
    except OutputExistsError as e:
        raise _cli_words(e) from None
    _finish_export(result, warnings, args)
    return 0


def _seg_options(seg_type: str, args):
    from .options import SegOptions

    return SegOptions(
        segmentation_type=seg_type,  # "AUTO": chosen by content (seg.options.choose_segmentation_type)
        compression=None if args.compression == "auto" else args.compression,
        fractional_type=args.fractional_type,
        max_fractional_value=args.max_fractional_value,
        algorithm_name=args.algorithm_name,
        algorithm_version=args.algorithm_version,
        algorithm_type=args.algorithm_type,
        series_description=args.series_description,
        series_number=args.series_number,
        workers=getattr(args, "workers", None),
    )


def _finish_export(result, warnings, args) -> None:
    from .encode import COMPRESSIONS

    compression_name = {v: k for k, v in COMPRESSIONS.items()}.get(result.transfer_syntax_uid, "?")
    _warn(warnings + result.warnings, args.quiet)
    if args.json:
        print(
            json.dumps(
                {
                    "output": str(result.path),
                    "segmentation_type": result.segmentation_type,
                    "compression": compression_name,
                    "transfer_syntax_uid": result.transfer_syntax_uid,
                    "frames": result.number_of_frames,
                    "segments": [
                        {"number": i, "label": s.label, "labelID": s.label_value}
                        for i, s in enumerate(result.segments, start=1)
                    ],
                    "sop_instance_uid": result.sop_instance_uid,
                    "warnings": warnings + result.warnings,
                },
                indent=2,
            )
        )
    else:
        extra = "" if compression_name == "none" else f", {compression_name}"
        print(
            f"wrote {result.path} ({result.segmentation_type} SEG, {len(result.segments)} segment(s), "
            f"{result.number_of_frames} frame(s){extra})"
        )


def _with_file_label_names(metadata, path, quiet):
    """Names from the labelmap file's own label table (TotalSegmentator ``--ml``) for the values
    the metadata does not describe."""
    from ..imageio import read_label_names
    from .content import SegmentInfo
    from .metadata import SegmentMetadata

    names = read_label_names(path)
    described = metadata.by_label()
    extra = {v: n for v, n in names.items() if v not in described}
    if not extra:
        return metadata
    _info(f"{path}: {len(extra)} label name(s) from the file's label table", quiet)
    segments = list(metadata.segments) + [
        SegmentInfo(number=v, label=n, label_value=v) for v, n in sorted(extra.items())
    ]
    out = SegmentMetadata(segments, metadata.attributes, metadata.source if metadata.segments else str(path))
    out.quiet_absent = True  # the table lists every class of the model
    return out


def _drop_missing_slices(content, source, name: str) -> None:
    """Content on the full lattice of a series with missing slices -> on its present slices
    (``source.grid``, by index); labelled voxels on a missing slice are an error."""
    import numpy as np

    from ..errors import GeometryMismatchError

    present = np.round(source.lattice.world_to_index(source.positions)[:, 0]).astype(int)
    missing = np.setdiff1d(np.arange(source.lattice.shape[0]), present)
    arrays = list(content.layers) + list(content.fractions.values())
    count = sum(int(np.count_nonzero(a[missing])) for a in arrays)
    if count:
        raise GeometryMismatchError(
            f"{name}: {count} labelled voxel(s) lie on the {len(missing)} missing slice(s) of the source "
            f"(slice index {', '.join(str(int(k)) for k in missing)} of the full series): a SEG frame "
            "needs a source image; clear those slices or give the complete series"
        )
    content.layers = [np.ascontiguousarray(a[present]) for a in content.layers]
    content.fractions = {n: np.ascontiguousarray(a[present]) for n, a in content.fractions.items()}
    content.grid = source.grid


def _terminologies(paths) -> list:
    from ..terminology import load_terminology

    return [load_terminology(p) for p in paths or []]


def _with_label_names(metadata, spec: str):
    """``--labels totalsegmentator[:TASK]``: TotalSegmentator's class names for the label values;
    entries of --metadata win for their labelIDs."""
    from ..terminology import totalsegmentator_classes
    from .content import SegmentInfo
    from .metadata import SegmentMetadata

    tool, _, task = spec.partition(":")
    if tool.strip().lower() != "totalsegmentator":
        raise InputError(
            f"--labels {spec}: the known label sets are totalsegmentator[:TASK] (tasks total, total_mr)"
        )
    classes = totalsegmentator_classes(task.strip() or "total")
    described = metadata.by_label()
    segments = [
        described.get(v) or SegmentInfo(number=v, label=name, label_value=v)
        for v, name in sorted(classes.items())
    ]
    segments += [s for v, s in sorted(described.items()) if v not in classes]
    out = SegmentMetadata(segments, metadata.attributes, f"--labels {spec}")
    out.quiet_absent = True  # a result holds a subset of the classes
    return out


def _cli_words(e: Exception) -> Exception:
    """An error raised by the API, reworded with the CLI option it means."""
    from ..errors import OutputExistsError

    text = str(e).replace("--overwrite (overwrite=True)", "--overwrite")
    return OutputExistsError(text) if isinstance(e, OutputExistsError) else e


def _present_labels(labelmap) -> List[int]:
    """Label values other than 0 present in the labelmap (counted slice by slice)."""
    from .content import slice_label_counts

    values, _ = slice_label_counts(labelmap)
    return [int(v) for v in values]


def _default_output(label_path: Path) -> Path:
    name = label_path.name
    for ext in (".seg.nrrd", ".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd"):
        if name.lower().endswith(ext):
            name = name[: -len(ext)]
            break
    return label_path.with_name(f"{name}.seg.dcm")


# ---------------------------------------------------------------------------- import-seg
def _cmd_import_seg(args) -> int:
    from ..source import read_source_series
    from .convert import export_content_files
    from .decode import read_seg

    if args.series and not args.source:
        raise InputError("--series picks a series of --source: give --source too")
    source = None
    if args.source:
        source = read_source_series(
            args.source,
            allow_nonuniform=True,
            series_uid=args.series,
            refuse_missing_slices=not args.allow_missing_slices,
        )
    if source is not None and source.lattice is not None:
        # slices missing: every frame placed by its own position on the series' full lattice
        content = read_seg(args.seg, None)
        content.move_to_grid(source.lattice, f"SEG {args.seg}", "the source series", same_extent=False)
        content.warnings.append(
            f"{source.missing_slices}: the output covers every slice position, the missing ones included"
        )
        source.warnings = []
    else:
        content = read_seg(args.seg, source)
    if args.like:
        from ..imageio import read_image_grid

        like = read_image_grid(args.like)
        _info(content.move_to_grid(like, f"SEG {args.seg}", args.like, same_extent=False), args.quiet)
    values, value_warnings = _label_values(content, args)
    from ..errors import OutputExistsError

    try:
        written = export_content_files(content, args.out, overwrite=args.overwrite, label_values=values)
    except OutputExistsError as e:
        raise _cli_words(e) from None
    _warn(value_warnings + content.warnings + (source.warnings if source else []), args.quiet)
    counts = content.voxel_counts() if args.json else {}
    if args.json:
        print(
            json.dumps(
                {
                    "written": [str(p) for p in written],
                    "segments": [
                        {"number": s.number, "label": s.label, "voxels": counts.get(s.number, 0)}
                        for s in content.segments
                    ],
                    "warnings": content.warnings,
                    "status": content.status.as_dict(),  # what the reader made of the file, as data
                },
                indent=2,
            )
        )
    else:
        for p in written:
            print(f"wrote {p}")
        print(f"{len(content.segments)} segment(s) from {args.seg} ({content.segmentation_type})")
    return 0


def _label_values(content, args) -> tuple:
    """Segment number -> output label value: the values the SEG recorded (export-seg keeps the
    labelmap's), or with --metadata the labelIDs matched by code then label."""
    from .labelvalues import complete_label_values, label_ids_from_metadata, read_label_values_from_file

    numbers = [s.number for s in content.segments]
    warnings: list = []
    reserved: list = []
    if args.metadata:
        from .metadata import load_metadata

        meta = load_metadata(args.metadata)
        if not meta.segments:
            raise InputError(
                f"--metadata {args.metadata}: no segmentAttributes with labelIDs to map the segments to"
            )
        values, missing = label_ids_from_metadata(content.segments, meta)
        reserved = [s.label_value for s in meta.segments]
        if missing:
            warnings.append(
                f"{len(missing)} segment(s) of {args.seg} found no labelID in {args.metadata} (by code, "
                f"then by label): {', '.join(missing)}; written with the next free values"
            )
    else:
        values = read_label_values_from_file(args.seg)
    return complete_label_values(numbers, values, reserved), warnings


# ---------------------------------------------------------------------------- parser
def add_commands(sub, common) -> None:
    from .enum import Compression, FractionalType, SegmentAlgorithmType, SegmentationType

    e = sub.add_parser(
        "export-seg",
        parents=[common],
        help="labelmap (or probability maps) + source series -> DICOM SEG",
        description="Write a DICOM Segmentation (BINARY, LABELMAP or FRACTIONAL) from a labelmap, a "
        "Slicer .seg.nrrd or probability maps on the grid of a source series.",
    )
    e.add_argument(
        "--source",
        required=True,
        nargs="+",
        metavar="DIR",
        help="folder, files or DICOMDIR of the CT/MR/PT series the labelmap was made on",
    )
    e.add_argument("--series", metavar="UID", help="the SeriesInstanceUID to use when --source holds several")
    e.add_argument(
        "--allow-missing-slices",
        action="store_true",
        help="accept a --source series with missing slices: the labelmap covers every slice position "
        "(missing ones included, which must hold no label); frames are written for the present slices "
        "(default: an error naming the gap)",
    )
    given = e.add_mutually_exclusive_group(required=True)
    given.add_argument(
        "--labelmap",
        metavar="FILE",
        help="labelmap on the source grid: .nrrd, .nii, .nii.gz, .mha or a Slicer .seg.nrrd",
    )
    given.add_argument(
        "--probability",
        nargs="+",
        metavar="FILE",
        help="probability (or occupancy) maps on the source grid, one file per segment (file n is "
        "labelID n of --metadata): floats in 0..1, or integers 0..--max-fractional-value; "
        "written as a FRACTIONAL SEG",
    )
    e.add_argument("--metadata", metavar="JSON", help="segment metadata in dcmqi's JSON format")
    e.add_argument(
        "--labels",
        metavar="SET",
        help="name and code the label values as a known model's classes: totalsegmentator (task "
        "total, 117 classes) or totalsegmentator:TASK (total, total_mr); --metadata entries win",
    )
    e.add_argument(
        "--terminology",
        action="append",
        metavar="FILE",
        help="codes for segment labels: a Slicer .term.json context or a TotalSegmentator-style CSV "
        "(repeatable; searched before the shipped contexts, see docs/terminology.md)",
    )
    e.add_argument("--out", metavar="FILE", help="output SEG file (default: <labelmap>.seg.dcm)")
    e.add_argument(
        "--type",
        default=None,
        type=str.lower,
        choices=[t.value.lower() for t in SegmentationType],
        help="segmentation type: binary (default; the most widely read), labelmap (one frame per "
        "slice, 8/16-bit: small and fast, needs non-overlapping segments), fractional (default with "
        "--probability), auto (labelmap unless segments overlap, then binary)",
    )
    e.add_argument(
        "--compression",
        default="auto",
        type=str.lower,
        choices=["auto", *Compression.values()],
        help="lossless compression (default auto: none for binary and fractional, rle for labelmap; "
        "binary takes none, jpeg2000 or deflate). See docs/seg-types.md for who reads what",
    )
    e.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="threads that encode frames (rle, jpeg-ls) or deflate the file (default: "
        "$DICOMAI_WORKERS, else 1); the output bytes do not depend on it",
    )
    e.add_argument(
        "--fractional-type",
        default="PROBABILITY",
        type=str.upper,
        choices=list(FractionalType.values()),
        help="meaning of fractional values (default PROBABILITY)",
    )
    e.add_argument(
        "--max-fractional-value",
        default=255,
        type=int,
        metavar="N",
        help="stored value meaning 1.0 in a FRACTIONAL SEG, 1..255 (default 255); integer "
        "probability maps are read on this scale",
    )
    e.add_argument("--algorithm-name", metavar="NAME", help="name of the model / algorithm")
    e.add_argument("--algorithm-version", metavar="V", help="its version")
    e.add_argument(
        "--algorithm-type",
        choices=list(SegmentAlgorithmType.values()),
        type=str.upper,
        help="segment algorithm type (default: from metadata, else AUTOMATIC)",
    )
    e.add_argument("--series-description", metavar="TEXT")
    e.add_argument("--series-number", type=int, metavar="N")
    e.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    e.set_defaults(func=_cmd_export_seg)

    i = sub.add_parser(
        "import-seg",
        parents=[common],
        help="DICOM SEG -> labelmap (+ dcmqi JSON)",
        description="Read any DICOM SEG back into a labelmap (or one file per segment when segments "
        "overlap, or a Slicer .seg.nrrd) and write the segment metadata as dcmqi JSON beside it.",
    )
    i.add_argument("seg", metavar="SEG", help="the DICOM SEG file")
    i.add_argument(
        "--source",
        nargs="+",
        metavar="DIR",
        help="the referenced series: output on its grid (default: the SEG's own plane positions)",
    )
    i.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="output labelmap (.nrrd, .nii.gz, .nii, .mha) or Slicer segmentation (.seg.nrrd)",
    )
    i.add_argument("--series", metavar="UID", help="the SeriesInstanceUID to use when --source holds several")
    i.add_argument(
        "--allow-missing-slices",
        action="store_true",
        help="accept a --source series with missing slices: the output covers every slice position "
        "and each frame is placed by its own position (default: an error naming the gap)",
    )
    i.add_argument(
        "--like",
        metavar="IMAGE",
        help="write the output on the grid and axis order of this image (e.g. the dcm2niix NIfTI a "
        "model ran on); its voxels must coincide with the SEG's (see docs/nifti.md)",
    )
    i.add_argument(
        "--metadata",
        metavar="JSON",
        help="dcmqi-style metadata whose labelIDs the output uses: each segment takes the labelID of "
        "the entry with its codes, else its label (default: the label values the SEG recorded, else "
        "the segment numbers; see docs/label-values.md)",
    )
    i.add_argument("--overwrite", action="store_true", help="replace existing output files")
    i.set_defaults(func=_cmd_import_seg)
