"""Damaged SEG and SR files through the DICOM browser plugins (examine, then load): a loadable
(with a warning) or none, and load True or False; never an exception, so the browser keeps
working. The files are mutations of the study's own SEGs and SR made by Testing/fuzz/fuzzlib.py."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import slicer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))
import fuzzlib  # noqa: E402

SEG_KEY, SR_KEY = "DICOMAISegmentationPlugin", "DICOMAIStructuredReportPlugin"


def test_fuzzed_files_give_a_loadable_or_none_and_never_raise(standin, study, tmp_path):
    rng = random.Random(13)
    cases = []
    for path, kind, key in (
        (study.seg, "seg", SEG_KEY),
        (study.fractional, "seg", SEG_KEY),
        (study.sr, "sr", SR_KEY),
    ):
        seed = fuzzlib.Seed(path.name, kind, path)
        data = path.read_bytes()
        made = 0
        while made < 4:
            m = fuzzlib.mutate(rng, seed, data)
            if m is None:
                continue
            out = tmp_path / f"{kind}-{len(cases)}.dcm"
            out.write_bytes(m[0])
            cases.append((out, key, m[1], m[2]))
            made += 1
    offered = loaded = 0
    for path, key, mutator, detail in cases:
        plugin = slicer.modules.dicomPlugins[key]()
        loadables = plugin.examineForImport([[str(path)]])  # must not raise
        assert len(loadables) <= 1, (mutator, detail)
        for lo in loadables:
            offered += 1
            ok = slicer.modules.dicomPlugins[key]().load(lo)  # must not raise
            assert ok in (True, False), (mutator, detail)
            loaded += bool(ok)
    assert len(cases) == 12 and offered >= 1
