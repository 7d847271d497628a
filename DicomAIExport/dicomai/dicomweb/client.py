"""A connection to one DICOMweb server: credentials, TLS, timeouts and one-line errors.

Requests go through dicomweb-client (an optional extra: ``pip install dicomai[dicomweb]``),
imported only when a server is contacted. Credentials come from environment variables named on
the command line, or from a netrc file; they are never printed, logged or stored.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlsplit

from ..errors import DicomAIError, InputError

__all__ = ["Connection", "Credentials", "DicomWebError", "connect", "describe_failure"]


class DicomWebError(DicomAIError):
    """A DICOMweb server could not be reached, refused a request or answered something unusable."""


@dataclass(frozen=True)
class Credentials:
    """Where the secret comes from (names only: the values are read when connecting).

    Parameters
    ----------
    user:
        User name for HTTP Basic authentication (with ``password_env``).
    password_env:
        Name of the environment variable holding the password.
    token_env:
        Name of the environment variable holding a bearer token.
    netrc:
        A netrc-style file to look the server's host up in (default: requests' own ~/.netrc).
    """

    user: Optional[str] = None
    password_env: Optional[str] = None
    token_env: Optional[str] = None
    netrc: Optional[str] = None

    def auth_for(self, url: str):
        """A requests ``auth`` value, or ``None`` for requests' defaults (which read ~/.netrc)."""
        if self.token_env:
            if self.user or self.password_env:
                raise InputError("give either --token-env or --user/--password-env, not both")
            token = _secret(self.token_env, "--token-env")
            return _Bearer(token)
        if self.password_env and not self.user:
            raise InputError("--password-env needs --user (the user name)")
        if self.user:
            if not self.password_env:
                raise InputError(
                    f"--user {self.user} needs --password-env VAR (the name of the environment "
                    "variable that holds the password; passwords are never taken on the command line)"
                )
            return (self.user, _secret(self.password_env, "--password-env"))
        if self.netrc:
            import netrc as _netrc

            host = urlsplit(url).hostname or ""
            try:
                entry = _netrc.netrc(self.netrc).authenticators(host)
            except (OSError, _netrc.NetrcParseError) as e:
                raise InputError(f"cannot read the netrc file {self.netrc!r}: {type(e).__name__}") from e
            if entry is None:
                raise InputError(f"the netrc file {self.netrc!r} has no entry for host {host!r}")
            return (entry[0] or "", entry[2] or "")
        return None


def _secret(var: str, option: str) -> str:
    value = os.environ.get(var)
    if not value:
        raise InputError(f"{option} {var}: the environment variable {var} is not set or empty")
    return value


class _Bearer:
    """requests auth adding ``Authorization: Bearer`` (kept out of repr and error messages)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "<bearer token>"


@dataclass
class Connection:
    """A dicomweb-client ``DICOMwebClient`` for ``url`` plus what error messages need."""

    url: str
    client: object

    def call(self, what: str, fn, *args, **kwargs):
        """Run one request; translate every failure into a one-line :class:`DicomWebError`."""
        try:
            return fn(*args, **kwargs)
        except DicomAIError:
            raise
        except Exception as e:
            raise DicomWebError(describe_failure(e, self.url, what)) from None

    def search(self, what: str, method: str, **kwargs) -> list:
        """A QIDO-RS search, every page of it (``offset`` paging), checked to be DICOM JSON.

        Stops when a page is empty or repeats what was seen (a server that ignores ``offset``).
        """
        fn = getattr(self.client, method)
        results: list = []
        seen: set = set()
        offset = 0
        for _page in range(10000):
            page = self.call(what, fn, offset=offset, **kwargs)
            if not isinstance(page, list) or any(not isinstance(item, dict) for item in page):
                raise DicomWebError(
                    f"{what} at {self.url}: the answer is not DICOM JSON; check that the URL is the "
                    "server's DICOMweb root (for Orthanc: http://host:8042/dicom-web)"
                )
            keys = [repr(sorted((k, repr(v)) for k, v in item.items())) for item in page]
            fresh = [item for item, k in zip(page, keys) if k not in seen]
            if not fresh:
                break
            seen.update(keys)
            results.extend(fresh)
            offset += len(page)
        return results


def connect(
    url: str,
    credentials: Optional[Credentials] = None,
    insecure: bool = False,
    timeout: float = 30.0,
) -> Connection:
    """Open a session to the DICOMweb root ``url`` (for example ``https://pacs/dicom-web``).

    Certificates are verified unless ``insecure`` (which warns). dicomweb-client's own retries
    are turned off: :mod:`dicomai.dicomweb.store` retries whole STOW batches itself.
    """
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{url!r} is not a DICOMweb URL: give http(s)://host[:port]/path")
    if parts.username or parts.password:
        raise InputError(
            "credentials in the URL are not accepted (they would end up in logs): use --user with "
            "--password-env, --token-env or --netrc"
        )
    try:
        import requests
        from dicomweb_client.api import DICOMwebClient
    except ImportError as e:
        raise DicomAIError(
            f"DICOMweb needs the dicomweb-client package ({e.name} is missing): "
            "pip install 'dicomai[dicomweb]'"
        ) from None
    session = requests.Session()
    auth = (credentials or Credentials()).auth_for(url)
    if auth is not None:
        session.auth = auth
    if insecure:
        warnings.warn(
            f"--insecure: the certificate of {parts.hostname} is not verified", UserWarning, stacklevel=2
        )
        session.verify = False
        try:
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        except ImportError:  # pragma: no cover - requests always brings urllib3
            pass
    client = DICOMwebClient(
        url.rstrip("/"), session=session, timeout=timeout, chunk_size=2**31 - 1
    )  # one request body per batch: no chunked transfer (dicomweb-client issue #42)
    client.set_http_retry_params(retry=False)
    return Connection(url.rstrip("/"), client)


_STATUS_HINTS = {
    400: "the server rejected the request as malformed (HTTP 400)",
    401: "the server asks for credentials or refused them (HTTP 401): give --user with --password-env, "
    "--token-env or --netrc",
    403: "the server refused access with these credentials (HTTP 403): ask its administrator for rights",
    404: "not found on the server (HTTP 404): check the UIDs, and that the URL is the DICOMweb root "
    "(for Orthanc: http://host:8042/dicom-web)",
    405: "the server does not allow this request (HTTP 405): is the URL a DICOMweb root?",
    409: "the server refused to store some instances (HTTP 409)",
    413: "the request is too large for the server (HTTP 413): use a smaller --batch-size",
    415: "the server does not accept this media type (HTTP 415): is the URL a DICOMweb root?",
}


def describe_failure(exc: BaseException, url: str, what: str) -> str:
    """One line saying what failed, at which server, and what the user can do."""
    import requests

    host = urlsplit(url).netloc
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        status = exc.response.status_code
        hint = _STATUS_HINTS.get(status)
        if hint is None:
            if status >= 500:
                hint = (
                    f"the server failed (HTTP {status} {exc.response.reason}); try again later or "
                    "check its log"
                )
            else:
                hint = f"the server answered HTTP {status} {exc.response.reason}"
        return f"{what} at {url}: {hint}"
    if isinstance(exc, requests.exceptions.SSLError):
        return (
            f"{what} at {url}: the TLS certificate of {host} could not be verified; fix the certificate "
            "(or, for a test server only, use --insecure)"
        )
    if isinstance(exc, requests.exceptions.Timeout):
        return f"{what} at {url}: the server did not answer in time (timeout); is it overloaded?"
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = repr(exc)
        if any(
            s in text
            for s in (
                "NameResolutionError",
                "Name or service not known",
                "nodename nor servname",
                "getaddrinfo",
            )
        ):
            return (
                f"{what} at {url}: the host name {urlsplit(url).hostname!r} is unknown (DNS): check the URL"
            )
        if "Connection refused" in text or "ConnectionRefusedError" in text:
            return f"{what} at {url}: connection refused: no server is listening at {host} (is it running?)"
        if "RemoteDisconnected" in text or "Connection aborted" in text or "reset by peer" in text:
            return f"{what} at {url}: the server closed the connection (did it stop?)"
        return f"{what} at {url}: cannot connect to {host}: {type(exc).__name__}"
    if isinstance(exc, (ValueError, KeyError, TypeError)) or type(exc).__name__ == "JSONDecodeError":
        return (
            f"{what} at {url}: the answer is not DICOMweb ({type(exc).__name__}); check that the URL is "
            "the server's DICOMweb root"
        )
    return f"{what} at {url}: {type(exc).__name__}"
