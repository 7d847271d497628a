"""Make the extension icon (DicomAIExtension.png, 128x128), the module icons and the README
screenshot (docs/screenshot.png) with our own offscreen rendering (dicomai_slicer.render_view).

The pictures show what the extension does: a CT with an AI segmentation and a measurement, the
segmentation having gone through a DICOM SEG file and back, the line through a DICOM SR::

    .venv/bin/python scripts/make_images.py            # writes the PNGs in place
    .venv/bin/python scripts/make_images.py --out /tmp  # somewhere else

Needs slicer-core, the EGL libraries (make sysdeps) and pillow (a highdicom dependency).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "DicomAIExport"))

SHAPE, SPACING = (60, 192, 192), (3.0, 1.6, 1.6)


def build_scene(work: Path):
    """Phantom CT -> AI segmentation -> DICOM SEG + SR -> loaded back: the nodes to render."""
    import numpy as np

    import dicomai_samples as samples
    import dicomai_slicer
    from dicomai_samples.nodes import make_ai_segmentation, phantom_codes
    from dicomai_slicer.exporting import export_nodes

    scene = dicomai_slicer.create_scene()
    grid = samples.make_grid(SHAPE, SPACING, orientation="axial")
    ct, labels, _ = samples.phantom(SHAPE)
    samples.write_series(work / "ct", ct, grid, series_description="Phantom abdomen CT", uid_seed="images")
    volume = dicomai_slicer.load_dicom_series(work / "ct")
    segmentation = make_ai_segmentation(scene, volume, labels, phantom_codes())
    # a diameter across the largest segment, on the slice with most of it
    k = int(np.argmax((labels == 1).sum(axis=(1, 2))))
    rows, cols = np.nonzero(labels[k] == 1)
    left, right = (k, rows[cols.argmin()], cols.min()), (k, rows[cols.argmax()], cols.max())
    line = scene.AddNewNodeByClass("vtkMRMLMarkupsLineNode", "Liver width")
    for point in (left, right):
        lps = grid.index_to_world([point])[0]
        line.AddControlPoint([-lps[0], -lps[1], lps[2]])
    export_nodes(volume, work / "out", segmentation=segmentation, markups=[line], algorithm_name="PhantomNet")
    dicomai_slicer.scene.close_scene(scene)
    scene = dicomai_slicer.create_scene()
    nodes = dicomai_slicer.load_dicom_objects([work / "ct", *sorted((work / "out").glob("*.dcm"))])
    volume = next(n for n in nodes if n.IsA("vtkMRMLScalarVolumeNode"))
    segmentation = next(n for n in nodes if n.IsA("vtkMRMLSegmentationNode"))
    display = volume.GetScalarVolumeDisplayNode()
    display.SetAutoWindowLevel(False)
    display.SetWindowLevel(400, 40)
    for node in nodes:
        if node.IsA("vtkMRMLMarkupsNode"):
            node.GetDisplayNode().SetSelectedColor(1.0, 0.85, 0.1)
            node.GetDisplayNode().SetPropertiesLabelVisibility(False)
    return scene, volume, segmentation, [n for n in nodes if n.IsA("vtkMRMLMarkupsNode")], k, grid


def _font(size):
    from PIL import ImageFont

    for name in ("DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default()


def make_icon(render_png: Path, out: Path) -> None:
    """The axial render cropped to the abdomen, 128x128, with a "DICOM" band at the bottom."""
    from PIL import Image, ImageDraw

    image = Image.open(render_png).convert("RGB")
    w, h = image.size
    box = (int(w * 0.14), int(h * 0.17), int(w * 0.86), int(h * 0.89))
    icon = image.crop(box).resize((128, 128), Image.LANCZOS)
    draw = ImageDraw.Draw(icon, "RGBA")
    draw.rounded_rectangle((4, 96, 123, 123), radius=6, fill=(20, 70, 160, 235))
    font = _font(19)
    text = "DICOM"
    width = draw.textlength(text, font=font)
    draw.text(((128 - width) / 2, 98), text, font=font, fill=(255, 255, 255, 255))
    out.parent.mkdir(parents=True, exist_ok=True)
    icon.save(out, optimize=True)


def make_screenshot(pngs, out: Path, caption: str) -> None:
    """The views side by side with a caption line."""
    from PIL import Image, ImageDraw

    images = [Image.open(p).convert("RGB") for p in pngs]
    w, h = images[0].size
    band = 44
    canvas = Image.new("RGB", (w * len(images) + 8 * (len(images) - 1), h + band), (24, 24, 24))
    for i, image in enumerate(images):
        canvas.paste(image, (i * (w + 8), band))
    draw = ImageDraw.Draw(canvas)
    draw.text((12, 10), caption, font=_font(20), fill=(235, 235, 235))
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out, optimize=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT, help="repository root to write into")
    args = parser.parse_args(argv)
    from dicomai_slicer import render_view

    with tempfile.TemporaryDirectory(prefix="dicomai-images-") as tmp:
        work = Path(tmp)
        scene, volume, segmentation, _markups, k, grid = build_scene(work)
        center = grid.index_to_world([[k, SHAPE[1] / 2, SHAPE[2] / 2]])[0] * [-1, -1, 1]
        axial = render_view(work / "axial.png", "Red", volume, segmentation, size=(600, 600), center=center)
        coronal = render_view(
            work / "coronal.png", "Green", volume, segmentation, size=(600, 600), center=center
        )
        make_icon(axial, args.out / "DicomAIExtension.png")
        for module in ("DicomAIExport", "DicomAIImport"):
            make_icon(axial, args.out / module / "Resources" / "Icons" / f"{module}.png")
        make_screenshot(
            [axial, coronal],
            args.out / "docs" / "screenshot.png",
            "AI segmentation and a measurement, saved as DICOM SEG + SR and loaded back (offscreen render)",
        )
    print(
        f"wrote {args.out / 'DicomAIExtension.png'}, module icons and {args.out / 'docs' / 'screenshot.png'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
