"""The test archive itself: a real Orthanc on a free loopback port, with and without authentication.

Other suites (DICOMweb, OHIF, batch) build on this, so it is checked on its own first: it starts,
accepts a real CT series, answers DICOMweb QIDO/WADO with what it holds (through dicomweb-client,
not through our code), refuses unauthenticated clients when users are set, and stops only its own
process.
"""

from __future__ import annotations

import numpy as np
import pytest

import dicomai_samples as samples
from servers.orthanc import OrthancServer, orthanc_or_fail


@pytest.fixture(scope="module")
def ct_series(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ct")
    grid = samples.make_grid(shape=(3, 16, 16))
    volume = np.arange(np.prod(grid.shape), dtype=np.int16).reshape(grid.shape)
    return samples.write_series(folder, volume, grid, uid_seed="orthanc-fixture")


def test_orthanc_starts_stores_and_answers_dicomweb(ct_series):
    from dicomweb_client.api import DICOMwebClient

    server = orthanc_or_fail()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        for path in ct_series.files:
            server.upload(path)
        assert server.instance_uids() == set(ct_series.sop_instance_uids)

        client = DICOMwebClient(server.dicomweb_url)
        studies = client.search_for_studies()
        assert [s["0020000D"]["Value"][0] for s in studies] == [ct_series.study_instance_uid]
        metadata = client.retrieve_series_metadata(
            ct_series.study_instance_uid, ct_series.series_instance_uid
        )
        assert {m["00080018"]["Value"][0] for m in metadata} == set(ct_series.sop_instance_uids)
        first = client.retrieve_instance(
            ct_series.study_instance_uid, ct_series.series_instance_uid, ct_series.sop_instance_uids[0]
        )
        assert first.SOPInstanceUID == ct_series.sop_instance_uids[0]
        assert first.pixel_array.shape == (16, 16)
    finally:
        pid = server.process.pid
        server.cleanup()
    # only our process was stopped, and it is gone
    import os

    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not server.workdir.exists()


def test_orthanc_with_users_refuses_anonymous_and_accepts_credentials():
    import requests
    from dicomweb_client.api import DICOMwebClient

    server = orthanc_or_fail(users={"alice": "s3cret"})
    try:
        anonymous = requests.get(f"{server.dicomweb_url}/studies", timeout=10)
        assert anonymous.status_code == 401
        wrong = requests.get(f"{server.dicomweb_url}/studies", auth=("alice", "nope"), timeout=10)
        assert wrong.status_code == 401
        session = requests.Session()
        session.auth = ("alice", "s3cret")
        client = DICOMwebClient(server.dicomweb_url, session=session)
        assert client.search_for_studies() == []
    finally:
        server.cleanup()


def test_two_servers_run_side_by_side_with_separate_storage(ct_series):
    with OrthancServer() as a, OrthancServer() as b:
        assert a.port != b.port
        a.upload(ct_series.files[0])
        assert a.instance_uids() == {ct_series.sop_instance_uids[0]}
        assert b.instance_uids() == set()
