"""DICOM RLE Lossless (PS3.5 Annex G) for one frame, vectorized with numpy.

pydicom's own RLE encoder loops in Python over every run and takes ~3 ms for a 512 x 512 label
map frame; this one builds the PackBits stream with array operations (~0.3 ms). Decoding goes
through pydicom (its decoder is fast enough: ~0.3 ms a frame).

Each byte plane of the frame is one RLE segment (most significant byte first); every row is
encoded on its own (runs never cross a row boundary), runs of 2 or more equal bytes become
replicate packets, the rest literal packets; segments are padded to an even length.
"""

from __future__ import annotations

import struct

import numpy as np

__all__ = ["encode_frame"]

_MAX_RUN = 128


def _encode_plane(plane: np.ndarray) -> bytes:
    """PackBits stream of one (rows, columns) uint8 byte plane, row by row."""
    rows, cols = plane.shape
    flat = np.ascontiguousarray(plane).reshape(-1)
    n = flat.size
    # runs of equal bytes that never cross a row start
    change = np.empty(n, dtype=bool)
    change[0] = True
    np.not_equal(flat[1:], flat[:-1], out=change[1:])
    change[::cols] = True
    starts = np.flatnonzero(change)
    lengths = np.diff(np.append(starts, n))
    replicate = lengths >= 2
    row_start = (starts % cols) == 0
    # literal groups: consecutive single bytes of one row; a replicate run is a group of its own
    new_group = replicate | row_start
    new_group[1:] |= replicate[:-1]
    first = np.flatnonzero(new_group)
    g_start = starts[first]
    g_len = np.add.reduceat(lengths, first)
    g_rep = replicate[first]
    # packets: groups cut into pieces of at most 128 bytes
    n_packets = (g_len + _MAX_RUN - 1) // _MAX_RUN
    p_group = np.repeat(np.arange(first.size), n_packets)
    p_index = np.arange(p_group.size) - np.repeat(np.cumsum(n_packets) - n_packets, n_packets)
    p_src = g_start[p_group] + p_index * _MAX_RUN
    p_len = np.minimum(g_len[p_group] - p_index * _MAX_RUN, _MAX_RUN)
    p_rep = g_rep[p_group] & (p_len >= 2)  # a 1-byte tail of a replicate run is a 1-byte literal
    p_size = np.where(p_rep, 2, p_len + 1)
    p_out = np.cumsum(p_size) - p_size
    total = int(p_size.sum())
    out = np.empty(total + (total & 1), dtype=np.uint8)
    if total & 1:
        out[-1] = 0
    out[p_out] = np.where(p_rep, 257 - p_len, p_len - 1).astype(np.uint8)
    rep_pos = p_out[p_rep]
    out[rep_pos + 1] = flat[p_src[p_rep]]
    lit = ~p_rep
    l_len = p_len[lit]
    if l_len.size:
        offsets = np.arange(int(l_len.sum())) - np.repeat(np.cumsum(l_len) - l_len, l_len)
        out[np.repeat(p_out[lit] + 1, l_len) + offsets] = flat[np.repeat(p_src[lit], l_len) + offsets]
    return out.tobytes()


def encode_frame(frame: np.ndarray) -> bytes:
    """RLE Lossless encoding of one 2D uint8 or uint16 frame (one sample per pixel).

    Returns the frame's bytes for one fragment of encapsulated Pixel Data: the 64-byte RLE
    header (number of segments and their offsets) followed by the segments.
    """
    arr = np.asarray(frame)
    if arr.ndim != 2:
        raise ValueError(f"an RLE frame is 2D, got shape {arr.shape}")
    if arr.dtype == np.uint8:
        planes = [arr]
    elif arr.dtype == np.uint16:
        planes = [(arr >> 8).astype(np.uint8), (arr & 0xFF).astype(np.uint8)]
    else:
        raise ValueError(f"RLE frames here are uint8 or uint16, got {arr.dtype}")
    segments = [_encode_plane(p) for p in planes]
    offsets = []
    pos = 64
    for s in segments:
        offsets.append(pos)
        pos += len(s)
    header = struct.pack("<16L", len(segments), *offsets, *([0] * (15 - len(segments))))
    return header + b"".join(segments)
