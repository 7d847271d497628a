"""What a user sees when the server refuses, stops, lies or is not a DICOMweb server.

Real Orthancs everywhere, except one tiny local stand-in that answers 200 to everything and
stores nothing (the case of dicomweb-client's issue #42 that no honest server reproduces).
"""

from __future__ import annotations

import http.server
import json
import threading

import pydicom
import pytest

from dicomai.cli import main as cli
from dicomai.dicomweb import Credentials, SendOptions, connect, format_send_report, send_files
from servers.orthanc import OrthancServer, orthanc_or_fail

PASSWORD = "s3cret-Pa55"


def _one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture(scope="module")
def auth_server():
    s = orthanc_or_fail(users={"alice": PASSWORD})
    yield s
    s.cleanup()


def test_without_credentials_a_protected_server_gives_one_line_401(auth_server, case, capsys, monkeypatch):
    status = cli(["send", str(case.seg), "--url", auth_server.dicomweb_url])
    assert status == 1
    captured = capsys.readouterr()
    assert "HTTP 401" in captured.out + captured.err
    assert "0/1 instance(s) verified" in captured.out
    assert auth_server.instance_uids() == set()

    status = cli(["query", "--url", auth_server.dicomweb_url])
    assert status == 1
    line = _one_line_error(capsys.readouterr().err)
    assert line.startswith("dicomai query: error:") and "HTTP 401" in line and "--password-env" in line


def test_a_wrong_password_gives_the_same_401_and_is_never_printed(auth_server, case, capsys, monkeypatch):
    monkeypatch.setenv("PACS_PASSWORD", "not-" + PASSWORD)
    status = cli(
        ["query", "--url", auth_server.dicomweb_url, "--user", "alice", "--password-env", "PACS_PASSWORD"]
    )
    assert status == 1
    captured = capsys.readouterr()
    line = _one_line_error(captured.err)
    assert "HTTP 401" in line
    assert "not-" + PASSWORD not in captured.out + captured.err

    status = cli(["send", str(case.seg), "--url", auth_server.dicomweb_url, "--user", "alice",
                  "--password-env", "PACS_PASSWORD", "--debug"])  # fmt: skip
    assert status == 1
    captured = capsys.readouterr()
    assert "HTTP 401" in captured.out
    assert PASSWORD not in captured.out + captured.err
    assert auth_server.instance_uids() == set()


def test_the_right_credentials_store_query_and_retrieve(auth_server, case, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PACS_PASSWORD", PASSWORD)
    creds = ["--user", "alice", "--password-env", "PACS_PASSWORD"]
    assert cli(["send", str(case.seg), "--url", auth_server.dicomweb_url, *creds]) == 0
    seg_uid = str(pydicom.dcmread(str(case.seg), stop_before_pixels=True).SOPInstanceUID)
    assert auth_server.instance_uids() == {seg_uid}
    capsys.readouterr()
    assert cli(["query", "--url", auth_server.dicomweb_url, "--modality", "SEG", "--json", *creds]) == 0
    assert [r["modality"] for r in json.loads(capsys.readouterr().out)] == ["SEG"]
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login alice password {PASSWORD}\n")
    assert cli(["retrieve", "--url", auth_server.dicomweb_url, "--study", case.series.study_instance_uid,
                "--out", str(tmp_path / "r"), "--netrc", str(netrc)]) == 0  # fmt: skip
    assert [p.stem for p in (tmp_path / "r").rglob("*.dcm")] == [seg_uid]
    assert PASSWORD not in capsys.readouterr().out


def test_a_password_env_that_is_not_set_is_named(case, capsys, monkeypatch):
    monkeypatch.delenv("NO_SUCH_PASSWORD_VAR", raising=False)
    status = cli(["query", "--url", "http://127.0.0.1:9/dicom-web", "--user", "u", "--password-env",
                  "NO_SUCH_PASSWORD_VAR"])  # fmt: skip
    assert status == 1
    assert "NO_SUCH_PASSWORD_VAR" in _one_line_error(capsys.readouterr().err)


def test_credentials_in_the_url_are_refused(capsys):
    assert cli(["query", "--url", "http://alice:pw@127.0.0.1:9/dicom-web"]) == 1
    line = _one_line_error(capsys.readouterr().err)
    assert "credentials in the URL" in line and "pw@" not in line


def test_a_stopped_server_gives_connection_refused(case, capsys):
    server = orthanc_or_fail()
    url = server.dicomweb_url
    server.cleanup()
    assert cli(["query", "--url", url]) == 1
    assert "connection refused" in _one_line_error(capsys.readouterr().err)
    assert cli(["send", str(case.seg), "--url", url, "--retries", "1"]) == 1
    captured = capsys.readouterr()
    assert "connection refused" in captured.err
    assert "0/1 instance(s) verified" in captured.out


def test_a_server_that_is_not_dicomweb_is_named_so(case, capsys):
    with OrthancServer() as server:
        server.upload(case.seg)  # Orthanc's REST /series now lists an id (a string), not DICOM JSON
        assert cli(["query", "--url", server.url]) == 1  # Orthanc's REST root, not its DICOMweb root
        line = _one_line_error(capsys.readouterr().err)
        assert "not DICOM JSON" in line and "DICOMweb root" in line
        assert cli(["send", str(case.seg), "--url", server.url + "/app"]) == 1
        captured = capsys.readouterr()
        assert "0/1 instance(s) verified" in captured.out
        assert len(server.instance_uids()) == 1


def test_server_stopped_mid_run_lists_exactly_what_was_stored(case, tmp_path):
    server = orthanc_or_fail()
    workdir = server.workdir
    try:
        conn = connect(server.dicomweb_url, Credentials())

        def stop_after_first_batch(done, total):
            if done == 4:
                server.stop()

        report = send_files(
            conn,
            [case.ct],
            SendOptions(batch_size=4, retries=1, backoff=0.01),
            progress=stop_after_first_batch,
        )
        assert not report.ok
        assert "connection refused" in report.error
        assert report.verified == set()
        assert len(report.acknowledged) == 4
        text = format_send_report(report)
        assert "0/12 instance(s) verified" in text and "stopped: " in text
        acknowledged = {line.split()[1] for line in text.splitlines() if "acknowledged by the server" in line}
        not_sent = {line.split()[1] for line in text.splitlines() if "not sent" in line}
        assert acknowledged == report.acknowledged and len(not_sent) == 8
        # the same storage, read by a new Orthanc: exactly the acknowledged instances are there
        again = OrthancServer(workdir=workdir).start()
        try:
            assert again.instance_uids() == report.acknowledged
        finally:
            again.stop()
    finally:
        server.stop()
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)


class _AcceptsEverything(http.server.BaseHTTPRequestHandler):
    """Answers 200 to every STOW and an empty list to every QIDO, and stores nothing."""

    def do_POST(self):  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/dicom+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802
        body = b"[]"
        self.send_response(200)
        self.send_header("Content-Type", "application/dicom+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_server_that_answers_200_and_stores_nothing_fails_the_send(case, capsys):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AcceptsEverything)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/dicom-web"
        status = cli(["send", str(case.seg), str(case.sr), "--url", url])
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert status == 1
    captured = capsys.readouterr()
    for path in (case.seg, case.sr):
        uid = str(pydicom.dcmread(str(path), stop_before_pixels=True).SOPInstanceUID)
        assert (
            f"missing {uid} ({path.name}): the server answered 'stored' but does not have it" in captured.out
        )
    assert "0/2 instance(s) verified" in captured.out
    assert _one_line_error(captured.err).startswith("dicomai send: error: 2 of 2 instance(s) not verified")


class _DropsStructuredReports(OrthancServer):
    """A real Orthanc whose Lua ReceivedInstanceFilter discards every SR it receives: its DICOMweb
    plugin still acknowledges them in the STOW response (ReferencedSOPSequence, no failure)."""

    def _config(self) -> dict:
        script = self.workdir / "drop-sr.lua"
        script.write_text(
            "function ReceivedInstanceFilter(dicom, origin, info)\n  return dicom.Modality ~= 'SR'\nend\n"
        )
        return {**super()._config(), "LuaScripts": [str(script)]}


def test_a_real_server_that_acknowledges_and_discards_is_caught_by_verification(case, capsys):
    orthanc_or_fail().cleanup()  # fails (or skips on request) with the reason when Orthanc is missing
    with _DropsStructuredReports() as server:
        status = cli(["send", str(case.seg), str(case.sr), "--url", server.dicomweb_url])
        captured = capsys.readouterr()
        seg_uid = str(pydicom.dcmread(str(case.seg), stop_before_pixels=True).SOPInstanceUID)
        assert server.instance_uids() == {seg_uid}
    assert status == 1
    sr_uid = str(pydicom.dcmread(str(case.sr), stop_before_pixels=True).SOPInstanceUID)
    expected = f"missing {sr_uid} (organs.sr.dcm): the server answered 'stored' but does not have it"
    assert expected in captured.out
    assert "1/1 instance(s) stored and verified" in captured.out  # the SEG
    assert "1/2 instance(s) verified" in captured.out


def test_failure_reasons_of_a_stow_response_are_reported_per_instance():
    from pydicom.dataset import Dataset

    from dicomai.dicomweb.store import _failed_items

    failed = Dataset()
    failed.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    failed.ReferencedSOPInstanceUID = "1.2.3.4"
    failed.FailureReason = 0xA700
    response = Dataset()
    response.FailedSOPSequence = [failed]
    assert _failed_items(response) == {"1.2.3.4": "rejected by the server (failure reason 0xA700)"}
