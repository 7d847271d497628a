"""The fast SEG writer (dicomai.seg.fast) writes what highdicom writes.

On the same input, its output and highdicom's Segmentation constructor's output are compared
element by element, nested sequences included. The only differences allowed are:

- new UIDs: SOPInstanceUID (and MediaStorageSOPInstanceUID), SeriesInstanceUID,
  DimensionOrganizationUID;
- creation date and time: InstanceCreationDate/Time, ContentDate/Time;
- the software that wrote the file (fast.DIFFERENCES_FROM_HIGHDICOM): ImplementationClassUID,
  ImplementationVersionName (and so FileMetaInformationGroupLength), and the last
  ContributingEquipmentSequence item (Manufacturer, ManufacturerModelName, SoftwareVersions,
  ContributionDateTime);
- with highdicom older than 0.28, what that version writes differently (HIGHDICOM_0_27 below).

Pixel data is compared as decoded frames (and as bytes where the encoding is deterministic).
Both outputs are then judged by dciodvfy, highdicom and dcmqi.

The fast path does not import highdicom: dicomai.seg._dataset builds its pieces with pydicom, and
each one is compared here with the highdicom class it stands for; fresh CLI processes check that
export-seg and import-seg load no highdicom module.
"""

from __future__ import annotations

import os

import highdicom as hd
import numpy as np
import pydicom
import pytest
from series_cases import KINDS, overlapping_masks, write_case

import dicomai_samples as samples
import peers
from dicomai.destinations import FileDestination
from dicomai.errors import InputError
from dicomai.seg import fast
from dicomai.seg._rle import encode_frame as rle_encode
from dicomai.seg.content import SegmentationContent, SegmentInfo
from dicomai.seg.decode import read_seg
from dicomai.seg.encode import write_seg
from dicomai.seg.metadata import load_metadata, segments_for_labels
from dicomai.seg.options import SegOptions
from dicomai.source import read_source_series
from dicomai_samples import dcmqi_metadata, labelmaps, phantom_segments

HD_VERSION = tuple(int(v) for v in hd.__version__.split(".")[:2])

ALWAYS_DIFFERENT = {
    "SOPInstanceUID",
    "MediaStorageSOPInstanceUID",
    "SeriesInstanceUID",
    "DimensionOrganizationUID",
    "InstanceCreationDate",
    "InstanceCreationTime",
    "ContentDate",
    "ContentTime",
    "ImplementationClassUID",
    "ImplementationVersionName",
    "FileMetaInformationGroupLength",
}
WRITER_ITEM = {"Manufacturer", "ManufacturerModelName", "SoftwareVersions", "ContributionDateTime"}
# highdicom 0.27 (Slicer 5.12's) writes these differently from 0.28, whose output the fast path follows
HIGHDICOM_0_27 = {
    "SpecificCharacterSet",  # 0.28 copies it from the source
    "PresentationLUTShape",  # 0.28 adds IDENTITY
    "ContentCreatorName",  # 0.27 writes it empty
    "DimensionDescriptionLabel",  # 'Segment Number' in 0.27
    "SegmentationAlgorithmIdentificationSequence",  # 0.27 keeps it on the LABELMAP background
    "SegmentIdentificationSequence",  # one segment: per frame in 0.27, shared in 0.28
}


def _differences(a, b, path=""):
    out = []
    tags = sorted(set(a.keys()) | set(b.keys()))
    for tag in tags:
        ea, eb = a.get(tag), b.get(tag)
        kw = (ea if ea is not None else eb).keyword or str(tag)
        where = f"{path}.{kw}"
        if kw in ("PixelData", "PerFrameFunctionalGroupsSequence") and not path:
            continue  # compared separately
        if ea is None or eb is None:
            out.append((kw, where, "only in " + ("highdicom" if ea is None else "fast")))
            continue
        if ea.VR == "SQ":
            if len(ea.value) != len(eb.value):
                out.append((kw, where, f"{len(ea.value)} vs {len(eb.value)} items"))
                continue
            for i, (x, y) in enumerate(zip(ea.value, eb.value)):
                out += _differences(x, y, f"{where}[{i}]")
        elif ea.VR != eb.VR or ea.value != eb.value:
            out.append((kw, where, f"{ea.VR} {ea.value!r} vs {eb.VR} {eb.value!r}"))
    return out


def _allowed(kw: str, where: str, n_equipment: int) -> bool:
    if kw in ALWAYS_DIFFERENT:
        return True
    if where.startswith(f".ContributingEquipmentSequence[{n_equipment - 1}].") and kw in WRITER_ITEM:
        return True
    return HD_VERSION < (0, 28) and kw in HIGHDICOM_0_27


def assert_same_as_highdicom(fast_path, hd_path):
    a, b = pydicom.dcmread(fast_path), pydicom.dcmread(hd_path)
    n_equipment = len(a.get("ContributingEquipmentSequence", []))
    diffs = _differences(a.file_meta, b.file_meta, "meta") + _differences(a, b)
    unexpected = [d for d in diffs if not _allowed(d[0], d[1], n_equipment)]
    assert unexpected == [], "\n".join(f"{w}: {m}" for _, w, m in unexpected)
    # per-frame functional groups, item by item
    pa, pb = a.PerFrameFunctionalGroupsSequence, b.PerFrameFunctionalGroupsSequence
    assert len(pa) == len(pb) == int(a.NumberOfFrames) == int(b.NumberOfFrames)
    for i, (x, y) in enumerate(zip(pa, pb)):
        d = [d for d in _differences(x, y, f".PerFrame[{i}]") if not _allowed(d[0], d[1], n_equipment)]
        assert d == [], d
    # pixel data: decoded frames are equal
    fa, fb = a.pixel_array, b.pixel_array
    assert fa.shape == fb.shape and np.array_equal(fa, fb)
    ts = str(a.file_meta.TransferSyntaxUID)
    if ts in (fast.EXPLICIT_VR_LE, fast.JPEG_LS_LOSSLESS, fast.JPEG_2000_LOSSLESS):
        # same encoder: same bytes (native: up to the padding byte highdicom writes as b"0")
        if ts == fast.EXPLICIT_VR_LE:
            bits = int(a.BitsAllocated)
            n = int(a.NumberOfFrames) * int(a.Rows) * int(a.Columns)
            length = (n + 7) // 8 if bits == 1 else n * bits // 8
            assert a.PixelData[:length] == b.PixelData[:length]
        else:
            assert a.PixelData == b.PixelData
    return a


# ------------------------------------------------------------------------------------ inputs
@pytest.fixture(scope="module", params=sorted(KINDS))
def case(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"fast-{request.param}")
    info, labels = write_case(folder / "src", request.param)
    return request.param, read_source_series(info.folder), labels, folder


def _labelmap_content(labels, source, keep=(1, 2, 3, 4, 5)):
    lab = np.where(np.isin(labels, keep), labels, 0).astype(np.uint8)
    meta = load_metadata(dcmqi_metadata([s for s in phantom_segments() if s["labelID"] in keep]))
    segs = segments_for_labels(sorted(keep), meta, [])
    return SegmentationContent.from_labelmap(lab, source.grid, segs)


def _fractional_content(labels, source):
    content = _labelmap_content(labels, source, keep=(1, 2))
    rng = np.random.default_rng(1)
    content.fractions = {
        s.number: np.where(labels == s.label_value, rng.uniform(0.0, 1.0, labels.shape), 0.0).astype(
            np.float32
        )
        for s in content.segments
    }
    # a plane holding only values that quantize to 0: kept as a plane, no frame (as highdicom does)
    content.fractions[1][0, 3, 3] = 0.001
    content.layers = []
    return content


def _overlap_content(labels, source):
    masks = overlapping_masks(labels)
    segs = [SegmentInfo(number=i + 1, label=n) for i, n in enumerate(["liver", "lesion", "box"])]
    return SegmentationContent.from_masks(masks, source.grid, segs)


def _write_both(make_content, source, folder, name, **kwargs):
    paths = []
    for engine in ("fast", "highdicom"):
        out = folder / f"{name}-{engine}.dcm"
        result = write_seg(
            make_content(), source, FileDestination(out, overwrite=True), SegOptions(engine=engine, **kwargs)
        )
        assert result.engine == engine
        paths.append(out)
    return paths


VARIANTS = {
    "binary-5": (lambda lab, src: _labelmap_content(lab, src), {"segmentation_type": "BINARY"}),
    "binary-1": (lambda lab, src: _labelmap_content(lab, src, keep=(1,)), {"segmentation_type": "BINARY"}),
    "binary-overlap": (_overlap_content, {"segmentation_type": "BINARY"}),
    "labelmap": (
        lambda lab, src: _labelmap_content(lab, src),
        {"segmentation_type": "LABELMAP", "compression": "none"},
    ),
    "labelmap-sparse-values": (
        lambda lab, src: _labelmap_content(lab, src, keep=(2, 5)),
        {"segmentation_type": "LABELMAP", "compression": "none"},
    ),
    "fractional": (_fractional_content, {"segmentation_type": "FRACTIONAL", "max_fractional_value": 200}),
    "fractional-occupancy-from-binary": (
        lambda lab, src: _labelmap_content(lab, src, keep=(1, 3)),
        {"segmentation_type": "FRACTIONAL", "fractional_type": "OCCUPANCY"},
    ),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_fast_path_writes_what_highdicom_writes(case, variant):
    kind, source, labels, folder = case
    make, kwargs = VARIANTS[variant]
    fast_path, hd_path = _write_both(lambda: make(labels, source), source, folder, variant, **kwargs)
    assert_same_as_highdicom(fast_path, hd_path)


COMPRESSED = [
    ("BINARY", "jpeg2000"),
    ("LABELMAP", "jpeg-ls"),
    ("LABELMAP", "jpeg2000"),
    ("LABELMAP", "rle"),
    ("LABELMAP", "deflate"),
    ("BINARY", "deflate"),
    ("FRACTIONAL", "rle"),
    ("FRACTIONAL", "jpeg-ls"),
]


@pytest.mark.parametrize("seg_type,compression", COMPRESSED, ids=[f"{t}-{c}" for t, c in COMPRESSED])
def test_fast_path_compressed_output_matches_highdicom(tmp_path, seg_type, compression):
    info, labels = write_case(tmp_path / "src", "oblique")
    source = read_source_series(info.folder)

    def make():
        if seg_type == "FRACTIONAL":
            return _fractional_content(labels, source)
        return _labelmap_content(labels, source)

    fast_path, hd_path = _write_both(
        make, source, tmp_path, "c", segmentation_type=seg_type, compression=compression
    )
    assert_same_as_highdicom(fast_path, hd_path)


def test_fast_path_handles_frames_that_are_not_byte_aligned(tmp_path):
    # 19 x 21 pixels: 399 bits a frame, so frames share bytes in 1-bit Pixel Data
    grid = samples.make_grid(shape=(6, 19, 21), spacing=(2.0, 1.0, 1.0), orientation="oblique")
    info = samples.write_series(tmp_path / "src", np.zeros(grid.shape, np.int16), grid)
    source = read_source_series(info.folder)
    labels = np.zeros(grid.shape, np.uint8)
    labels[1:4, 2:9, 3:12] = 1
    labels[2:6, 10:18, 5:20] = 2
    labels[0, 0, 0] = 3
    segs = [SegmentInfo(number=i, label=f"s{i}", color=(40 * i, 100, 200)) for i in (1, 2, 3)]
    fast_path, hd_path = _write_both(
        lambda: SegmentationContent.from_labelmap(labels, grid, [SegmentInfo(**vars(s)) for s in segs]),
        source,
        tmp_path,
        "odd",
    )
    assert_same_as_highdicom(fast_path, hd_path)
    back = read_seg(fast_path, source)
    for s in segs:
        assert np.array_equal(back.mask(s.number), labels == s.number)


def test_source_patient_and_study_attributes_are_copied_like_highdicom(tmp_path):
    grid = samples.make_grid(shape=(4, 32, 32))
    extra = {
        "PatientAge": "061Y",
        "PatientComments": "synthetic",
        "OtherPatientNames": "Other^Name",
        "ClinicalTrialSponsorName": "Sponsor",
        "ClinicalTrialProtocolID": "P-1",
        "ClinicalTrialSubjectID": "S-7",
        "ClinicalTrialTimePointID": "T0",
        "AdmittingDiagnosesDescription": "none",
        "InstitutionName": "Hospital",
        "StationName": "CT1",
        "LossyImageCompression": "01",
        "LossyImageCompressionRatio": "10",
        "LossyImageCompressionMethod": "ISO_10918_1",
    }
    info = samples.write_series(tmp_path / "src", np.zeros(grid.shape, np.int16), grid, attributes=extra)
    source = read_source_series(info.folder)
    labels = np.zeros(grid.shape, np.uint8)
    labels[1:3, 5:20, 5:20] = 1
    fast_path, hd_path = _write_both(
        lambda: SegmentationContent.from_labelmap(labels, grid, [SegmentInfo(1, "lesion")]),
        source,
        tmp_path,
        "pt",
    )
    ds = assert_same_as_highdicom(fast_path, hd_path)
    assert ds.PatientAge == "061Y" and ds.ClinicalTrialProtocolID == "P-1"
    assert ds.LossyImageCompression == "01"


@pytest.mark.skipif(HD_VERSION < (0, 28), reason="highdicom's module tables moved in 0.28")
def test_copied_keyword_lists_are_highdicoms_module_tables():
    from highdicom._standard_utils import get_iod_module_map, get_module_attribute_map, get_sop_class_iod_map

    iods, modules = get_iod_module_map(), get_module_attribute_map()
    for sop in ("1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.128"):
        wanted = []
        for module in iods[get_sop_class_iod_map()[sop]]:
            if module["ie"] in ("Patient", "Study"):
                wanted += [str(a["keyword"]) for a in modules[module["key"]] if not a["path"]]
        assert list(fast.PATIENT_STUDY_KEYWORDS) == wanted
    assert list(fast.SPECIMEN_KEYWORDS) == [str(a["keyword"]) for a in modules["specimen"] if not a["path"]]


# ------------------------------------------------------------------------------------ judged by others
@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fast-judged")
    info, labels = write_case(folder / "src", "oblique")
    source = read_source_series(info.folder)
    out = {}
    for name, (make, kwargs) in sorted(VARIANTS.items()):
        path = folder / f"{name}.dcm"
        write_seg(make(labels, source), source, path, SegOptions(engine="fast", **kwargs))
        out[name] = path
    return source, labels, out


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_fast_path_output_has_zero_dciodvfy_errors(judged, variant):
    peers.require("dciodvfy")
    _, _, paths = judged
    result = peers.dciodvfy(paths[variant])
    assert result.errors == [], result.output


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_highdicom_reads_the_fast_path_output(judged, variant):
    source, labels, paths = judged
    seg = hd.seg.segread(str(paths[variant]))
    ours = read_seg(paths[variant], source)
    uids = source.sop_instance_uids
    numbers = [int(n) for n in seg.segment_numbers if n != 0]
    arr = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=uids, segment_numbers=numbers, combine_segments=False
    )
    for i, n in enumerate(numbers):
        if ours.fractions:
            expected = np.round(ours.fractions[n] * int(seg.MaximumFractionalValue))
            got = arr[..., i].astype(np.float64)
            if got.max() <= 1.0 and expected.max() > 1:
                got = np.round(got * int(seg.MaximumFractionalValue))
            assert np.array_equal(got, expected), f"segment {n}"
        else:
            assert np.array_equal(arr[..., i] > 0, ours.mask(n)), f"segment {n}"


@pytest.mark.parametrize("variant", ["binary-5", "binary-overlap", "labelmap", "fractional"])
def test_dcmqi_reads_the_fast_path_output(judged, variant, tmp_path):
    peers.require("segimage2itkimage")
    from dicomai.imageio import read_image

    source, _, paths = judged
    ours = read_seg(paths[variant], source)
    outputs = peers.segimage2itkimage(paths[variant], tmp_path)
    nrrds = [p for p in outputs if p.suffix == ".nrrd"]
    found = {}  # segment number -> (source indices, values)
    for nrrd in nrrds:
        array, grid = read_image(nrrd)
        idx = np.argwhere(array != 0)
        on_source = np.round(source.grid.world_to_index(grid.index_to_world(idx))).astype(int)
        values = array[tuple(idx.T)]
        if variant == "labelmap":  # one file, values are segment numbers
            for v in np.unique(values):
                found[int(v)] = (on_source[values == v], None)
        else:
            found[int(nrrd.stem)] = (on_source, values)
    for s in ours.segments:
        if ours.fractions:  # stored values, on the source grid
            expected = np.round(ours.fractions[s.number] * int(ours.max_fractional_value))
        else:
            expected = ours.mask(s.number).astype(float)
        got = np.zeros(expected.shape)
        where, values = found[s.number]
        got[tuple(where.T)] = 1.0 if values is None or not ours.fractions else values
        assert np.array_equal(got > 0, expected > 0), f"segment {s.number}"
        if ours.fractions:
            assert np.array_equal(got, expected), f"segment {s.number} values"


# ------------------------------------------------------------------------------------ coverage, failures
def test_projection_images_go_through_highdicom(tmp_path):
    from pydicom.uid import generate_uid

    path = tmp_path / "cr.dcm"
    ds = pydicom.Dataset()
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.1"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.PatientID, ds.PatientName, ds.PatientBirthDate, ds.PatientSex = "CR", "p", "P^Q", "", ""
    ds.AccessionNumber, ds.StudyID, ds.StudyDate, ds.StudyTime, ds.ReferringPhysicianName = (
        "",
        "1",
        "",
        "",
        "",
    )
    ds.Rows = ds.Columns = 16
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelSpacing = [1, 1]
    ds.PixelData = np.zeros((16, 16), np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)
    source = read_source_series(path)
    labels = np.zeros(source.grid.shape, np.uint8)
    labels[0, 4:9, 4:9] = 1
    content = SegmentationContent.from_labelmap(labels, source.grid, [SegmentInfo(1, "x")])
    with pytest.raises(InputError, match="fast SEG writer does not cover"):
        write_seg(content, source, tmp_path / "a.dcm", SegOptions(engine="fast"))
    result = write_seg(content, source, tmp_path / "b.dcm")
    assert result.engine == "highdicom"


def test_a_crash_while_writing_leaves_no_partial_file_with_either_engine(tmp_path, monkeypatch):
    info, labels = write_case(tmp_path / "src", "axial")
    source = read_source_series(info.folder)
    out_dir = tmp_path / "out"
    out_dir.mkdir()

    def content():
        return SegmentationContent.from_labelmap(
            (labels == 1).astype(np.uint8), source.grid, [SegmentInfo(1, "x")]
        )

    def boom_native(sink, *a, **k):
        sink.write(b"\0" * 100)
        raise OSError("disk full")

    monkeypatch.setattr(fast, "_write_native_pixels", boom_native)
    with pytest.raises(OSError, match="disk full"):
        write_seg(content(), source, out_dir / "o.dcm", SegOptions(engine="fast"))
    assert os.listdir(out_dir) == []

    def boom_save(self, *a, **k):
        with open(a[0], "wb") as f:
            f.write(b"\0" * 100)
        raise OSError("disk full")

    monkeypatch.setattr(hd.seg.Segmentation, "save_as", boom_save)
    with pytest.raises(OSError, match="disk full"):
        write_seg(content(), source, out_dir / "o.dcm", SegOptions(engine="highdicom"))
    assert os.listdir(out_dir) == []


# ------------------------------------------------------------------------------------ building blocks
def test_rle_encoder_round_trips_through_pydicoms_decoder():
    from pydicom.pixels.decoders.rle import _rle_decode_frame

    rng = np.random.default_rng(0)
    shapes = [(1, 1), (1, 2), (3, 5), (7, 129), (40, 36), (16, 300), (64, 64)]
    for shape in shapes:
        for arr in (
            rng.integers(0, 256, shape),
            rng.integers(0, 3, shape),
            np.zeros(shape),
            np.repeat(rng.integers(0, 2, (shape[0], 1)), shape[1], axis=1),
        ):
            for dtype in (np.uint8, np.uint16):
                a = arr.astype(dtype) * (257 if dtype == np.uint16 else 1)
                encoded = rle_encode(a)
                assert len(encoded) % 2 == 0
                decoded = _rle_decode_frame(encoded, shape[0], shape[1], 1, a.dtype.itemsize * 8)
                back = np.frombuffer(bytes(decoded), dtype="<u2" if dtype == np.uint16 else np.uint8)
                assert np.array_equal(back.reshape(shape), a), (shape, dtype)


def test_per_frame_bytes_are_what_pydicom_encodes(case):
    kind, source, labels, folder = case
    content = _labelmap_content(labels, source)
    inp = fast.FastSegInput(
        seg_type="BINARY",
        descriptions=[object()] * 5,
        layers=content.layers,
        where=[(0, v) for v in (1, 2, 3, 4, 5)],
    )
    plan = fast._Plan(inp, source)
    items = fast._FrameItems(plan, source)
    assert items._by_hand  # the hand-built pieces equal pydicom's for this source
    for k in sorted({f.k for f in plan.frames}):
        assert items._derivation_by_hand(k) == items._derivation_by_pydicom(k)
        assert items._position_by_hand(k) == items._position_by_pydicom(k)
    holder = pydicom.Dataset()
    item = pydicom.Dataset()
    item.DimensionIndexValues = [3, 17]
    holder.FrameContentSequence = [item]
    assert fast._frame_content_bytes([3, 17]) == fast._encode_elements(holder)


# ------------------------------------------------------------------------------------ without highdicom
# The fast path builds with pydicom alone (dicomai.seg._dataset) what highdicom's content classes
# build; each piece is compared with highdicom's here, as encoded bytes where it is a dataset.
def _encoded(keyword, value):
    holder = pydicom.Dataset()
    setattr(holder, keyword, value)
    return fast._encode_elements(holder)


def test_concepts_written_without_pydicom_sr_are_pydicoms():
    from pydicom.sr.codedict import codes

    from dicomai.coding import generic_category, generic_type
    from dicomai.seg import _dataset as dset

    assert tuple(dset.ARTIFICIAL_INTELLIGENCE) == tuple(codes.DCM.ArtificialIntelligence)
    assert tuple(dset.BACKGROUND) == tuple(codes.DCM.Background)
    assert tuple(dset.ACQUISITION_EQUIPMENT) == tuple(codes.DCM.AcquisitionEquipment)
    assert tuple(dset.PROCESSING_EQUIPMENT) == tuple(codes.DCM.ProcessingEquipment)
    assert tuple(dset.SOURCE_IMAGE_FOR_PROCESSING) == tuple(
        codes.cid7202.SourceImageForImageProcessingOperation
    )
    assert tuple(dset.SEGMENTATION_DERIVATION) == tuple(codes.cid7203.SegmentationImageDerivation)
    assert tuple(dset.TISSUE) == tuple(generic_category()) == tuple(generic_type())


CODES = [
    pydicom.sr.coding.Code("10200004", "SCT", "Liver"),
    pydicom.sr.coding.Code("1234567890123456", "99X", "sixteen characters"),
    pydicom.sr.coding.Code("12345678901234567", "99X", "seventeen: LongCodeValue"),
    pydicom.sr.coding.Code("urn:oid:1.2.840.10008.2.16.4", "99X", "a URN"),
    pydicom.sr.coding.Code("https://example.org/concepts/123456", "99X", "a URL"),
    pydicom.sr.coding.Code("T-62000", "SRT", "Liver", "1.1"),
    pydicom.sr.coding.Code("x", "L", "m" * 64),
]


def test_code_items_are_highdicoms_coded_concepts():
    from dicomai.coding import code_to_dataset
    from dicomai.seg._dataset import code_item

    for code in CODES:
        assert _encoded("ConceptNameCodeSequence", [code_item(code)]) == _encoded(
            "ConceptNameCodeSequence", [code_to_dataset(code)]
        ), code
    too_long = pydicom.sr.coding.Code("x", "L", "m" * 65)
    with pytest.raises(ValueError, match="maximally 64"):
        code_to_dataset(too_long)
    with pytest.raises(ValueError, match="maximally 64"):
        code_item(too_long)


def _project_colours():
    colours = {tuple(int(v) for v in s["recommendedDisplayRGBValue"]) for s in phantom_segments()}
    colours |= {labelmaps._palette(i) for i in range(0, 2000)}
    colours.add((221, 130, 101))  # metadata.py's example
    return sorted(colours)


def test_colour_conversion_to_cielab_matches_highdicom():
    """Every colour the project writes, every grey, 65,536 colours covering every (r, g) pair and
    every b value, and 100,000 random ones (the whole 256^3 cube was checked once: equal)."""
    from highdicom.color import CIELabColor

    from dicomai.seg._dataset import cielab_from_rgb

    rng = np.random.default_rng(7)
    colours = _project_colours() + [(v, v, v) for v in range(256)]
    colours += [(r, g, (r * 7 + g * 13) % 256) for r in range(256) for g in range(256)]
    colours += [tuple(int(v) for v in c) for c in rng.integers(0, 256, (100_000, 3))]
    colours += [(0.5, 254.5, 100.25), (0, 0, 0), (255, 255, 255)]
    for c in colours:
        assert cielab_from_rgb(*c) == CIELabColor.from_rgb(*c).value, c
    for bad in ((-1, 0, 0), (0, 256, 0)):
        with pytest.raises(ValueError, match="range 0 to 255"):
            cielab_from_rgb(*bad)
        with pytest.raises(ValueError, match="range 0 to 255"):
            CIELabColor.from_rgb(*bad)


def _segment_variants():
    code = pydicom.sr.coding.Code
    liver, kidney = code("10200004", "SCT", "Liver"), code("64033007", "SCT", "Kidney")
    left = code("7771000", "SCT", "Left")
    organ = code("123037004", "SCT", "Anatomical Structure")
    family = code("123109", "DCM", "Manual Processing")
    yield SegmentInfo(
        1, "liver", organ, liver, color=(221, 130, 101), algorithm_name="m", algorithm_version="1"
    )
    yield SegmentInfo(2, "", None, None)  # generic codes, unnamed algorithm, no colour
    yield SegmentInfo(
        3,
        "x" * 80,
        organ,
        kidney,
        type_modifiers=[left],
        anatomic_region=kidney,
        anatomic_region_modifiers=[left, code("66459002", "SCT", "Unilateral")],
        description="d" * 70,
        color=(0, 0, 0),
        algorithm_type="MANUAL",
    )
    yield SegmentInfo(
        4,
        "tracked",
        CODES[2],
        CODES[3],
        tracking_id="T1",
        tracking_uid="1.2.3.4",
        algorithm_type="SEMIAUTOMATIC",
        algorithm_family=family,
        color=(255, 255, 255),
    )
    yield SegmentInfo(
        5,
        "urls",
        CODES[4],
        CODES[5],
        anatomic_region=CODES[6],
        anatomic_region_modifiers=[left],
        type_modifiers=[CODES[1], CODES[2]],
    )
    yield SegmentInfo(6, "regions without modifiers", organ, liver, anatomic_region_modifiers=[left])


def _highdicom_segment_description(seg, number: int):
    """The item built by highdicom's own SegmentDescription constructor, as encode.py built it
    before it used dicomai.seg._dataset: the reference the fast path's items are compared with."""
    from dicomai.coding import code_to_dataset, generic_category, generic_type
    from dicomai.seg.encode import _algorithm_family

    algorithm_identification = None
    if seg.algorithm_type != "MANUAL":
        algorithm_identification = hd.AlgorithmIdentificationSequence(
            name=seg.algorithm_name or "unknown",
            family=code_to_dataset(_algorithm_family(seg)),
            version=seg.algorithm_version or "unknown",
        )
    category = seg.category if seg.category is not None else generic_category()
    typ = seg.type if seg.type is not None else generic_type()
    desc = hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=(seg.label or f"Segment {number}")[:64],
        segmented_property_category=code_to_dataset(category),
        segmented_property_type=code_to_dataset(typ),
        algorithm_type=seg.algorithm_type,
        algorithm_identification=algorithm_identification,
        tracking_uid=seg.tracking_uid,
        tracking_id=seg.tracking_id,
        anatomic_regions=[code_to_dataset(seg.anatomic_region)] if seg.anatomic_region is not None else None,
        display_color=(hd.color.CIELabColor.from_rgb(*seg.color) if seg.color is not None else None),
    )
    if seg.type_modifiers:
        # nested in the type item, as the standard (and dcmqi) have it
        desc.SegmentedPropertyTypeCodeSequence[0].SegmentedPropertyTypeModifierCodeSequence = [
            code_to_dataset(c) for c in seg.type_modifiers
        ]
    if seg.anatomic_region is not None and seg.anatomic_region_modifiers:
        desc.AnatomicRegionSequence[0].AnatomicRegionModifierSequence = [
            code_to_dataset(c) for c in seg.anatomic_region_modifiers
        ]
    if seg.description:
        desc.SegmentDescription = seg.description[:64]
    return desc


def test_segment_descriptions_are_highdicoms():
    from dicomai.seg import _dataset as dset
    from dicomai.seg.encode import segment_description

    for number, seg in enumerate(_segment_variants(), start=1):
        ours = dset.segment_description(seg, number)
        theirs = _highdicom_segment_description(seg, number)
        assert _encoded("SegmentSequence", [ours]) == _encoded("SegmentSequence", [theirs]), seg
        # what the highdicom engine gets: the same item, as highdicom's type
        handed = segment_description(seg, number)
        assert isinstance(handed, hd.seg.SegmentDescription)
        assert _encoded("SegmentSequence", [handed]) == _encoded("SegmentSequence", [theirs]), seg
    # the same refusals
    for kwargs, error in (
        ({"segment_number": 0}, ValueError),
        ({"segment_number": 65536}, ValueError),
        ({"algorithm_type": "AUTOMATIC"}, TypeError),  # no algorithm identification
        ({"tracking_id": "only the id"}, TypeError),
        ({"tracking_uid": "1.2.3"}, TypeError),
        ({"algorithm_type": "GUESSED"}, ValueError),
    ):
        args = {"segment_number": 1, "segment_label": "s", "algorithm_type": "MANUAL", **kwargs}
        cat = pydicom.sr.coding.Code("85756007", "SCT", "Tissue")
        with pytest.raises(error):
            hd.seg.SegmentDescription(segmented_property_category=cat, segmented_property_type=cat, **args)
        with pytest.raises(error):
            dset.segment_item(category=dset.code_item(cat), type_=dset.code_item(cat), **args)


def test_contributing_equipment_items_are_highdicoms():
    import datetime

    from pydicom.sr.codedict import codes

    from dicomai.seg import _dataset as dset

    full = {
        "manufacturer_model_name": "model",
        "software_versions": ["1.0", "2.0b"],
        "device_serial_number": "SN1",
        "institution_name": "Hospital",
        "institutional_department_name": "Radiology",
        "institution_address": "Street 1, Town",
        "station_name": "CT1",
        "contribution_description": "Acquisition equipment of the source image(s)",
    }
    variants = [
        ({}, {}),
        (full, {"contribution_datetime": datetime.datetime(2024, 5, 6, 7, 8, 9, 123456)}),
        ({"software_versions": "3.1"}, {"contribution_datetime": "20240506070809"}),
        (
            {"software_versions": pydicom.multival.MultiValue(str, ["a", "b"])},
            {"contribution_datetime": pydicom.valuerep.DT("20240506070809.5+0100")},
        ),  # fmt: skip
        ({"manufacturer_model_name": ""}, {"contribution_datetime": datetime.datetime(2024, 5, 6)}),
    ]
    for purpose, ours_purpose in (
        (codes.DCM.AcquisitionEquipment, dset.ACQUISITION_EQUIPMENT),
        (codes.DCM.ProcessingEquipment, dset.PROCESSING_EQUIPMENT),
    ):
        for kwargs, when in variants:
            theirs = hd.ContributingEquipment("Maker", purpose, **kwargs, **when)
            ours = dset.contributing_equipment("Maker", ours_purpose, **kwargs, **when)
            assert _encoded("ContributingEquipmentSequence", [ours]) == _encoded(
                "ContributingEquipmentSequence", [theirs]
            ), kwargs
    for kwargs in ({"manufacturer": "m" * 65}, {"manufacturer": "a\\b"}, {"station_name": "s" * 17},
                   {"software_versions": []}, {"institution_address": "a" * 1025}):  # fmt: skip
        args = {"manufacturer": "Maker", **kwargs}
        with pytest.raises(ValueError):
            hd.ContributingEquipment(purpose_of_reference=codes.DCM.ProcessingEquipment, **args)
        with pytest.raises(ValueError):
            dset.contributing_equipment(purpose_of_reference=dset.PROCESSING_EQUIPMENT, **args)


ORIENTATIONS = [
    [1, 0, 0, 0, 1, 0],
    [0, 1, 0, 0, 0, -1],
    [1, 0, 0, 0, 0, -1],
    [0.9238795, 0.3826834, 0, -0.2705981, 0.6532815, -0.7071068],
    [-1, 0, 0, 0, -1, 0],
    ["0.999999", "-0.00123", "1e-5", "0.0012300", "0.99999", "-0.00456"],
]


def test_geometry_items_are_highdicoms():
    from pydicom.valuerep import DSfloat

    from dicomai.seg import _dataset as dset

    rng = np.random.default_rng(3)
    values = [
        [0, 0, 0],
        [-125.0, 12.25, 40],
        [DSfloat("-249.51171875"), DSfloat("  1e-3"), DSfloat("12345678.9012345")],
        *(list(v) for v in rng.normal(0, 300, (50, 3))),
        *(list(v) for v in rng.uniform(-1, 1, (50, 3)) * 1e-7),
    ]
    for v in values:
        theirs = hd.PlanePositionSequence(coordinate_system="PATIENT", image_position=v)
        assert _encoded("PlanePositionSequence", dset.plane_position(v)) == _encoded(
            "PlanePositionSequence", theirs
        )
    for iop in ORIENTATIONS:
        theirs = hd.PlaneOrientationSequence(coordinate_system="PATIENT", image_orientation=iop)
        assert _encoded("PlaneOrientationSequence", dset.plane_orientation(iop)) == _encoded(
            "PlaneOrientationSequence", theirs
        )
    for spacing, thickness, between in (
        ([0.8, 0.8], 2.5, None),
        ([DSfloat("0.703125"), DSfloat("0.703125")], DSfloat("5.0"), DSfloat("4.99999")),
        ([1 / 3, 2 / 3], None, None),
        (["0.5", "0.25"], "1", 0.1 + 0.2),
    ):
        theirs = hd.PixelMeasuresSequence(spacing, thickness, between)
        assert _encoded(
            "PixelMeasuresSequence", dset.pixel_measures(spacing, thickness, between)
        ) == _encoded("PixelMeasuresSequence", theirs)


def test_plane_normal_and_volume_spacing_are_highdicoms():
    from highdicom.spatial import VOLUME_INDEX_CONVENTION, get_normal_vector, get_volume_positions

    from dicomai.seg import _dataset as dset

    rng = np.random.default_rng(5)
    for iop in ORIENTATIONS:
        iop_f = [float(v) for v in iop]
        expected = get_normal_vector(iop_f, index_convention=VOLUME_INDEX_CONVENTION)
        normal = dset.normal_vector(iop_f)
        assert normal.tobytes() == expected.tobytes()
        row, col = np.array(iop_f[:3]), np.array(iop_f[3:])
        origin = rng.normal(0, 100, 3)
        regular = origin + np.arange(20)[:, None] * 2.5 * normal
        cases = {
            "regular": regular,
            "reversed": regular[::-1],
            "shuffled": regular[rng.permutation(20)],
            "one": regular[:1],
            "two": regular[:2],
            "gap": np.delete(regular, 7, axis=0),
            "jitter within 1%": regular + 0.02 * rng.uniform(-1, 1, (20, 1)) * normal,
            "jitter beyond 1%": regular + 0.2 * rng.uniform(-1, 1, (20, 1)) * normal,
            "duplicate": np.vstack([regular, regular[3:4]]),
            "in-plane shift": regular + 3.0 * row,
            "tilted (sheared)": regular + np.arange(20)[:, None] * 0.5 * col,
            "DS-rounded": np.array([[float(f"{x:.6g}") for x in p] for p in regular]),
        }
        if HD_VERSION >= (0, 28):  # 0.27 checks the first-to-last span only
            cases["zig-zag"] = regular + ((np.arange(20) % 2) * 0.4)[:, None] * row
        for name, positions in cases.items():
            for sort in (True, False):
                kept = positions
                if not sort:  # a subset in its own order, as the fast path asks for the kept planes
                    half = rng.choice(len(positions), max(1, len(positions) // 2), replace=False)
                    kept = positions[np.sort(half)]
                spacing, _ = get_volume_positions(image_positions=kept, image_orientation=iop_f, sort=sort)
                ours = dset.volume_spacing(kept, iop_f, sort=sort)
                assert (ours is None) == (spacing is None), (name, sort)
                if spacing is not None:
                    assert float(ours) == float(spacing) and type(ours) is type(spacing), (name, sort)


def _mixed_content(labels, source):
    segs = list(_segment_variants())
    lab = np.zeros(labels.shape, np.uint8)
    for i in range(1, len(segs) + 1):
        lab[labels == i] = i
    lab[0, :2, :2] = 6  # segment 6 lives in one corner of the first slice
    for s in segs:
        s.layer, s.label_value = 0, s.number
    return SegmentationContent.from_labelmap(lab, source.grid, segs)


@pytest.mark.parametrize("seg_type", ["BINARY", "LABELMAP", "FRACTIONAL"])
def test_fast_path_writes_highdicoms_segment_sequence_for_every_kind_of_segment(tmp_path, seg_type):
    """Manual, semi-automatic and automatic segments, algorithm families, tracking, anatomic
    regions and modifiers, long and URN code values, coding scheme versions, generic codes,
    labels and descriptions past 64 characters, segments with and without colours."""
    info, labels = write_case(tmp_path / "src", "oblique")
    source = read_source_series(info.folder)
    kwargs = {"segmentation_type": seg_type, "compression": "none"}
    fast_path, hd_path = _write_both(
        lambda: _mixed_content(labels, source), source, tmp_path, "mixed", **kwargs
    )
    ds = assert_same_as_highdicom(fast_path, hd_path)
    assert len(ds.SegmentSequence) == 6  # LABELMAP too: no item for background 0


def test_labelmap_has_no_background_item_whatever_the_first_segment(tmp_path):
    """Neither engine describes background 0 (highdicom's segment 0 "Background" is removed), whatever
    the first segment's algorithm type, name and colour."""
    info, labels = write_case(tmp_path / "src", "axial")
    source = read_source_series(info.folder)
    lab = np.where(np.isin(labels, (1, 2)), labels, 0).astype(np.uint8)
    for first in (
        {"algorithm_type": "MANUAL"},
        {"algorithm_type": "SEMIAUTOMATIC", "algorithm_name": "tool", "color": (1, 2, 3)},
        {"algorithm_name": "model"},
    ):

        def make(first=first):
            segs = [SegmentInfo(1, "a", **first), SegmentInfo(2, "b", algorithm_type="MANUAL")]
            return SegmentationContent.from_labelmap(lab, source.grid, segs)

        name = first["algorithm_type"] if "algorithm_type" in first else "auto"
        paths = _write_both(
            make, source, tmp_path, f"bg-{name}", segmentation_type="LABELMAP", compression="rle"
        )
        ds = assert_same_as_highdicom(*paths)
        assert [int(d.SegmentNumber) for d in ds.SegmentSequence] == [1, 2]
        assert ds.PixelPaddingValue == 0


# ------------------------------------------------------------------------------------ what the CLI imports
def _cli_modules(args) -> set:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from dicomai.cli import main\n"
        f"rc = main({[str(a) for a in args]!r})\n"
        "assert rc == 0, rc\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


@pytest.fixture(scope="module")
def cli_case(tmp_path_factory):
    import json

    from dicomai.imageio import write_image

    folder = tmp_path_factory.mktemp("fast-cli")
    info, labels = write_case(folder / "src", "axial")
    source = read_source_series(info.folder)
    write_image(folder / "labels.nii.gz", labels, source.grid)
    (folder / "meta.json").write_text(json.dumps(dcmqi_metadata(phantom_segments())))
    return info.folder, folder


def _heavy(modules) -> list:
    """highdicom and pydicom.sr (its code dictionaries cost ~0.15 s) among ``modules``."""
    return sorted(m for m in modules if m.split(".")[0] == "highdicom" or m.startswith("pydicom.sr"))


@pytest.mark.parametrize(
    "options",
    [
        ["--type", "binary"],
        ["--type", "labelmap"],
        ["--type", "labelmap", "--compression", "none"],
        ["--type", "binary", "--compression", "deflate"],
        ["--type", "auto"],
    ],  # fmt: skip
    ids=["binary", "labelmap-rle", "labelmap-none", "binary-deflate", "auto"],
)
def test_cli_export_and_import_do_not_import_highdicom_or_pydicom_sr(cli_case, options):
    """The metadata has codes: neither the fast writer nor the reader needs pydicom's code
    dictionaries (dicomai.coding.Code stands in for pydicom.sr.coding.Code)."""
    src, folder = cli_case
    out = folder / f"{'-'.join(options)}.dcm"
    modules = _cli_modules(
        [
            "export-seg",
            "--source",
            src,
            "--labelmap",
            folder / "labels.nii.gz",
            "--metadata",
            folder / "meta.json",
            "--out",
            out,
            "--overwrite",
            "-q",
            *options,
        ]  # fmt: skip
    )
    assert _heavy(modules) == []
    back = folder / f"{'-'.join(options)}-back.nii.gz"
    modules = _cli_modules(["import-seg", out, "--source", src, "--out", back, "--overwrite", "-q"])
    assert _heavy(modules) == []


@pytest.mark.parametrize(
    "out_name, options",
    [("own-grid.nrrd", []), ("as-json.nii.gz", ["--json"]), ("slicer.seg.nrrd", [])],
    ids=["own-grid", "json", "seg-nrrd"],
)
def test_cli_import_without_source_does_not_import_highdicom_or_pydicom_sr(cli_case, out_name, options):
    src, folder = cli_case
    seg = folder / "import-variants.dcm"
    if not seg.exists():
        args = ["--source", src, "--labelmap", folder / "labels.nii.gz", "--metadata", folder / "meta.json"]
        assert _heavy(_cli_modules(["export-seg", *args, "--out", seg, "-q"])) == []
    modules = _cli_modules(["import-seg", seg, "--out", folder / out_name, "--overwrite", "-q", *options])
    assert _heavy(modules) == []


def test_cli_export_without_codes_looks_labels_up_in_pydicoms_dictionary(cli_case):
    """The counter-check: a segment without codes is coded from its label through pydicom.sr."""
    import json

    src, folder = cli_case
    meta = folder / "meta-no-codes.json"
    data = json.loads((folder / "meta.json").read_text())
    for attrs in data["segmentAttributes"][0]:
        attrs.pop("SegmentedPropertyCategoryCodeSequence")
        attrs.pop("SegmentedPropertyTypeCodeSequence")
        attrs.pop("SegmentedPropertyTypeModifierCodeSequence", None)
    meta.write_text(json.dumps(data))
    out = folder / "no-codes.dcm"
    args = ["--source", src, "--labelmap", folder / "labels.nii.gz", "--metadata", meta, "--out", out]
    modules = _cli_modules(["export-seg", *args, "--overwrite", "-q"])
    assert "pydicom.sr.codedict" in modules and not [m for m in modules if m.startswith("highdicom")]
    segments = pydicom.dcmread(out).SegmentSequence
    types = {str(s.SegmentLabel): s.SegmentedPropertyTypeCodeSequence[0] for s in segments}
    assert types["Liver"].CodeValue == "10200004" and types["Liver"].CodingSchemeDesignator == "SCT"
