"""Regenerate the terminology data files in DicomAIExport/dicomai/data/ from their sources.

    python scripts/make_terminology_data.py TOTALSEGMENTATOR_WHEEL SLICER_TERMINOLOGY_DIR

- TOTALSEGMENTATOR_WHEEL: ``pip download --no-deps totalsegmentator==2.18.0`` (Apache 2.0).
  Copies ``resources/totalsegmentator_snomed_mapping.csv`` unchanged and writes
  ``totalsegmentator_classes.json``: the class maps (label value -> class name) of the tasks
  dicomai names, read from ``map_to_binary.py`` with ``ast`` (nothing of the wheel is run).
- SLICER_TERMINOLOGY_DIR: Slicer's default segmentation contexts (the .term.json files of
  Modules/Loadable/Terminologies/Resources, Apache 2.0 / Slicer licence), copied unchanged.
"""

from __future__ import annotations

import ast
import json
import shutil
import sys
import zipfile
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "DicomAIExport" / "dicomai" / "data"
TASKS = ("total", "total_mr")
SLICER_FILES = (
    "SegmentationCategoryTypeModifier-SlicerGeneralAnatomy.term.json",
    "SegmentationCategoryTypeModifier-DICOM-Master.term.json",
)


def class_maps(source: str) -> dict:
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "class_map" for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit("no class_map in map_to_binary.py")


def main(wheel: str, slicer_dir: str) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        version = meta.split(".dist-info")[0].split("-")[1]
        licence = next(n for n in z.namelist() if "/licenses/" in n or n.endswith(".dist-info/LICENSE"))
        (DATA / "LICENSE-totalsegmentator.txt").write_bytes(z.read(licence))
        csv = z.read("totalsegmentator/resources/totalsegmentator_snomed_mapping.csv")
        maps = class_maps(z.read("totalsegmentator/map_to_binary.py").decode("utf-8"))
    (DATA / "totalsegmentator_snomed_mapping.csv").write_bytes(csv)
    out = {
        "source": f"totalsegmentator {version}, totalsegmentator/map_to_binary.py class_map (Apache 2.0)",
        "version": version,
        "tasks": {t: {str(k): v for k, v in sorted(maps[t].items())} for t in TASKS},
    }
    (DATA / "totalsegmentator_classes.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    for name in SLICER_FILES:
        shutil.copyfile(Path(slicer_dir) / name, DATA / name)
    print(f"wrote {DATA}: totalsegmentator {version}, tasks {TASKS}, {len(SLICER_FILES)} Slicer contexts")


if __name__ == "__main__":
    main(*sys.argv[1:3])
