"""The real OHIF Viewer in a headless browser, over a real Orthanc, for the viewer tests.

- :func:`ohif_dist` finds the prebuilt viewer ``scripts/install_viewer.sh`` unpacked from
  ``npm pack @ohif/app@OHIF_VERSION`` (outside the repo, ``~/.cache/dicomai-viewer``).
- :class:`SameOriginProxy` serves that ``dist/`` and forwards ``/dicom-web`` and ``/wado`` to
  Orthanc on one 127.0.0.1 origin (no CORS; the Host header is kept so Orthanc's BulkDataURIs
  point back at the proxy), with the cross-origin isolation headers cornerstone needs for
  SharedArrayBuffer, and our own ``app-config.js``.
- :class:`Viewer` drives Debian's Chromium through Playwright (``executable_path``; no browser is
  ever downloaded) and reads what OHIF shows: segment rows and colours, measurement rows, the
  annotations drawn in the viewport's SVG layer, and the console.

Selectors are OHIF 3.13's ``data-cy`` attributes.
"""

from __future__ import annotations

import http.client
import mimetypes
import os
import re
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

OHIF_VERSION = os.environ.get("OHIF_VERSION", "3.13.2")
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--ignore-gpu-blocklist",
    "--disable-dev-shm-usage",
]
ERROR_BOUNDARY = re.compile(r"Error Boundary|Something went wrong", re.I)
NOT_REHYDRATABLE = "No measurements found which were rehydratable"
# skip the onboarding tour (OHIF marks tours as shown in localStorage)
INIT_SCRIPT = "try { localStorage.setItem('shownTours', JSON.stringify(['basicViewerTour'])); } catch (e) {}"

mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("application/javascript", ".js")
mimetypes.add_type("image/svg+xml", ".svg")
mimetypes.add_type("font/woff2", ".woff2")


def viewer_home() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(os.environ.get("DICOMAI_VIEWER_HOME") or Path(base) / "dicomai-viewer")


def ohif_dist() -> Path:
    return viewer_home() / f"ohif-{OHIF_VERSION}" / "dist"


def chromium() -> str | None:
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit
    for candidate in CHROMIUM_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")


def missing_reason() -> str | None:
    """Why the viewer suite cannot run here, or None."""
    if not (ohif_dist() / "index.html").is_file():
        return f"the OHIF Viewer {OHIF_VERSION} is not in {ohif_dist()} (run scripts/install_viewer.sh)"
    if chromium() is None:
        return "no Chromium (apt-get install chromium fonts-dejavu-core)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements/dev.txt)"
    return None


APP_CONFIG = """window.config = {
  name: 'dicomai-viewer-tests',
  routerBasename: '/',
  extensions: [],
  modes: [],
  customizationService: {},
  showStudyList: true,
  maxNumberOfWebWorkers: 2,
  showWarningMessageForCrossOrigin: false,
  showLoadingIndicator: true,
  strictZSpacingForVolumeViewport: true,
  maxNumRequests: { interaction: 100, thumbnail: 5, prefetch: 10 },
  investigationalUseDialog: { option: 'never' },
  showErrorDetails: 'always',
  defaultDataSourceName: 'orthanc',
  dataSources: [{
    namespace: '@ohif/extension-default.dataSourcesModule.dicomweb',
    sourceName: 'orthanc',
    configuration: {
      friendlyName: 'test Orthanc', name: 'orthanc',
      qidoRoot: '%(origin)s/dicom-web', wadoRoot: '%(origin)s/dicom-web', wadoUriRoot: '%(origin)s/wado',
      qidoSupportsIncludeField: true, supportsReject: false, imageRendering: 'wadors',
      thumbnailRendering: 'wadors', enableStudyLazyLoad: true, supportsFuzzyMatching: false,
      supportsWildcard: true, omitQuotationForMultipartRequest: true, bulkDataURI: { enabled: true },
    },
  }],
};
"""

_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
        "transfer-encoding", "upgrade"}  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    dist: Path
    orthanc: tuple
    app_config: bytes

    def log_message(self, fmt, *args):  # quiet
        pass

    def _isolation(self):
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")

    def _proxy(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
        conn = http.client.HTTPConnection(*self.orthanc, timeout=120)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except OSError as e:
            self.send_error(502, f"orthanc: {e}")
            return
        finally:
            conn.close()
        self.send_response(response.status, response.reason)
        for k, v in response.getheaders():
            if k.lower() not in _HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self._isolation()
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send(self, data: bytes, ctype: str, cache: str):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", cache)
        self._isolation()
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _static(self):
        path = unquote(urlsplit(self.path).path)
        if path == "/app-config.js":
            self._send(self.app_config, "application/javascript", "no-cache")
            return
        root = self.dist.resolve()
        full = (root / path.lstrip("/")).resolve()
        if root not in full.parents or not full.is_file():
            # SPA routes (/viewer, ...) are index.html; a missing asset is a 404
            if "." in os.path.basename(path) and not path.endswith(".html"):
                self.send_error(404)
                return
            full = root / "index.html"
        ctype = mimetypes.guess_type(str(full))[0] or "application/octet-stream"
        cache = "no-cache" if full.suffix == ".html" else "max-age=3600"
        self._send(full.read_bytes(), ctype, cache)

    def _route(self):
        if self.path.startswith(("/dicom-web", "/wado")):
            self._proxy()
        elif self.command in ("GET", "HEAD"):
            self._static()
        else:
            self.send_error(405)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _route


class SameOriginProxy:
    """The OHIF dist and Orthanc's DICOMweb on one free 127.0.0.1 port, in a thread."""

    def __init__(self, dist: Path, orthanc_port: int):
        handler = type("Handler", (_Handler,), {"dist": Path(dist), "orthanc": ("127.0.0.1", orthanc_port)})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        handler.app_config = (APP_CONFIG % {"origin": self.origin}).encode()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


ROWS_JS = """(scope) => {
  const root = scope ? document.querySelector(scope) : document;
  if (!root) return [];
  return Array.from(root.querySelectorAll('[data-cy=data-row]')).map(r => {
    const c = r.querySelector('[data-cy=data-row-colorhex]');
    const t = r.querySelector('[data-cy=data-row-title]');
    const n = Array.from(r.children).find(e => /^\\d+$/.test((e.textContent || '').trim()));
    const m = c ? getComputedStyle(c).backgroundColor.match(/\\d+(\\.\\d+)?/g) : null;
    return {number: n ? parseInt(n.textContent.trim()) : null,
            label: t ? t.textContent.trim() : null, rgb: m ? m.slice(0, 3).map(Number) : null,
            text: (r.innerText || '').replace(/\\n+/g, ' / ').trim()};
  });
}"""

SVG_JS = """() => {
  const svgs = Array.from(document.querySelectorAll('[data-cy=viewport-pane] svg.svg-layer'));
  const texts = [], uids = new Set();
  for (const s of svgs) {
    s.querySelectorAll('[data-annotation-uid]').forEach(
      e => uids.add(e.getAttribute('data-annotation-uid')));
    s.querySelectorAll('text').forEach(e => {
      const t = (e.textContent || '').trim(); if (t) texts.push(t); });
  }
  return {layers: svgs.length, uids: Array.from(uids), texts};
}"""

# the annotations cornerstone holds after a tracked (rehydrated) SR: tool, points, cached stats
ANNOTATIONS_JS = """() => {
  const cs = window.cornerstoneTools || (window.cornerstone && window.cornerstone.tools);
  const out = [];
  const m = window.services && window.services.measurementService;
  if (m) for (const x of m.getMeasurements()) out.push({source: 'measurementService', toolName: x.toolName,
      label: x.label, uid: x.uid, displayText: x.displayText, points: x.points});
  return out;
}"""


def wait_for(fn, timeout: float, step: float = 0.25):
    end = time.monotonic() + timeout
    value = fn()
    while not value and time.monotonic() < end:
        time.sleep(step)
        value = fn()
    return value


class Page:
    """One OHIF page (a fresh page per scenario; the browser context shares the HTTP cache)."""

    def __init__(self, context, origin: str):
        self.page = context.new_page()
        self.origin = origin
        self.log: list = []
        self.page.on("console", lambda m: self.log.append(f"[{m.type}] {m.text}"))
        self.page.on("pageerror", lambda e: self.log.append(f"[pageerror] {e}"))

    def logged(self, pattern: str) -> list:
        return [line for line in self.log if re.search(pattern, line)]

    def close(self):
        self.page.close()

    def open_study(self, study_uid: str):
        self.page.goto(f"{self.origin}/viewer?StudyInstanceUIDs={study_uid}", wait_until="domcontentloaded")
        self.page.wait_for_selector(
            '[data-cy="viewport-overlay-bottom-right"]:has-text("I:")', timeout=120000
        )
        skip = self.page.get_by_text("Skip all", exact=True)
        if skip.count() and skip.first.is_visible():
            skip.first.click()

    def thumbnail(self, description: str):
        label = self.page.locator('[data-cy="series-description-label"]').filter(
            has_text=re.compile("^" + re.escape(description) + "$")
        )
        return self.page.locator('[data-cy^="study-browser-thumbnail"]').filter(has=label)

    def open_series(self, description: str):
        thumb = self.thumbnail(description)
        if not wait_for(lambda: thumb.count(), 30):
            raise AssertionError(f"OHIF shows no thumbnail for series {description!r}")
        thumb.first.dblclick()

    def yes_button(self):
        y = self.page.get_by_role("button", name="Yes", exact=True)
        return y.first if y.count() and y.first.is_visible() else None

    def error_boundary(self) -> list:
        try:
            body = self.page.evaluate("() => document.body ? document.body.innerText : ''")
        except Exception as e:  # a crashed page
            return [f"page unreadable: {e}"]
        return sorted({m.group(0) for m in ERROR_BOUNDARY.finditer(body)}) + self.logged(
            ERROR_BOUNDARY.pattern
        )

    def rows(self, scope: str | None = None) -> list:
        return self.page.evaluate(ROWS_JS, scope)

    def stable_rows(self, scope: str | None, timeout: float) -> list:
        end = time.monotonic() + timeout
        seen: list = []
        while time.monotonic() < end:
            r = self.rows(scope)
            seen = (seen + [r])[-3:]
            if r and len(seen) == 3 and seen[0] == seen[1] == seen[2]:
                return r
            time.sleep(0.5)
        return seen[-1] if seen else []

    def open_panel(self, which: str, scope: str) -> bool:
        if self.page.locator(scope).count():
            return True
        button = self.page.locator(f'[data-cy="{which}-btn"]').first
        if button.count() and button.is_visible():
            button.click()
            return bool(wait_for(lambda: self.page.locator(scope).count(), 5))
        return False

    def svg(self) -> dict:
        return self.page.evaluate(SVG_JS)

    def jump_to_segment(self, label: str) -> int | None:
        """Click a segment's row; the InstanceNumber OHIF then shows (``I:<n>`` in the overlay)."""
        before = self.slice_label()
        row = self.page.locator("[data-cy=data-row]").filter(
            has=self.page.locator(
                "[data-cy=data-row-title]", has_text=re.compile("^" + re.escape(label) + "$")
            )
        )
        row.first.click()
        wait_for(lambda: self.slice_label() != before, 5)
        time.sleep(0.5)
        m = re.search(r"I:\s*(\d+)", self.slice_label())
        return int(m.group(1)) if m else None

    def slice_label(self) -> str:
        loc = self.page.locator('[data-cy="viewport-overlay-bottom-right"]')
        return " ".join(t.strip() for t in loc.all_inner_texts() if t.strip())

    def screenshot(self, path: Path):
        try:
            self.page.screenshot(path=str(path))
        except Exception:  # noqa: S110 - a crashed page has no picture; the log says why
            pass

    # -- scenarios -----------------------------------------------------------------------
    def load_seg(self, study_uid: str, description: str) -> list:
        """Open the SEG, answer OHIF's prompt, return the segment rows once stable."""
        self.open_study(study_uid)
        self.open_series(description)
        yes = wait_for(self.yes_button, 45)
        if yes:
            yes.click()
        time.sleep(1)
        if not self.page.locator('[data-cy="segmentation-select"], [data-cy=data-row]').count():
            button = self.page.locator('[data-cy="panelSegmentation-btn"]').first
            if button.count() and button.is_visible():
                button.click()
        wait_for(lambda: self.rows() or self.error_boundary(), 60)
        return self.stable_rows(None, 15)

    def load_sr(self, study_uid: str, description: str, track: bool = True) -> dict:
        """Open the SR; when OHIF offers to track (rehydrate) it, answer Yes when ``track``."""
        self.open_study(study_uid)
        self.open_series(description)
        wait_for(
            lambda: self.yes_button() or self.error_boundary() or self.logged(re.escape(NOT_REHYDRATABLE)), 45
        )
        offered = self.yes_button() is not None
        if offered and track:
            self.yes_button().click()
        wait_for(self.error_boundary, 5)
        svg = wait_for(lambda: self.svg()["uids"] and self.svg(), 20) or self.svg()
        scope = '[data-cy="trackedMeasurements-panel"]'
        self.open_panel("trackedMeasurements", scope)
        rows = self.stable_rows(scope, 10)
        return {"offered": offered, "svg": svg, "rows": rows}
