"""Render CT/MR slices with a SEG's segments and an SR's planar markups burned in (numpy + Pillow).

For archives and viewers that cannot display SEG or SR: each rendered slice becomes one
Secondary Capture picture with a legend (segment names and colours from the SEG) and an
optional caption such as "NOT FOR DIAGNOSTIC USE".

Planes are the source grid's index planes: ``axial`` fixes the slice index (the acquired
plane), ``coronal`` the row index and ``sagittal`` the column index (named for an axial
acquisition). Pixels are resampled to square display pixels; superior is at the top of
coronal and sagittal views.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import InputError
from .encode import Picture

__all__ = ["PLANES", "RenderOptions", "choose_slices", "load_volume", "render_slices"]

#: plane name -> the (k, r, c) index axis it fixes
PLANES = {"axial": 0, "coronal": 1, "sagittal": 2}
MARKUP_COLOR = (255, 255, 0)
_PALETTE = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180)]


@dataclass
class RenderOptions:
    """How slices are drawn.

    Attributes
    ----------
    plane:
        ``"axial"``, ``"coronal"`` or ``"sagittal"``.
    style:
        ``"outline"`` (segment borders) or ``"fill"`` (filled at ``opacity``, with borders).
    opacity:
        0..1, for ``fill``.
    window:
        ``(center, width)`` of the grey window; default CT 40/400, otherwise the 0.5-99.5
        percentiles of the volume.
    caption:
        Text under the legend (for example "NOT FOR DIAGNOSTIC USE"), or ``None``.
    min_size:
        The longer side of the image part is at least this many pixels (upsampled).
    """

    plane: str = "axial"
    style: str = "outline"
    opacity: float = 0.4
    window: Optional[Tuple[float, float]] = None
    caption: Optional[str] = None
    min_size: int = 512

    def __post_init__(self) -> None:
        if self.plane not in PLANES:
            raise InputError(f"--plane {self.plane!r}: choose one of {', '.join(PLANES)}")
        if self.style not in ("outline", "fill"):
            raise InputError(f"--style {self.style!r}: choose outline or fill")
        if not 0.0 <= float(self.opacity) <= 1.0:
            raise InputError(f"--opacity {self.opacity}: give a value from 0 to 1")
        if self.window is not None and float(self.window[1]) <= 0:
            raise InputError(f"--window {self.window[0]},{self.window[1]}: the width must be positive")


def load_volume(source) -> np.ndarray:
    """The source series' modality values (rescale applied), ``(slices, rows, columns)`` float32."""
    import pydicom

    slices = []
    for f in source.files:
        ds = pydicom.dcmread(str(f))
        try:
            px = ds.pixel_array.astype(np.float32)
        except Exception as e:  # a codec that is not installed, a truncated file...
            raise InputError(f"cannot read the pixels of {f}: {e}") from None
        if px.ndim != 2:
            raise InputError(f"{f} is not a single-frame grey image: cannot render it")
        slope = float(ds.get("RescaleSlope", 1) or 1)
        intercept = float(ds.get("RescaleIntercept", 0) or 0)
        slices.append(px * slope + intercept)
    return np.stack(slices)


def _letters(vector) -> str:
    """Patient orientation letters of an LPS direction (dominant first, up to three)."""
    names = (("L", "R"), ("P", "A"), ("H", "F"))
    v = np.asarray(vector, dtype=float)
    out = ""
    for axis in np.argsort(-np.abs(v)):
        if abs(v[axis]) > 1e-3:
            out += names[axis][0] if v[axis] > 0 else names[axis][1]
    return out[:3]


@dataclass
class _View:
    axis: int
    rows_axis: int
    cols_axis: int
    flip: bool  # display rows run against the index (superior at the top)
    shape: Tuple[int, int]  # display size (rows, columns) of the image part
    scale: Tuple[float, float]  # display pixels per voxel along rows / columns
    n_rows: int

    def to_display(self, idx: np.ndarray) -> np.ndarray:
        """``(n, 3)`` continuous (k, r, c) -> ``(n, 2)`` display (x, y)."""
        r = idx[:, self.rows_axis]
        if self.flip:
            r = self.n_rows - 1 - r
        y = (r + 0.5) * self.scale[0] - 0.5
        x = (idx[:, self.cols_axis] + 0.5) * self.scale[1] - 0.5
        return np.stack([x, y], axis=1)


def _view(grid, plane: str, min_size: int) -> Tuple[_View, tuple]:
    axis = PLANES[plane]
    rows_axis, cols_axis = {0: (1, 2), 1: (0, 2), 2: (0, 1)}[axis]
    directions = {0: grid.slice_direction, 1: grid.row_direction, 2: grid.col_direction}
    flip = axis != 0 and float(directions[0][2]) > 0  # the slice axis points to the head
    spacing = grid.spacing
    n_rows, n_cols = grid.shape[rows_axis], grid.shape[cols_axis]
    mm = min(spacing[rows_axis], spacing[cols_axis])
    height_mm, width_mm = n_rows * spacing[rows_axis], n_cols * spacing[cols_axis]
    mm = min(mm, max(height_mm, width_mm) / float(min_size))  # upsample small images
    shape = (max(1, int(round(height_mm / mm))), max(1, int(round(width_mm / mm))))
    view = _View(axis, rows_axis, cols_axis, flip, shape, (shape[0] / n_rows, shape[1] / n_cols), n_rows)
    down = -directions[rows_axis] if flip else directions[rows_axis]
    orientation = (_letters(directions[cols_axis]), _letters(down))
    return view, orientation


def _take(volume: np.ndarray, view: _View, index: int) -> np.ndarray:
    plane = np.take(volume, index, axis=view.axis)  # remaining axes keep their order (rows, cols)
    return plane[::-1] if view.flip else plane


def _resize(plane: np.ndarray, shape, nearest: bool) -> np.ndarray:
    from PIL import Image

    mode_array = plane.astype(np.uint8) if nearest else plane.astype(np.float32)
    im = Image.fromarray(mode_array)
    im = im.resize((shape[1], shape[0]), Image.NEAREST if nearest else Image.BILINEAR)
    return np.asarray(im)


def _erode(mask: np.ndarray) -> np.ndarray:
    out = mask.copy()
    out[1:] &= mask[:-1]
    out[:-1] &= mask[1:]
    out[:, 1:] &= mask[:, :-1]
    out[:, :-1] &= mask[:, 1:]
    out[0, :] = out[-1, :] = False
    out[:, 0] = out[:, -1] = False
    return out


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def _window(volume: np.ndarray, modality: str, window) -> Tuple[float, float]:
    if window is not None:
        return float(window[0]), float(window[1])
    if modality == "CT":
        return 40.0, 400.0
    lo, hi = np.percentile(volume, [0.5, 99.5])
    return float((lo + hi) / 2), float(max(hi - lo, 1e-3))


def _markup_indices(markup, grid) -> np.ndarray:
    pts = markup.points if markup.points is not None and len(markup.points) else None
    if markup.kind in ("roi", "plane") and markup.center is not None:
        corners = _box_corners(markup)
        pts = corners if corners is not None else np.asarray([markup.center])
    if pts is None:
        return np.zeros((0, 3))
    return grid.world_to_index(np.asarray(pts, dtype=float).reshape(-1, 3))


def _box_corners(markup) -> Optional[np.ndarray]:
    if markup.size is None or markup.orientation is None:
        return None
    axes = np.asarray(markup.orientation, dtype=float)
    size = list(np.asarray(markup.size, dtype=float).ravel())
    half = [s / 2.0 for s in size] + [0.0] * (3 - len(size))
    corners = []
    for sx in (-1, 1):
        for sy in (-1, 1):
            for sz in (-1, 1) if markup.kind == "roi" else (0,):
                corners.append(
                    np.asarray(markup.center, dtype=float)
                    + sx * half[0] * axes[:, 0]
                    + sy * half[1] * axes[:, 1]
                    + sz * half[2] * axes[:, 2]
                )
    return np.asarray(corners)


def choose_slices(content, markups, grid, plane: str, which: str) -> List[int]:
    """Slice indices (0-based) along the plane's axis: ``auto``, ``all`` or ``N,M,...`` (1-based)."""
    axis = PLANES[plane]
    n = grid.shape[axis]
    if which == "all":
        return list(range(n))
    if which != "auto":
        try:
            numbers = [int(v) for v in which.split(",") if v.strip()]
        except ValueError:
            raise InputError(f"--slices {which!r}: give auto, all or slice numbers such as 3,7") from None
        bad = [v for v in numbers if not 1 <= v <= n]
        if bad or not numbers:
            raise InputError(f"--slices {which!r}: the {plane} plane has slices 1..{n}")
        return sorted(set(v - 1 for v in numbers))
    chosen = set()
    if content is not None:
        other = tuple(a for a in range(3) if a != axis)
        for s in content.segments:
            counts = content.mask(s.number).sum(axis=other)
            if counts.any():
                chosen.add(int(np.argmax(counts)))
    for m in markups:
        idx = _markup_indices(m, grid)
        if len(idx):
            chosen.add(int(np.clip(np.round(idx[:, axis].mean()), 0, n - 1)))
    if not chosen:
        chosen.add(n // 2)
    return sorted(chosen)


def render_slices(
    source,
    volume: np.ndarray,
    content=None,
    markups: Sequence = (),
    slices: Sequence[int] = (),
    options: Optional[RenderOptions] = None,
) -> List[Picture]:
    """One RGB :class:`Picture` per slice index: grey image, segments, markups, legend, caption."""
    from PIL import Image, ImageDraw

    options = options or RenderOptions()
    grid = source.grid
    view, orientation = _view(grid, options.plane, options.min_size)
    center, width = _window(volume, source.modality, options.window)
    segments = list(content.segments) if content is not None else []
    colors: Dict[int, tuple] = {
        s.number: tuple(int(v) for v in (s.color or _PALETTE[i % len(_PALETTE)]))
        for i, s in enumerate(segments)
    }
    masks = {s.number: content.mask(s.number) for s in segments}
    font, small = _font(15), _font(13)
    pictures = []
    for index in slices:
        grey = _take(volume, view, index)
        grey = _resize(grey, view.shape, nearest=False)
        grey = np.clip((grey - (center - width / 2.0)) / width * 255.0, 0, 255).astype(np.uint8)
        rgb = np.repeat(grey[:, :, None], 3, axis=2).astype(np.float32)
        shown = []
        for s in segments:
            m = _resize(_take(masks[s.number], view, index).astype(np.uint8), view.shape, nearest=True) > 0
            if not m.any():
                continue
            shown.append(s)
            color = np.asarray(colors[s.number], dtype=np.float32)
            if options.style == "fill":
                rgb[m] = rgb[m] * (1 - options.opacity) + color * options.opacity
            border = m & ~_erode(_erode(m))
            rgb[border] = color
        image = Image.fromarray(rgb.astype(np.uint8), "RGB")
        draw = ImageDraw.Draw(image)
        drawn = []
        for mk in markups:
            if _draw_markup(draw, mk, grid, view, index, small):
                drawn.append(mk)
        n = grid.shape[view.axis]
        draw.text((6, 4), f"{options.plane} {index + 1}/{n}", fill=(255, 255, 255), font=small)
        picture = _with_legend(image, shown, colors, drawn, options.caption, font)
        src = _source_indices(view, index, grid)
        what = ", ".join(s.label for s in shown) or "no segment"
        pictures.append(
            Picture(
                pixels=np.asarray(picture, dtype=np.uint8),
                name=f"{options.plane} slice {index + 1}",
                orientation=orientation,
                source_indices=src,
                description=(
                    f"{options.plane} slice {index + 1}/{n} of series {source.series_instance_uid} "
                    f"with {what}" + (f" and {len(drawn)} markup(s)" if drawn else "") + " burned in"
                ),
            )
        )
    return pictures


def _source_indices(view: _View, index: int, grid) -> List[int]:
    return [index] if view.axis == 0 else list(range(grid.shape[0]))


def _draw_markup(draw, markup, grid, view: _View, index: int, font) -> bool:
    """Draw the markup when it lies on this slice (every point within half a voxel of it)."""
    idx = _markup_indices(markup, grid)
    if not len(idx):
        return False
    along = idx[:, view.axis]
    if markup.kind in ("roi", "plane"):
        if not (along.min() - 0.5 <= index <= along.max() + 0.5):
            return False
    elif np.abs(along - index).max() > 0.5 + 1e-6:  # every point in this slice's slab
        return False
    xy = [tuple(float(v) for v in p) for p in view.to_display(idx)]
    if markup.kind == "points":
        for p in xy:
            draw.ellipse([p[0] - 5, p[1] - 5, p[0] + 5, p[1] + 5], outline=MARKUP_COLOR, width=2)
    elif markup.kind in ("line", "curve", "angle"):
        draw.line(xy, fill=MARKUP_COLOR, width=2)
    elif markup.kind == "closed_curve":
        draw.line(xy + [xy[0]], fill=MARKUP_COLOR, width=2)
    else:  # roi, plane: the box's extent in this view
        arr = np.asarray(xy)
        draw.rectangle(
            [arr[:, 0].min(), arr[:, 1].min(), arr[:, 0].max(), arr[:, 1].max()],
            outline=MARKUP_COLOR,
            width=2,
        )
    text = markup.name
    length = markup.measurements.get("length") if markup.measurements else None
    if length:
        text += f" {float(length[0]):.1f} {length[1]}"
    elif markup.kind == "line" and markup.points is not None and len(markup.points) == 2:
        ends = np.asarray(markup.points, dtype=float)
        text += f" {float(np.linalg.norm(ends[1] - ends[0])):.1f} mm"  # LPS millimetres
    x, y = xy[0]
    draw.text((x + 7, y - 18), text, fill=MARKUP_COLOR, font=font)
    return True


def _with_legend(image, segments, colors, markups, caption, font):
    """The image with a legend panel below: one line per segment (colour, name), markups, caption."""
    from PIL import Image, ImageDraw

    line = 20
    entries = [(colors[s.number], s.label) for s in segments]
    if markups:
        entries.append((MARKUP_COLOR, "markups: " + ", ".join(m.name for m in markups)))
    n_lines = len(entries) + (1 if caption else 0)
    if n_lines == 0:
        return image
    panel_h = 8 + line * n_lines
    out = Image.new("RGB", (image.width, image.height + panel_h), (0, 0, 0))
    out.paste(image, (0, 0))
    draw = ImageDraw.Draw(out)
    y = image.height + 4
    for color, label in entries:
        draw.rectangle([8, y + 3, 22, y + 15], fill=tuple(color), outline=(255, 255, 255))
        draw.text((30, y), label, fill=(255, 255, 255), font=font)
        y += line
    if caption:
        draw.text((8, y), caption, fill=(255, 80, 80), font=font)
    return out
