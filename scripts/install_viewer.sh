#!/usr/bin/env bash
# install_viewer.sh — what Testing/viewer needs besides the venv (playwright is pinned in
# requirements/dev.txt and drives the system browser; no browser is downloaded):
#   Debian chromium + fonts-dejavu-core (apt-get when root and missing)
#   the prebuilt OHIF Viewer: `npm pack @ohif/app@$OHIF_VERSION`, its dist/ unpacked into
#   $DICOMAI_VIEWER_HOME/ohif-$OHIF_VERSION (default ${XDG_CACHE_HOME:-~/.cache}/dicomai-viewer),
#   outside the repo. A fast no-op when everything is there. Env: DICOMAI_VIEWER_HOME, OHIF_VERSION.
set -euo pipefail
OHIF_VERSION="${OHIF_VERSION:-3.13.2}"
HOME_DIR="${DICOMAI_VIEWER_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/dicomai-viewer}"
DEST="$HOME_DIR/ohif-$OHIF_VERSION"
log() { echo "install_viewer: $*" >&2; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in chromium fonts-dejavu-core; do installed "$p" || missing+=("$p"); done
elif [ ! -x /usr/lib/chromium/chromium ] && ! command -v chromium >/dev/null 2>&1; then
  missing+=(chromium)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "apt-get install ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    log "missing ${missing[*]}; run: sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
fi

[ -f "$DEST/dist/index.html" ] && exit 0
command -v npm >/dev/null 2>&1 || { log "npm is required to fetch @ohif/app@$OHIF_VERSION"; exit 1; }
mkdir -p "$HOME_DIR/npm"
TGZ="$HOME_DIR/npm/ohif-app-$OHIF_VERSION.tgz"
if [ ! -f "$TGZ" ]; then
  log "npm pack @ohif/app@$OHIF_VERSION"
  # always name the version: a bare `npm pack @ohif/app` gives whatever "latest" is tagged
  (cd "$HOME_DIR/npm" && npm pack --silent --loglevel=error "@ohif/app@$OHIF_VERSION" >/dev/null)
fi
got=$(tar xzf "$TGZ" -O package/package.json | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
if [ "$got" != "$OHIF_VERSION" ]; then log "$TGZ holds @ohif/app $got, not $OHIF_VERSION"; exit 1; fi
tmp="$(mktemp -d "$HOME_DIR/.unpack.XXXXXX")"
tar xzf "$TGZ" -C "$tmp" --strip-components=1 package/dist package/package.json
rm -rf "$DEST"
mv "$tmp" "$DEST"
log "OHIF Viewer $OHIF_VERSION in $DEST"
