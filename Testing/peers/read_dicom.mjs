#!/usr/bin/env node
// read_dicom.mjs FILE [SOURCE_FILE_OR_DIR ...]
//
// A small, independent reader for DICOM SEG and SR files built on dcmjs (the DICOM library the OHIF
// viewer uses). It shares no code with the project under test: the tests use it as a second opinion.
// Prints ONE JSON object on stdout (logs go to stderr):
//   all files: file, sopClassUID, transferSyntaxUID, modality, problems[], notes[]
//   SEG:  segmentationType, numberOfFrames, rows, columns, bitsAllocated, segments[{number, label,
//         category, type, algorithmType, algorithmName, frames}], pixelDataLengthOk (+ byte counts);
//         with source images: voxelCounts {segmentNumber: count}, voxelCountsMethod
//         ("dcmjs-legacy-adapter": dcmjs.adapters.Cornerstone.Segmentation.generateToolState, or
//         "own-ipp-placement": frames placed on the source slices by ImagePositionPatient), and
//         voxelCountsOwn (our own placement, always tried on uncompressed data, as a cross-check)
//   SC:   rows, columns, samplesPerPixel, photometricInterpretation, bitsAllocated, numberOfFrames,
//         burnedInAnnotation, pixelDataLengthOk, pixelDataByteSum (native syntaxes: sum of the bytes)
//   SR:   title, titleCode, templateIdentifier, measurementGroups[{trackingIdentifier, trackingUID,
//         findings, findingSites, referencedSegments, scoords[{graphicType, points}], scoord3ds[...],
//         measurements[{concept, value, unit}], qualitativeEvaluations}]
// Exit: 0 parsed and consistent, 1 parse error or an inconsistency (listed in problems), 2 usage.
//
// Modules come from the peers cache made by scripts/install_peers.sh:
//   $DICOMAI_PEERS_HOME/js/node_modules (default ${XDG_CACHE_HOME:-~/.cache}/dicomai-peers), then
//   NODE_PATH, then the usual lookup next to this file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// stdout carries only the JSON answer: route every console method that prints to stdout to stderr
const toStderr = (...a) => process.stderr.write(util.format(...a) + '\n');
console.log = toStderr;
console.info = toStderr;
console.debug = toStderr;
console.trace = toStderr;

const SEG_SOP_CLASSES = {
  '1.2.840.10008.5.1.4.1.1.66.4': 'Segmentation Storage',
  '1.2.840.10008.5.1.4.1.1.66.7': 'Label Map Segmentation Storage',
};
const NATIVE_SYNTAXES = new Set([
  '1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.2',
]);

function peersHome() {
  if (process.env.DICOMAI_PEERS_HOME) return process.env.DICOMAI_PEERS_HOME;
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'dicomai-peers');
}

function loadDcmjs() {
  const tried = [];
  // createRequire anchored in the cache: resolves <home>/js/node_modules, and NODE_PATH after it
  const anchors = [path.join(peersHome(), 'js', 'noop.cjs'), fileURLToPath(import.meta.url)];
  for (const anchor of anchors) {
    try {
      return createRequire(anchor)('dcmjs');
    } catch (e) {
      tried.push(`${path.dirname(anchor)}: ${e.code || e.message}`);
    }
  }
  throw new Error(`dcmjs not found (run scripts/install_peers.sh); tried ${tried.join('; ')}`);
}

function emit(obj, code) {
  process.stdout.write(JSON.stringify(obj, null, 1) + '\n');
  process.exitCode = code;
}

const args = process.argv.slice(2);
if (args.length < 1 || args[0] === '-h' || args[0] === '--help') {
  process.stderr.write('usage: node read_dicom.mjs FILE [SOURCE_FILE_OR_DIR ...]\n');
  process.exit(2);
}
const [target, ...sourceArgs] = args;

let dcmjs;
try {
  dcmjs = loadDcmjs();
} catch (e) {
  emit({ file: target, error: String(e.message || e), problems: [String(e.message || e)], notes: [] }, 1);
  process.exit();
}
const { DicomMessage, DicomMetaDictionary } = dcmjs.data;
try {
  dcmjs.log?.setLevel?.('warn');
  dcmjs.log?.getLogger?.('validation.dcmjs')?.setLevel?.('silent');
} catch (e) { /* older dcmjs: no named loggers */ }

// ------------------------------------------------------------------------------------------ helpers
const arr = (x) => (x === undefined || x === null ? [] : Array.isArray(x) ? x : [x]);
const first = (x) => arr(x)[0];
const code = (seq) => {
  const c = first(seq);
  return c ? { value: c.CodeValue ?? c.LongCodeValue ?? c.URNCodeValue ?? null,
    scheme: c.CodingSchemeDesignator ?? null, meaning: c.CodeMeaning ?? null } : null;
};
const sameCode = (c, value, scheme) => c && c.value === value && c.scheme === scheme;

function readDataset(file, options) {
  const buf = fs.readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const dicomData = options ? DicomMessage.readFile(ab, options) : DicomMessage.readFile(ab);
  const ds = DicomMetaDictionary.naturalizeDataset(dicomData.dict);
  ds._meta = DicomMetaDictionary.namifyDataset(dicomData.meta);
  return { ab, ds };
}
const metaValue = (ds, name) => first(ds._meta?.[name]?.Value);

function listFiles(p) {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return [p];
  return fs.readdirSync(p).sort().flatMap((n) => listFiles(path.join(p, n)));
}

// ------------------------------------------------------------------------------------------ SEG
function pixelBuffers(ds) {
  return arr(ds.PixelData).map((b) => (b instanceof ArrayBuffer ? new Uint8Array(b)
    : ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(0)));
}

function frameSegmentNumber(ds, i) {
  const pf = arr(ds.PerFrameFunctionalGroupsSequence)[i];
  const sh = first(ds.SharedFunctionalGroupsSequence);
  const sid = first(pf?.SegmentIdentificationSequence) || first(sh?.SegmentIdentificationSequence);
  return sid?.ReferencedSegmentNumber !== undefined ? Number(sid.ReferencedSegmentNumber) : undefined;
}

function frameGeometry(ds, i) {
  const pf = arr(ds.PerFrameFunctionalGroupsSequence)[i] || {};
  const sh = first(ds.SharedFunctionalGroupsSequence) || {};
  const ipp = first(pf.PlanePositionSequence)?.ImagePositionPatient
    ?? first(sh.PlanePositionSequence)?.ImagePositionPatient;
  const iop = first(pf.PlaneOrientationSequence)?.ImageOrientationPatient
    ?? first(sh.PlaneOrientationSequence)?.ImageOrientationPatient;
  const src = first(first(pf.DerivationImageSequence)?.SourceImageSequence);
  return { ipp: ipp && arr(ipp).map(Number), iop: iop && arr(iop).map(Number),
    sourceUID: src?.ReferencedSOPInstanceUID };
}

// RLE Lossless (PS3.5 G): 64-byte header with the segment offsets, then PackBits segments, most
// significant byte first
function decodeRleFrame(buf, n, bytesPerPixel) {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const nSeg = dv.getUint32(0, true);
  if (nSeg !== bytesPerPixel) throw new Error(`RLE frame with ${nSeg} segments for ${bytesPerPixel} byte(s) per pixel`);
  const out = bytesPerPixel === 1 ? new Uint8Array(n) : new Uint16Array(n);
  for (let s = 0; s < nSeg; s++) {
    const start = dv.getUint32(4 + 4 * s, true);
    const end = s + 1 < nSeg ? dv.getUint32(8 + 4 * s, true) : buf.byteLength;
    const shift = 8 * (nSeg - 1 - s);
    let p = 0;
    for (let k = start; k < end && p < n;) {
      const h = (buf[k] << 24) >> 24;   // signed byte
      k++;
      if (h >= 0) {
        for (let c = 0; c <= h && p < n; c++) out[p++] |= buf[k++] << shift;
      } else if (h !== -128) {
        const v = buf[k++] << shift;
        for (let c = 0; c < 1 - h && p < n; c++) out[p++] |= v;
      }
    }
    if (p !== n) throw new Error(`RLE segment ${s + 1} decodes to ${p} of ${n} pixels`);
  }
  return out;
}

// decoded frame i as a Uint8Array/Uint16Array of rows*cols values (native and RLE only)
function makeFrameDecoder(ds, ts) {
  const rows = Number(ds.Rows), cols = Number(ds.Columns), n = rows * cols;
  const bits = Number(ds.BitsAllocated);
  const bufs = pixelBuffers(ds);
  if (ts === '1.2.840.10008.1.2.5' && (bits === 8 || bits === 16) && bufs.length === Number(ds.NumberOfFrames ?? 1)) {
    return (i) => decodeRleFrame(bufs[i], n, bits / 8);
  }
  if (!NATIVE_SYNTAXES.has(ts) || bufs.length !== 1) return null;
  const data = bufs[0];
  if (bits === 1) {
    return (i) => {
      const out = new Uint8Array(n);
      let bit = i * n;
      for (let p = 0; p < n; p++, bit++) out[p] = (data[bit >> 3] >> (bit & 7)) & 1;
      return out;
    };
  }
  if (bits === 8) return (i) => data.subarray(i * n, (i + 1) * n);
  if (bits === 16) {
    return (i) => {
      const out = new Uint16Array(n);
      const dv = new DataView(data.buffer, data.byteOffset + i * n * 2, n * 2);
      for (let p = 0; p < n; p++) out[p] = dv.getUint16(p * 2, true);
      return out;
    };
  }
  return null;
}

// source images: header only, sorted along the slice normal
function loadSources(paths, notes) {
  const items = [];
  const opts = { ignoreErrors: true, untilTag: '7FE00010', includeUntilTagValue: false,
    noCopy: false, forceStoreRaw: false };
  for (const f of paths.flatMap(listFiles)) {
    let ds;
    try { ({ ds } = readDataset(f, opts)); } catch (e) { continue; }   // not DICOM
    if (!ds.SOPInstanceUID || !ds.Rows) continue;
    if (Number(ds.NumberOfFrames || 1) > 1) {
      notes.push(`source ${path.basename(f)} is multi-frame: not used for voxel counts`);
      continue;
    }
    items.push({ file: f, ds });
  }
  if (!items.length) return [];
  const iop = items[0].ds.ImageOrientationPatient ? arr(items[0].ds.ImageOrientationPatient).map(Number)
    : [1, 0, 0, 0, 1, 0];
  const nrm = [iop[1] * iop[5] - iop[2] * iop[4], iop[2] * iop[3] - iop[0] * iop[5],
    iop[0] * iop[4] - iop[1] * iop[3]];
  const along = (ds) => (ds.ImagePositionPatient
    ? arr(ds.ImagePositionPatient).map(Number).reduce((s, v, k) => s + v * nrm[k], 0)
    : Number(ds.InstanceNumber || 0));
  items.sort((a, b) => along(a.ds) - along(b.ds));
  return items;
}

function metadataProvider(items) {
  const byId = new Map();
  const imageIds = items.map((it, k) => {
    const id = `dicomai-src:${k}`;
    const d = it.ds;
    const iop = arr(d.ImageOrientationPatient).map(Number);
    byId.set(id, {
      imagePlaneModule: {
        rowCosines: iop.slice(0, 3), columnCosines: iop.slice(3, 6),
        imagePositionPatient: arr(d.ImagePositionPatient).map(Number),
        rows: Number(d.Rows), columns: Number(d.Columns),
        frameOfReferenceUID: d.FrameOfReferenceUID,
      },
      imagePixelModule: { rows: Number(d.Rows), columns: Number(d.Columns) },
      generalSeriesModule: { seriesInstanceUID: d.SeriesInstanceUID, modality: d.Modality },
      sopCommonModule: { sopInstanceUID: d.SOPInstanceUID, sopClassUID: d.SOPClassUID },
      instance: d,
    });
    return id;
  });
  return { imageIds, provider: { get: (type, id) => byId.get(id)?.[type] } };
}

function countLegacy(ab, items, segNumbers, problems) {
  const { imageIds, provider } = metadataProvider(items);
  const warnings = [];
  const savedWarn = console.warn;
  console.warn = (...a) => { warnings.push(util.format(...a)); };
  let r;
  try {
    r = dcmjs.adapters.Cornerstone.Segmentation.generateToolState(imageIds, ab, provider);
  } finally {
    console.warn = savedWarn;
  }
  if (!r || !r.labelmapBufferArray) throw new Error(`generateToolState returned nothing ${warnings.join(' | ')}`);
  const counts = Object.fromEntries(segNumbers.map((s) => [String(s), 0]));
  for (const buf of r.labelmapBufferArray) {
    const lm = new Uint16Array(buf);
    for (let k = 0; k < lm.length; k++) {
      const v = lm[k];
      if (v) counts[String(v)] = (counts[String(v)] || 0) + 1;
    }
  }
  const skipped = warnings.filter((w) => /not present in stack|skipping/i.test(w));
  if (skipped.length) problems.push(`legacy adapter could not place frames: ${skipped.slice(0, 3).join(' | ')}`);
  return { counts, labelmaps: r.labelmapBufferArray.length, warnings };
}

function countOwn(ds, ts, items, segNumbers, isLabelmap) {
  const rows = Number(ds.Rows), cols = Number(ds.Columns), n = rows * cols;
  const decode = makeFrameDecoder(ds, ts);
  if (!decode) throw new Error(`pixel data not decodable here (transfer syntax ${ts}, BitsAllocated ${ds.BitsAllocated}); native and RLE only`);
  const srcIop = arr(items[0].ds.ImageOrientationPatient).map(Number);
  const byUid = new Map(items.map((it, k) => [it.ds.SOPInstanceUID, k]));
  const near = (a, b, tol) => a && b && a.length === b.length && a.every((v, k) => Math.abs(v - b[k]) <= tol);
  // group frames by where they land: "segment:slice" (BINARY/FRACTIONAL) or "slice" (LABELMAP);
  // a group of one frame is counted straight from its pixels, larger groups as a union (no per-slice
  // masks kept around, so 1,800-frame SEGs stay cheap)
  const groups = new Map();
  let unplaced = 0;
  const nFrames = Number(ds.NumberOfFrames || 1);
  for (let i = 0; i < nFrames; i++) {
    const g = frameGeometry(ds, i);
    if (g.iop && srcIop.length === 6 && !near(g.iop, srcIop, 1e-3)) { unplaced++; continue; }
    let slice = g.ipp ? items.findIndex((it) => near(arr(it.ds.ImagePositionPatient).map(Number), g.ipp, 1e-2)) : -1;
    if (slice < 0 && g.sourceUID && byUid.has(g.sourceUID)) slice = byUid.get(g.sourceUID);
    if (slice < 0 || Number(items[slice].ds.Rows) !== rows || Number(items[slice].ds.Columns) !== cols) {
      unplaced++;
      continue;
    }
    const key = isLabelmap ? `${slice}` : `${frameSegmentNumber(ds, i)}:${slice}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(i);
  }
  const counts = Object.fromEntries(segNumbers.map((s) => [String(s), 0]));
  const add = (s, c) => { counts[String(s)] = (counts[String(s)] || 0) + c; };
  for (const [key, frames] of groups) {
    const seg = isLabelmap ? null : Number(key.split(':')[0]);
    if (frames.length === 1) {
      const px = decode(frames[0]);
      if (isLabelmap) {
        const hist = new Map();
        for (let p = 0; p < n; p++) if (px[p]) hist.set(px[p], (hist.get(px[p]) || 0) + 1);
        for (const [v, c] of hist) add(v, c);
      } else {
        let c = 0;
        for (let p = 0; p < n; p++) if (px[p]) c++;
        add(seg, c);
      }
      continue;
    }
    const masks = new Map();   // segment -> union over the frames on this slice
    for (const i of frames) {
      const px = decode(i);
      for (let p = 0; p < n; p++) {
        if (!px[p]) continue;
        const s = isLabelmap ? px[p] : seg;
        let m = masks.get(s);
        if (!m) { m = new Uint8Array(n); masks.set(s, m); }
        m[p] = 1;
      }
    }
    for (const [s, m] of masks) {
      let c = 0;
      for (let p = 0; p < n; p++) c += m[p];
      add(s, c);
    }
  }
  return { counts, unplaced };
}

function describeSeg(out, ds, ab, problems, notes) {
  const ts = out.transferSyntaxUID;
  const rows = Number(ds.Rows), cols = Number(ds.Columns);
  const nFrames = Number(ds.NumberOfFrames ?? 1);
  const bits = Number(ds.BitsAllocated);
  const isLabelmap = out.sopClassUID === '1.2.840.10008.5.1.4.1.1.66.7' || ds.SegmentationType === 'LABELMAP';
  Object.assign(out, {
    segmentationType: ds.SegmentationType ?? null,
    numberOfFrames: nFrames, rows, columns: cols, bitsAllocated: bits,
  });
  const perFrame = arr(ds.PerFrameFunctionalGroupsSequence);
  if (perFrame.length !== nFrames) {
    problems.push(`NumberOfFrames ${nFrames} but ${perFrame.length} per-frame functional group items`);
  }
  const framesPerSegment = new Map();
  if (!isLabelmap) {
    for (let i = 0; i < perFrame.length; i++) {
      const s = frameSegmentNumber(ds, i);
      if (s === undefined) problems.push(`frame ${i + 1} has no ReferencedSegmentNumber`);
      else framesPerSegment.set(s, (framesPerSegment.get(s) || 0) + 1);
    }
  }
  const segs = arr(ds.SegmentSequence);
  const numbers = segs.map((s) => Number(s.SegmentNumber));
  if (new Set(numbers).size !== numbers.length) problems.push(`duplicate segment numbers: ${numbers.join(',')}`);
  out.segments = segs.map((s) => ({
    number: Number(s.SegmentNumber),
    label: s.SegmentLabel ?? null,
    category: code(s.SegmentedPropertyCategoryCodeSequence),
    type: code(s.SegmentedPropertyTypeCodeSequence),
    typeModifier: code(first(s.SegmentedPropertyTypeCodeSequence)?.SegmentedPropertyTypeModifierCodeSequence),
    anatomicRegion: code(s.AnatomicRegionSequence),
    algorithmType: s.SegmentAlgorithmType ?? null,
    algorithmName: s.SegmentAlgorithmName ?? null,
    frames: isLabelmap ? null : (framesPerSegment.get(Number(s.SegmentNumber)) || 0),
  }));
  for (const s of framesPerSegment.keys()) {
    if (!numbers.includes(s)) problems.push(`frames reference segment ${s}, which is not in SegmentSequence`);
  }

  // PixelData length
  const bufs = pixelBuffers(ds);
  if (!bufs.length) {
    out.pixelDataLengthOk = false;
    problems.push('no PixelData');
  } else if (NATIVE_SYNTAXES.has(ts)) {
    const total = bufs.reduce((s, b) => s + b.byteLength, 0);
    const expected = bits === 1 ? Math.ceil((rows * cols * nFrames) / 8) : rows * cols * nFrames * (bits / 8);
    // the value is padded to an even length; dcmjs may or may not keep the pad byte
    const ok = total === expected || (expected % 2 === 1 && total === expected + 1);
    Object.assign(out, { pixelDataLengthOk: ok, pixelDataBytes: total, pixelDataBytesExpected: expected });
    if (!ok) problems.push(`PixelData has ${total} bytes, expected ${expected} (${rows}x${cols}x${nFrames}x${bits} bits)`);
  } else {
    // encapsulated: dcmjs hands back one buffer per frame when it can tell frames apart
    const ok = bufs.length === nFrames;
    Object.assign(out, { pixelDataLengthOk: ok, pixelDataEncapsulatedItems: bufs.length });
    if (!ok) problems.push(`encapsulated PixelData has ${bufs.length} frame items for ${nFrames} frames`);
  }

  if (!sourceArgs.length) return;
  const items = loadSources(sourceArgs, notes);
  out.sourceImages = items.length;
  if (!items.length) { problems.push('no source images found in the given paths'); return; }
  const segNumbers = numbers.filter((s) => s !== 0);
  let own = null;
  let ownError = null;
  try { own = countOwn(ds, ts, items, segNumbers, isLabelmap); } catch (e) { ownError = String(e.message || e); }
  try {
    const legacy = countLegacy(ab, items, segNumbers, problems);
    Object.assign(out, { voxelCounts: legacy.counts, voxelCountsMethod: 'dcmjs-legacy-adapter',
      legacyLabelmaps: legacy.labelmaps });
    if (legacy.warnings.length) out.adapterWarnings = legacy.warnings.slice(0, 20);
  } catch (e) {
    out.adapterError = String(e.message || e);
    if (own) {
      Object.assign(out, { voxelCounts: own.counts, voxelCountsMethod: 'own-ipp-placement' });
    } else {
      out.voxelCounts = null;
      out.voxelCountsMethod = null;
      notes.push(`no voxel counts: adapter failed (${out.adapterError}); own placement: ${ownError}`);
    }
  }
  if (own) {
    out.voxelCountsOwn = own.counts;
    out.unplacedFrames = own.unplaced;
    if (own.unplaced) problems.push(`${own.unplaced} frame(s) match no source image by position or reference`);
    if (out.voxelCountsMethod === 'dcmjs-legacy-adapter'
        && JSON.stringify(own.counts) !== JSON.stringify(out.voxelCounts)) {
      notes.push('legacy adapter and own placement disagree on voxel counts');
    }
  } else if (ownError) {
    out.voxelCountsOwnError = ownError;
  }
}

// ------------------------------------------------------------------------------------------ SR
const POINTS_FOR = { POINT: 1, CIRCLE: 2, ELLIPSE: 4, ELLIPSOID: 6 };

function graphic(item, dims, problems) {
  const data = arr(item.GraphicData).map(Number);
  const type = item.GraphicType ?? null;
  if (data.length % dims !== 0) problems.push(`${type} GraphicData has ${data.length} values, not a multiple of ${dims}`);
  const points = Math.floor(data.length / dims);
  if (POINTS_FOR[type] !== undefined && POINTS_FOR[type] !== points) {
    problems.push(`${type} with ${points} points (expected ${POINTS_FOR[type]})`);
  }
  const g = { graphicType: type, points };
  if (dims === 3) g.frameOfReferenceUID = item.ReferencedFrameOfReferenceUID ?? null;
  return g;
}

function walk(items, fn, depth = 0) {
  for (const it of arr(items)) {
    fn(it, depth);
    walk(it.ContentSequence, fn, depth + 1);
  }
}

function describeGroup(group, problems) {
  const g = { trackingIdentifier: null, trackingUID: null, findings: [], findingSites: [],
    referencedSegments: [], scoords: [], scoord3ds: [], measurements: [], qualitativeEvaluations: [] };
  for (const it of arr(group.ContentSequence)) {
    const concept = code(it.ConceptNameCodeSequence);
    switch (it.ValueType) {
      case 'TEXT':
        if (sameCode(concept, '112039', 'DCM')) g.trackingIdentifier = it.TextValue ?? null;
        break;
      case 'UIDREF':
        if (sameCode(concept, '112040', 'DCM')) g.trackingUID = it.UID ?? null;
        break;
      case 'CODE': {
        const value = code(it.ConceptCodeSequence);
        if (sameCode(concept, '121071', 'DCM')) g.findings.push(value);
        else if (sameCode(concept, '363698007', 'SCT') || sameCode(concept, 'G-C0E3', 'SRT')) g.findingSites.push(value);
        else g.qualitativeEvaluations.push({ concept: concept?.meaning ?? null, value });
        break;
      }
      case 'NUM': {
        const mv = first(it.MeasuredValueSequence);
        g.measurements.push({
          concept: concept?.meaning ?? null,
          conceptCode: concept,
          value: mv?.NumericValue !== undefined ? Number(first(mv.NumericValue)) : null,
          unit: code(mv?.MeasurementUnitsCodeSequence)?.value ?? null,
        });
        break;
      }
      default:
        break;
    }
  }
  // geometry and segment references anywhere below the group (directly, or INFERRED FROM a NUM)
  walk(group.ContentSequence, (it) => {
    if (it.ValueType === 'SCOORD') g.scoords.push(graphic(it, 2, problems));
    else if (it.ValueType === 'SCOORD3D') g.scoord3ds.push(graphic(it, 3, problems));
    else if (it.ValueType === 'IMAGE') {
      const ref = first(it.ReferencedSOPSequence);
      if (ref?.ReferencedSegmentNumber !== undefined) {
        g.referencedSegments.push({ sopInstanceUID: ref.ReferencedSOPInstanceUID ?? null,
          segmentNumbers: arr(ref.ReferencedSegmentNumber).map(Number) });
      }
    }
  });
  return g;
}

function describeSr(out, ds, problems) {
  const title = code(ds.ConceptNameCodeSequence);
  out.title = title?.meaning ?? null;
  out.titleCode = title;
  out.templateIdentifier = first(ds.ContentTemplateSequence)?.TemplateIdentifier ?? null;
  out.completionFlag = ds.CompletionFlag ?? null;
  out.verificationFlag = ds.VerificationFlag ?? null;
  if (ds.ValueType && ds.ValueType !== 'CONTAINER') problems.push(`root content item is ${ds.ValueType}, not CONTAINER`);
  let items = 0;
  const groups = [];
  walk(ds.ContentSequence, (it) => {
    items++;
    if (it.ValueType === 'CONTAINER' && sameCode(code(it.ConceptNameCodeSequence), '125007', 'DCM')) {
      groups.push(describeGroup(it, problems));
    }
  });
  out.contentItems = items;
  out.measurementGroups = groups;
}

function describeSc(out, ds, problems) {
  const rows = Number(ds.Rows), cols = Number(ds.Columns);
  const spp = Number(ds.SamplesPerPixel ?? 1), bits = Number(ds.BitsAllocated);
  const nFrames = Number(ds.NumberOfFrames ?? 1);
  Object.assign(out, {
    rows, columns: cols, samplesPerPixel: spp, photometricInterpretation: ds.PhotometricInterpretation ?? null,
    bitsAllocated: bits, numberOfFrames: nFrames, burnedInAnnotation: ds.BurnedInAnnotation ?? null,
  });
  const bufs = pixelBuffers(ds);
  if (!bufs.length) { out.pixelDataLengthOk = false; problems.push('no PixelData'); return; }
  const ts = metaValue(ds, 'TransferSyntaxUID');
  if (!NATIVE_SYNTAXES.has(ts)) { out.pixelDataLengthOk = null; return; }
  const total = bufs.reduce((s, b) => s + b.byteLength, 0);
  const expected = rows * cols * spp * nFrames * (bits / 8);
  const ok = total === expected || (expected % 2 === 1 && total === expected + 1);
  let sum = 0;
  for (const b of bufs) { const u8 = new Uint8Array(b); for (let i = 0; i < u8.length; i++) sum += u8[i]; }
  Object.assign(out, { pixelDataLengthOk: ok, pixelDataBytes: total, pixelDataByteSum: sum });
  if (!ok) problems.push(`PixelData has ${total} bytes, expected ${expected}`);
}

// ------------------------------------------------------------------------------------------ main
const out = { file: target };
const problems = [];
const notes = [];
try {
  const { ab, ds } = readDataset(target);
  out.sopClassUID = ds.SOPClassUID ?? metaValue(ds, 'MediaStorageSOPClassUID') ?? null;
  out.transferSyntaxUID = metaValue(ds, 'TransferSyntaxUID') ?? null;
  out.modality = ds.Modality ?? null;
  out.sopInstanceUID = ds.SOPInstanceUID ?? null;
  if (SEG_SOP_CLASSES[out.sopClassUID] || ds.Modality === 'SEG') {
    out.kind = 'SEG';
    describeSeg(out, ds, ab, problems, notes);
  } else if (ds.Modality === 'SR' || ds.ContentSequence !== undefined) {
    out.kind = 'SR';
    describeSr(out, ds, problems);
  } else if (String(out.sopClassUID ?? '').startsWith('1.2.840.10008.5.1.4.1.1.7')) {
    out.kind = 'SC';
    describeSc(out, ds, problems);
  } else {
    out.kind = 'other';
  }
} catch (e) {
  out.error = String(e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e);
  problems.push(`parse error: ${e.message || e}`);
}
out.problems = problems;
out.notes = notes;
emit(out, problems.length ? 1 : 0);
