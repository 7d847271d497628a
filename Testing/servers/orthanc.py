"""A throw-away Orthanc (with its DICOMweb plugin) for tests: a real archive on 127.0.0.1.

``OrthancServer`` writes its own configuration and storage into a temporary folder, starts the
Debian ``Orthanc`` binary on a free port, waits until ``/system`` answers, and stops only the
process it started. Authentication is optional (``users={"alice": "secret"}``).

Orthanc 1.10 has no bind-address option: its HTTP socket listens on every interface, and
``RemoteAccessAllowed: false`` makes it refuse every client that is not on loopback. Tests talk to
it at ``http://127.0.0.1:PORT`` only.

Installed by ``scripts/install_servers.sh`` (``make test`` runs it). ``orthanc_or_fail()`` is what
test fixtures call: it raises (so the test fails with the reason) when Orthanc is missing, unless
``DICOMAI_SKIP_SERVERS=1`` asks to skip.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ORTHANC = "Orthanc"
PLUGIN_DIRS = ("/usr/share/orthanc/plugins", "/usr/lib/orthanc/plugins")
DICOMWEB_PLUGIN = "libOrthancDicomWeb.so"


def find_dicomweb_plugin() -> Path | None:
    for folder in PLUGIN_DIRS:
        candidate = Path(folder) / DICOMWEB_PLUGIN
        if candidate.is_file():
            return candidate
    return None


def missing_reason() -> str | None:
    """Why Orthanc cannot be started here, or None when it can."""
    if shutil.which(ORTHANC) is None:
        return "Orthanc is not installed (run `make test`, or: apt-get install orthanc orthanc-dicomweb)"
    if find_dicomweb_plugin() is None:
        return "Orthanc's DICOMweb plugin is not installed (apt-get install orthanc-dicomweb)"
    return None


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM when the test process that started it dies (even killed), so
    no Orthanc outlives an interrupted test run."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except OSError:
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OrthancServer:
    """One Orthanc process with its own storage; use as a context manager or call start()/stop()."""

    def __init__(self, users: dict[str, str] | None = None, workdir: Path | None = None) -> None:
        self.users = dict(users or {})
        self._own_dir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="dicomai-orthanc-"))
        self.port = 0
        self.process: subprocess.Popen | None = None

    # -- addresses ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dicomweb_url(self) -> str:
        return f"{self.url}/dicom-web"

    @property
    def log_path(self) -> Path:
        return self.workdir / "orthanc.log"

    # -- life cycle --------------------------------------------------------------------------
    def _config(self) -> dict:
        plugin = find_dicomweb_plugin()
        config = {
            "Name": "dicomai-test",
            "StorageDirectory": str(self.workdir / "db"),
            "IndexDirectory": str(self.workdir / "db"),
            "HttpServerEnabled": True,
            "HttpPort": self.port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": bool(self.users),
            "DicomServerEnabled": False,
            "StorageCompression": False,
            "OverwriteInstances": True,
            "HttpCompressionEnabled": False,
            "StableAge": 2,
            "Plugins": [str(plugin)] if plugin else [],
            "DicomWeb": {
                "Enable": True,
                "Root": "/dicom-web/",
                "EnableWado": True,
                "WadoRoot": "/wado",
                "Ssl": False,
                "StudiesMetadata": "Full",
                "SeriesMetadata": "Full",
            },
        }
        if self.users:
            config["RegisteredUsers"] = self.users
        return config

    def start(self, timeout: float = 60.0) -> OrthancServer:
        reason = missing_reason()
        if reason:
            raise RuntimeError(reason)
        (self.workdir / "db").mkdir(parents=True, exist_ok=True)
        last_error = ""
        for _attempt in range(3):  # a free port can be taken between probing and binding
            self.port = free_port()
            config_path = self.workdir / "orthanc.json"
            config_path.write_text(json.dumps(self._config(), indent=2))
            log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
            self.process = subprocess.Popen(
                [ORTHANC, f"--logdir={self.workdir}", str(config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
            self._log = log
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    last_error = f"Orthanc exited with {self.process.returncode}; log: {self.log_path}"
                    break
                if self._answers():
                    return self
                time.sleep(0.1)
            else:
                self.stop()
                raise RuntimeError(f"Orthanc did not answer within {timeout:.0f} s; log: {self.log_path}")
            log.close()
        raise RuntimeError(last_error)

    def _auth_header(self) -> dict[str, str]:
        if not self.users:
            return {}
        user, password = next(iter(self.users.items()))
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def _answers(self) -> bool:
        request = urllib.request.Request(f"{self.url}/system", headers=self._auth_header())
        try:
            with urllib.request.urlopen(request, timeout=1.0) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        log = getattr(self, "_log", None)
        if log is not None and not log.closed:
            log.close()

    def cleanup(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> OrthancServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.cleanup()

    # -- plain REST helpers for assertions (Orthanc's own API, independent of dicomweb-client) --
    def rest(self, path: str, method: str = "GET", data: bytes | None = None):
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method, headers=self._auth_header()
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def instance_uids(self) -> set[str]:
        """SOPInstanceUIDs of every instance Orthanc holds (through its REST API, not DICOMweb)."""
        uids = set()
        for orthanc_id in self.rest("/instances"):
            tags = self.rest(f"/instances/{orthanc_id}/simplified-tags")
            uids.add(tags["SOPInstanceUID"])
        return uids

    def upload(self, path: Path) -> dict:
        """Store one Part 10 file through Orthanc's REST API (for test set-up)."""
        return self.rest("/instances", method="POST", data=Path(path).read_bytes())


def orthanc_or_fail(users: dict[str, str] | None = None) -> OrthancServer:
    """Start an Orthanc for a test; fail with the reason when it cannot run (skip only on request)."""
    reason = missing_reason()
    if reason:
        import pytest

        if os.environ.get("DICOMAI_SKIP_SERVERS") == "1":
            pytest.skip(reason)
        pytest.fail(reason + " (set DICOMAI_SKIP_SERVERS=1 to skip server tests)")
    return OrthancServer(users=users).start()
