"""Independent DICOM checkers ("peers") for the tests.

None of these tools is written by this project: they judge its output. ``make peers``
(scripts/install_peers.sh) installs them into a cache outside the repository::

    $DICOMAI_PEERS_HOME (default ${XDG_CACHE_HOME:-~/.cache}/dicomai-peers)
      venv/bin/  dciodvfy, dcentvfy (dicom3tools); itkimage2segimage, segimage2itkimage,
                 tid1500writer, tid1500reader (dcmqi)
      js/        dcmjs + adapters, used by Testing/peers/read_dicom.mjs (``dcmjs_read``)
    dsrdump      DCMTK, from the system PATH

Use ``require(tool)`` at the start of a test: it skips when the tool is missing, or fails when
``DICOMAI_REQUIRE_PEERS=1`` (``make test`` sets it), so CI cannot pass by skipping.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence, Union

import pytest

PathLike = Union[str, "os.PathLike[str]"]

VENV_TOOLS = (
    "dciodvfy",
    "dcentvfy",
    "itkimage2segimage",
    "segimage2itkimage",
    "tid1500writer",
    "tid1500reader",
)
READ_DICOM_MJS = Path(__file__).resolve().with_name("read_dicom.mjs")
DEFLATED_EXPLICIT_VR = "1.2.840.10008.1.2.1.99"
TIMEOUT_S = 900


# ------------------------------------------------------------------------------------------ where


def peers_home() -> Path:
    """The peers cache, same rule as scripts/install_peers.sh."""
    home = os.environ.get("DICOMAI_PEERS_HOME")
    if home:
        return Path(home).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "dicomai-peers"


def _executable(p: Path) -> bool:
    return p.is_file() and os.access(p, os.X_OK)


def tool_path(name: str) -> Path | None:
    """Where a peer lives, or None. ``dcmjs`` means node + the cached node_modules + our reader."""
    if name == "dcmjs":
        node = shutil.which("node")
        module = peers_home() / "js" / "node_modules" / "dcmjs" / "package.json"
        return READ_DICOM_MJS if node and module.is_file() and READ_DICOM_MJS.is_file() else None
    venv_tool = peers_home() / "venv" / "bin" / name
    if _executable(venv_tool):
        return venv_tool
    if name in VENV_TOOLS:
        return None  # only the pinned copies in the cache count
    found = shutil.which(name)
    return Path(found) if found else None


def have(tool_name: str) -> bool:
    return tool_path(tool_name) is not None


def require(tool_name: str) -> Path:
    """Skip the calling test when the tool is missing (fail under DICOMAI_REQUIRE_PEERS=1)."""
    path = tool_path(tool_name)
    if path is not None:
        return path
    where = (
        f"{peers_home()}/js/node_modules (and node on PATH)"
        if tool_name == "dcmjs"
        else f"{peers_home()}/venv/bin"
        if tool_name in VENV_TOOLS
        else "PATH (Debian: apt-get install dcmtk)"
        if tool_name == "dsrdump"
        else "PATH"
    )
    reason = f"independent checker {tool_name!r} is not installed (looked in {where}); run `make peers`"
    if os.environ.get("DICOMAI_REQUIRE_PEERS") == "1":
        pytest.fail(f"{reason} [DICOMAI_REQUIRE_PEERS=1]", pytrace=False)
    pytest.skip(reason)
    raise AssertionError("unreachable")  # pragma: no cover


# ------------------------------------------------------------------------------------------ running


@dataclass
class Result:
    """What a validator said: its Error and Warning lines, and everything it printed."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    output: str = ""
    returncode: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def __str__(self) -> str:
        return self.output


def _tool(name: str) -> Path:
    path = tool_path(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed in {peers_home()}; run `make peers`")
    return path


def _run(cmd: Sequence[PathLike], *, env: dict | None = None, cwd: PathLike | None = None):
    cmd = [str(c) for c in cmd]
    try:
        return subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=TIMEOUT_S,
            env=env,
            cwd=cwd,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RuntimeError(f"could not run {' '.join(cmd)}: {e}") from e


def _output(proc) -> str:
    return (proc.stdout or "") + (proc.stderr or "")


def _fail(what: str, proc, extra: str = "") -> RuntimeError:
    return RuntimeError(
        f"{what} failed (exit {proc.returncode}){extra}\n$ {' '.join(map(str, proc.args))}\n{_output(proc)}"
    )


def _messages(output: str) -> tuple[list[str], list[str]]:
    errors = [ln.strip() for ln in output.splitlines() if ln.lstrip().startswith("Error")]
    warnings = [ln.strip() for ln in output.splitlines() if ln.lstrip().startswith("Warning")]
    return errors, warnings


def _transfer_syntax(path: PathLike) -> str | None:
    from pydicom.filereader import read_file_meta_info

    try:
        return str(read_file_meta_info(path).get("TransferSyntaxUID", "")) or None
    except Exception:
        return None


def _inflated_copy(path: PathLike, tmpdir: str) -> Path:
    """Deflated Explicit VR -> Explicit VR Little Endian copy (dciodvfy cannot read deflate)."""
    import pydicom
    from pydicom.uid import ExplicitVRLittleEndian

    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    out = Path(tmpdir) / (Path(path).name + ".inflated.dcm")
    ds.save_as(out, enforce_file_format=True)
    return out


# ------------------------------------------------------------------------------------------ dicom3tools


def dciodvfy(path: PathLike) -> Result:
    """Validate one file against its IOD (dicom3tools dciodvfy)."""
    exe = _tool("dciodvfy")
    with tempfile.TemporaryDirectory(prefix="dciodvfy-") as tmp:
        target = Path(path)
        note = ""
        if _transfer_syntax(path) == DEFLATED_EXPLICIT_VR:
            target = _inflated_copy(path, tmp)
            note = f"(validated an inflated copy of {path})\n"
        proc = _run([exe, target])
    out = note + _output(proc)
    errors, warnings = _messages(out)
    if proc.returncode != 0 and not errors:
        raise _fail("dciodvfy", proc, " without reporting an Error line")
    return Result(errors, warnings, out, proc.returncode)


def dcentvfy(paths: Iterable[PathLike]) -> Result:
    """Check entity consistency (patient/study/series/frame of reference, references) across files."""
    exe = _tool("dcentvfy")
    files = [Path(p) for p in paths]
    if not files:
        raise ValueError("dcentvfy needs at least one file")
    with tempfile.TemporaryDirectory(prefix="dcentvfy-") as tmp:
        args = [_inflated_copy(f, tmp) if _transfer_syntax(f) == DEFLATED_EXPLICIT_VR else f for f in files]
        proc = _run([exe, *args])
    out = _output(proc)
    errors, warnings = _messages(out)
    if proc.returncode != 0 and not errors:
        raise _fail("dcentvfy", proc, " without reporting an Error line")
    return Result(errors, warnings, out, proc.returncode)


# ------------------------------------------------------------------------------------------ dcmqi


def segimage2itkimage(seg_path: PathLike, out_dir: PathLike) -> list[Path]:
    """DICOM SEG -> one NRRD per segment group (dcmqi). Returns the NRRDs (by number) + meta JSON last."""
    exe = _tool("segimage2itkimage")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.iterdir())
    proc = _run([exe, "--inputDICOM", seg_path, "--outputDirectory", out, "-t", "nrrd"])
    if proc.returncode != 0:
        raise _fail("segimage2itkimage", proc)
    new = sorted(set(out.iterdir()) - before) or sorted(out.iterdir())
    nrrds = sorted(
        (p for p in new if p.suffix == ".nrrd"),
        key=lambda p: (0, int(p.stem), "") if p.stem.isdigit() else (1, 0, p.name),
    )
    metas = [p for p in new if p.suffix == ".json"]
    if not nrrds or not metas:
        raise _fail("segimage2itkimage", proc, f": expected NRRDs and a meta JSON in {out}, got {new}")
    return [*nrrds, *metas]


def itkimage2segimage(
    labelmap_nrrd: PathLike | Sequence[PathLike],
    source_dir: PathLike,
    metadata_json: PathLike,
    out_path: PathLike,
    extra_args: Sequence[str] = (),
) -> Path:
    """Labelmap image(s) + source DICOM folder + dcmqi metadata JSON -> DICOM SEG (dcmqi)."""
    exe = _tool("itkimage2segimage")
    images = [labelmap_nrrd] if isinstance(labelmap_nrrd, (str, os.PathLike)) else list(labelmap_nrrd)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    proc = _run(
        [
            exe,
            "--inputImageList",
            ",".join(str(p) for p in images),
            "--inputDICOMDirectory",
            source_dir,
            "--inputMetadata",
            metadata_json,
            "--outputDICOM",
            out,
            *extra_args,
        ]
    )
    if proc.returncode != 0 or not out.is_file():
        raise _fail("itkimage2segimage", proc)
    return out


def tid1500reader(sr_path: PathLike) -> dict:
    """TID 1500 SR -> dcmqi's measurement JSON, as a dict."""
    exe = _tool("tid1500reader")
    with tempfile.TemporaryDirectory(prefix="tid1500reader-") as tmp:
        out = Path(tmp) / "sr.json"
        proc = _run([exe, "--inputDICOM", sr_path, "--outputMetadata", out])
        if proc.returncode != 0 or not out.is_file():
            raise _fail("tid1500reader", proc)
        try:
            return json.loads(out.read_text())
        except ValueError as e:
            raise _fail("tid1500reader", proc, f": output is not JSON ({e})") from e


def tid1500writer(
    metadata_json: PathLike, image_dir: PathLike, composite_dir: PathLike, out_path: PathLike
) -> Path:
    """dcmqi measurement JSON + image library folder + SEG folder -> TID 1500 SR (dcmqi)."""
    exe = _tool("tid1500writer")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    proc = _run(
        [
            exe,
            "--inputMetadata",
            metadata_json,
            "--inputImageLibraryDirectory",
            image_dir,
            "--inputCompositeContextDirectory",
            composite_dir,
            "--outputDICOM",
            out,
        ]
    )
    if proc.returncode != 0 or not out.is_file():
        raise _fail("tid1500writer", proc)
    return out


# ------------------------------------------------------------------------------------------ dcmjs


def dcmjs_read(path: PathLike, sources: Iterable[PathLike] = (), *, check: bool = True) -> dict:
    """Read a SEG/SR with dcmjs (Testing/peers/read_dicom.mjs); see that file for the JSON fields.

    With ``check`` (the default) a parse error or an inconsistency the reader found raises
    AssertionError; pass ``check=False`` to get the JSON (with its ``problems``) anyway.
    """
    _tool("dcmjs")
    node = shutil.which("node")
    env = dict(os.environ, DICOMAI_PEERS_HOME=str(peers_home()))
    proc = _run([node, READ_DICOM_MJS, path, *sources], env=env)
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        raise _fail("read_dicom.mjs", proc, ": no JSON on stdout") from None
    if proc.returncode not in (0, 1):
        raise _fail("read_dicom.mjs", proc)
    data["exitCode"] = proc.returncode
    if check and proc.returncode != 0:
        raise AssertionError(
            f"dcmjs reader found problems in {path}: {data.get('problems')}\n{json.dumps(data, indent=1)}"
            f"\n{proc.stderr}"
        )
    return data


# ------------------------------------------------------------------------------------------ DCMTK


def dsrdump(path: PathLike, *args: str) -> tuple[bool, str]:
    """Dump an SR with DCMTK's dsrdump. ok = exit 0 and no E:/F: lines."""
    exe = _tool("dsrdump")
    proc = _run([exe, *args, path])
    out = _output(proc)
    bad = [ln for ln in out.splitlines() if ln.startswith(("E:", "F:"))]
    return proc.returncode == 0 and not bad, out


__all__ = [
    "Result",
    "VENV_TOOLS",
    "dcentvfy",
    "dciodvfy",
    "dcmjs_read",
    "dsrdump",
    "have",
    "itkimage2segimage",
    "peers_home",
    "require",
    "segimage2itkimage",
    "tid1500reader",
    "tid1500writer",
    "tool_path",
]
