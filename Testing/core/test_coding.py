"""dicomai.coding.Code: the project's code type, interchangeable with pydicom's Code."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys

import pydicom
import pydicom.sr.coding
import pytest

from dicomai.coding import (
    Code,
    code_from_dataset,
    code_from_dict,
    code_to_dataset,
    code_to_dict,
    generic_category,
    generic_type,
    is_code,
    lookup_label,
    terminology_from_string,
)

PydicomCode = pydicom.sr.coding.Code

# (value, scheme, meaning[, version]) of codes that are the same concept under both types
SAME = [
    ("10200004", "SCT", "Liver"),
    ("10200004", "SCT", "liver, another wording"),
    ("112039", "DCM", "Tracking Identifier"),
    ("mm", "UCUM", "millimeter"),
    ("urn:oid:1.2.840.10008.2.16.4", "99X", "a URN"),
    ("12345678901234567", "99X", "a long code value"),
    ("T-62000", "SRT", "Liver", "1.1"),
]
# pairs of different concepts
DIFFERENT = [
    (("10200004", "SCT", "Liver"), ("10200004", "DCM", "Liver")),  # scheme
    (("10200004", "SCT", "Liver"), ("10200005", "SCT", "Liver")),  # value
    (("10200004", "SCT", "Liver"), ("10200004", "SCT", "Liver", "2024")),  # version
    (("T-62000", "SRT", "Liver", "1.1"), ("T-62000", "SRT", "Liver")),
    (("T-62000", "SRT", "Liver"), ("10200005", "SCT", "Liver")),  # mapped, but not to this one
    (("not-a-srt-code", "SRT", "x"), ("not-a-srt-code", "SCT", "x")),  # unmapped SRT stays SRT
]
# retired SNOMED-RT codes and their SNOMED CT equivalents (pydicom maps them)
SRT_SCT = [
    (("T-62000", "SRT", "Liver"), ("10200004", "SCT", "Liver")),
    (("G-C0E3", "SRT", "Finding Site"), ("363698007", "SCT", "Finding Site")),
    (("T-A7010", "SRT", "Spinal cord"), ("2748008", "SCT", "Spinal cord")),
]


def test_fields_defaults_and_repr_are_pydicoms():
    assert Code._fields == PydicomCode._fields == ("value", "scheme_designator", "meaning", "scheme_version")
    c = Code("10200004", "SCT", "Liver")
    assert c.scheme_version is None and tuple(c) == ("10200004", "SCT", "Liver", None)
    assert tuple(c) == tuple(PydicomCode("10200004", "SCT", "Liver"))
    assert repr(c) == repr(PydicomCode("10200004", "SCT", "Liver"))
    assert repr(c) == "Code(value='10200004', scheme_designator='SCT', meaning='Liver', scheme_version=None)"
    v = Code(value="x", scheme_designator="99X", meaning="m", scheme_version="1")
    assert (v.value, v.scheme_designator, v.meaning, v.scheme_version) == ("x", "99X", "m", "1")
    assert v._replace(scheme_version=None) == Code("x", "99X", "m")
    assert v._asdict() == PydicomCode(*v)._asdict()
    assert pickle.loads(pickle.dumps(v)) == v and type(pickle.loads(pickle.dumps(v))) is Code
    assert copy.deepcopy(v) == v and type(copy.copy(v)) is Code


@pytest.mark.parametrize("fields", SAME, ids=lambda f: f"{f[1]}-{f[0]}")
def test_equal_to_pydicoms_code_both_ways(fields):
    ours, theirs = Code(*fields), PydicomCode(*fields)
    assert ours == theirs and theirs == ours
    assert not (ours != theirs) and not (theirs != ours)
    assert ours == Code(*fields) and hash(ours) == hash(Code(*fields))
    assert hash(ours) == hash(theirs) == hash(fields[1] + fields[0])
    # the meaning is free text: not compared
    other_meaning = Code(fields[0], fields[1], "something else", *fields[3:])
    assert other_meaning == ours and other_meaning == theirs and theirs == other_meaning


@pytest.mark.parametrize("a, b", DIFFERENT)
def test_different_concepts_differ_under_both_types(a, b):
    for x, y in ((Code(*a), Code(*b)), (Code(*a), PydicomCode(*b)), (PydicomCode(*a), Code(*b))):
        assert not (x == y) and not (y == x)
        assert x != y and y != x
    # pydicom agrees
    assert PydicomCode(*a) != PydicomCode(*b)


@pytest.mark.parametrize("srt, sct", SRT_SCT, ids=lambda c: c[0])
def test_retired_srt_codes_equal_their_sct_equivalents_like_pydicoms(srt, sct):
    for x in (Code(*srt), PydicomCode(*srt)):
        for y in (Code(*sct), PydicomCode(*sct)):
            assert x == y and y == x, (x, y)
            assert not (x != y) and not (y != x)
    # as with pydicom's type, the hash is of the written form: equal, but hashed apart
    assert hash(Code(*srt)) == hash(PydicomCode(*srt)) and hash(Code(*sct)) == hash(PydicomCode(*sct))


def test_dicts_and_sets_mix_the_two_types():
    distinct = [f for f in SAME if f[2] != "liver, another wording"]
    ours = [Code(*f) for f in distinct]
    theirs = [PydicomCode(*f) for f in distinct]
    by_ours = {c: i for i, c in enumerate(ours)}
    assert all(by_ours[c] == i for i, c in enumerate(theirs))
    by_theirs = {c: i for i, c in enumerate(theirs)}
    assert all(by_theirs[c] == i for i, c in enumerate(ours))
    assert set(ours) == set(theirs) and len(set(ours) | set(theirs)) == len(set(ours))
    assert all(c in theirs for c in ours) and all(c in ours for c in theirs)
    # tuples of codes (e.g. (quantity, derivation) keys) hash and compare alike
    pairs = {(ours[0], ours[2]): "a"}
    assert pairs[(theirs[0], theirs[2])] == "a"
    assert list(ours).index(theirs[3]) == 3 and list(theirs).index(ours[3]) == 3


def test_not_a_code_is_never_equal():
    c = Code("10200004", "SCT", "Liver")
    for other in (None, "10200004", 10200004, ("10200004", "SCT", "Liver"), object(), pydicom.Dataset()):
        assert not (c == other) and c != other
        assert not (other == c) and other != c
    assert c in [None, "x", c] and None not in [c]


def test_highdicoms_coded_concept_compares_equal_both_ways():
    from highdicom.sr import CodedConcept

    for fields in SAME:
        concept, ours = CodedConcept(*fields), Code(*fields)
        assert concept == ours and ours == concept and not (concept != ours) and not (ours != concept)
    srt, sct = SRT_SCT[0]
    assert CodedConcept(*srt) == Code(*sct) and Code(*sct) == CodedConcept(*srt)
    assert CodedConcept("1", "DCM", "a") != Code("2", "DCM", "a")
    assert Code("2", "DCM", "a") != CodedConcept("1", "DCM", "a")


def test_conversions_and_is_code():
    from highdicom.sr import CodedConcept

    theirs = PydicomCode("T-62000", "SRT", "Liver", "1.1")
    ours = Code.from_pydicom(theirs)
    assert type(ours) is Code and tuple(ours) == tuple(theirs)
    back = ours.as_pydicom()
    assert type(back) is PydicomCode and tuple(back) == tuple(ours)
    assert Code.from_pydicom(ours) is ours
    from_concept = Code.from_pydicom(CodedConcept("10200004", "SCT", "Liver"))
    assert tuple(from_concept) == ("10200004", "SCT", "Liver", None)
    assert is_code(ours) and is_code(theirs)
    for other in (None, ("10200004", "SCT", "Liver", None), "SCT^10200004^Liver", CodedConcept(*ours)):
        assert not is_code(other)


def test_every_constructor_makes_our_code():
    d = {"CodeValue": "10200004", "CodingSchemeDesignator": "SCT", "CodeMeaning": "Liver"}
    made = [
        code_from_dict(d),
        code_from_dict({**d, "CodingSchemeVersion": "2024"}),
        code_from_dataset(code_to_dataset(PydicomCode("10200004", "SCT", "Liver"))),
        terminology_from_string("c~SCT^123037004^Anatomical Structure~SCT^10200004^Liver~^^~~^^~^^")["type"],
        generic_category(),
        generic_type(),
        *lookup_label("left kidney"),
    ]
    for c in made:
        assert type(c) is Code, c
    assert made[0] == PydicomCode("10200004", "SCT", "Liver") and made[1].scheme_version == "2024"
    assert made[1] != made[0]


@pytest.mark.parametrize(
    "fields", SAME + [("10200004", "SCT", "Liver", "2024")], ids=lambda f: f"{f[1]}-{f[0]}-{f[3:]}"
)
def test_dataset_and_dict_round_trip(fields):
    ours = Code(*fields)
    item = code_to_dataset(ours)
    assert item == code_to_dataset(PydicomCode(*fields))
    back = code_from_dataset(item)
    assert tuple(back) == tuple(ours) and type(back) is Code
    # through a written file: the item as pydicom reads it back
    holder = pydicom.Dataset()
    holder.ConceptNameCodeSequence = [item]
    again = code_from_dataset(pydicom.Dataset(holder).ConceptNameCodeSequence[0])
    assert tuple(again) == tuple(ours)
    assert tuple(code_from_dict(code_to_dict(ours))) == tuple(ours)
    assert code_to_dict(ours) == code_to_dict(PydicomCode(*fields))


def test_the_code_type_does_not_import_pydicom_sr_until_an_srt_code_is_compared():
    code = (
        "import sys\n"
        "from dicomai.coding import Code, is_code, code_from_dict\n"
        "d = {'CodeValue': '10200004', 'CodingSchemeDesignator': 'SCT', 'CodeMeaning': 'Liver'}\n"
        "a = code_from_dict(d)\n"
        "assert a == Code('10200004', 'SCT', 'x') and a != Code('1', 'SCT', 'x') and is_code(a)\n"
        "assert len({a, Code('10200004', 'SCT', 'y')}) == 1\n"
        "print('pydicom.sr' in sys.modules, end=' ')\n"
        "assert a == Code('T-62000', 'SRT', 'Liver')\n"
        "print('pydicom.sr' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True"]
