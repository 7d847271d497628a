"""``dicomai info`` for Structured Reports: template, observers, groups, coordinates, measurements."""

from __future__ import annotations

from collections import Counter

from .concepts import format_code

__all__ = ["describe_sr"]

_TEMPLATE_NAMES = {"1410": "planar ROI", "1411": "volumetric ROI", "1501": "no ROI"}


def _value(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def describe_sr(ds, path) -> dict:
    """A JSON-serialisable description of an SR; ``text`` holds the lines ``dicomai info`` prints."""
    from .decode import read_sr_dataset

    report = read_sr_dataset(ds, name=str(path))
    coordinates: Counter = Counter()
    groups = []
    for g in report.groups:
        regions = list(g.regions) + [r for m in g.measurements for r in m.regions]
        for r in regions:
            coordinates[f"{'SCOORD' if r.is_2d else 'SCOORD3D'} {r.graphic_type}"] += 1
        groups.append(
            {
                "number": g.number,
                "template": g.template,
                "tracking_id": g.tracking_id,
                "tracking_uid": g.tracking_uid,
                "finding": format_code(g.finding) or None,
                "finding_sites": [format_code(s) for s in g.finding_sites],
                "referenced_segment": (
                    {
                        "sop_instance_uid": g.segment.sop_instance_uid,
                        "segment_number": g.segment.segment_number,
                    }
                    if g.segment
                    else None
                ),
                "regions": [
                    {
                        "graphic_type": r.graphic_type,
                        "dimensions": 2 if r.is_2d else 3,
                        "points": len(r.points),
                        "image": r.image.sop_instance_uid if r.image else None,
                        "surface": g.surface,
                    }
                    for r in regions
                ],
                "measurements": [
                    {
                        "quantity": format_code(m.quantity),
                        "value": m.value,
                        "unit": str(m.unit.value) if m.unit is not None else None,
                        "derivation": format_code(m.derivation) or None,
                    }
                    for m in g.measurements
                ],
                "evaluations": [
                    {"concept": format_code(e.concept), "value": e.value_text} for e in g.evaluations
                ],
            }
        )
    # regions that need geometry we do not have are left out of groups: count them from warnings
    observers = []
    for o in report.observers:
        observers.append({k: v for k, v in o.items() if v})
    out = {
        "kind": "SR",
        "template": report.template_id,
        "title": format_code(report.title) or None,
        "completion_flag": str(ds.get("CompletionFlag", "")) or None,
        "verification_flag": str(ds.get("VerificationFlag", "")) or None,
        "observers": observers,
        "procedure_reported": [format_code(c) for c in report.procedure_reported],
        "referenced_series": report.referenced_series_uids,
        "referenced_instances": len(report.referenced_instances),
        "referenced_segs": report.referenced_seg_uids,
        "coordinates": dict(sorted(coordinates.items())),
        "groups": groups,
        "measurement_count": sum(len(g["measurements"]) for g in groups),
        "warnings": list(report.warnings),
        "status": report.status.as_dict(),  # what the reader understood, as data
    }
    out["text"] = _text(out)
    return out


def _text(info: dict) -> list:
    lines = []
    template = f"TID {info['template']}" if info.get("template") else "no template"
    lines.append(
        f"{template} {info['title'] or '(no title)'}, {info['completion_flag'] or '?'}, "
        f"{info['verification_flag'] or '?'}"
    )
    for o in info["observers"]:
        details = ", ".join(f"{k} {v}" for k, v in o.items() if k not in ("type", "name"))
        lines.append(
            f"observer: {o.get('type', '?').lower()} {o.get('name', '')!r}"
            + (f" ({details})" if details else "")
        )
    for p in info["procedure_reported"]:
        lines.append(f"procedure reported: {p}")
    lines.append(
        f"references {info['referenced_instances']} instance(s) in {len(info['referenced_series'])} series"
        + (f", SEG {', '.join(info['referenced_segs'])}" if info["referenced_segs"] else "")
    )
    if info["coordinates"]:
        lines.append("coordinates: " + ", ".join(f"{k} x{n}" for k, n in info["coordinates"].items()))
    lines.append(f"{len(info['groups'])} measurement group(s), {info['measurement_count']} measurement(s):")
    for g in info["groups"]:
        what = _TEMPLATE_NAMES.get(g["template"], g["template"])
        region = ", ".join(f"{r['graphic_type']} {r['dimensions']}D" for r in g["regions"][:3]) + (
            " ..." if len(g["regions"]) > 3 else ""
        )
        if g["referenced_segment"]:
            region = f"segment {g['referenced_segment']['segment_number']}"
        head = f"  {g['number']:>3}  {g['tracking_id'] or '-'}  [TID {g['template']} {what}]"
        if g["finding"]:
            head += f"  finding {g['finding']}"
        if region:
            head += f"  {region}"
        lines.append(head)
        if g["finding_sites"]:
            lines.append(f"       site: {'; '.join(g['finding_sites'])}")
        for m in g["measurements"]:
            deriv = f" ({m['derivation'].split(' (')[0]})" if m["derivation"] else ""
            lines.append(
                f"       {m['quantity'].split(' (')[0]}{deriv} = {_value(m['value'])} {m['unit'] or ''}"
            )
        for e in g["evaluations"]:
            lines.append(f"       {e['concept'].split(' (')[0]}: {e['value']}")
    for w in info["warnings"]:
        lines.append(f"warning: {w}")
    return lines
