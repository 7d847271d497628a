#!/usr/bin/env bash
# install_peers.sh — install the independent DICOM checkers ("peers") that the tests use to judge
# the project's output. None of them is written by this project.
#
#   $DICOMAI_PEERS_HOME (default ${XDG_CACHE_HOME:-$HOME/.cache}/dicomai-peers), outside the repo:
#     venv/  dicom3tools (dciodvfy, dcentvfy), dcmqi (itkimage2segimage, segimage2itkimage,
#            tid1500writer, tid1500reader), highdicom + pydicom for helper scripts
#     js/    dcmjs, @cornerstonejs/adapters, @babel/runtime (read by Testing/peers/read_dicom.mjs)
#   DCMTK (dsrdump) from Debian apt when running as root and dsrdump is missing.
#
# Idempotent: each part writes a stamp file holding its pin list and is skipped when the stamp
# matches, so a second run takes well under a second. Change a pin below and the part reinstalls.
# Needs: python3 (with venv), node + npm. Env: PYTHON (default python3), DICOMAI_PEERS_HOME.
set -euo pipefail

PEERS_HOME="${DICOMAI_PEERS_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/dicomai-peers}"
PYTHON="${PYTHON:-python3}"

# ---- pins (bump STAMP_VERSION when the layout changes without a pin change) -------------------
STAMP_VERSION=1
PY_PINS=(
  dicom3tools==20260927
  dcmqi==1.5.7
  highdicom==0.28.2
  pydicom==3.0.2
  numpy==2.4.6
  pillow==13.0.0
  pyjpegls==1.5.1
  typing_extensions==4.16.0
  packaging==26.3
)
JS_PINS=(
  dcmjs@0.52.2
  @cornerstonejs/adapters@5.14.0
  @babel/runtime@8.1.2
)
VENV_TOOLS=(dciodvfy dcentvfy itkimage2segimage segimage2itkimage tid1500writer tid1500reader)

log() { echo "install_peers: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$PEERS_HOME"
PEERS_HOME="$(cd "$PEERS_HOME" && pwd)"

# one installer at a time per cache (parallel `make test` runs share it)
if command -v flock >/dev/null 2>&1; then
  exec 9>"$PEERS_HOME/.install.lock"
  flock 9
fi

# ---- python tools ----------------------------------------------------------------------------
venv_key="v$STAMP_VERSION ${PY_PINS[*]}"
venv_stamp="$PEERS_HOME/venv/.dicomai-peers-stamp"
venv_ok() {
  [ -f "$venv_stamp" ] && [ "$(cat "$venv_stamp")" = "$venv_key" ] || return 1
  local t
  for t in "${VENV_TOOLS[@]}"; do [ -x "$PEERS_HOME/venv/bin/$t" ] || return 1; done
}
if venv_ok; then
  log "venv up to date ($PEERS_HOME/venv)"
else
  log "installing python tools into $PEERS_HOME/venv: ${PY_PINS[*]}"
  if ! "$PEERS_HOME/venv/bin/python" -c '' >/dev/null 2>&1; then
    "$PYTHON" -m venv "$PEERS_HOME/venv" || die "could not create a venv with $PYTHON"
  fi
  rm -f "$venv_stamp"
  pip_log="$PEERS_HOME/venv/pip-install.log"
  if ! "$PEERS_HOME/venv/bin/python" -m pip install -q --disable-pip-version-check "${PY_PINS[@]}" \
      >"$pip_log" 2>&1; then
    cat "$pip_log" >&2
    die "pip install failed (log: $pip_log)"
  fi
  for t in "${VENV_TOOLS[@]}"; do
    [ -x "$PEERS_HOME/venv/bin/$t" ] || die "$t missing from $PEERS_HOME/venv/bin after install"
  done
  printf '%s\n' "$venv_key" >"$venv_stamp"
fi

# ---- javascript readers ----------------------------------------------------------------------
js_key="v$STAMP_VERSION ${JS_PINS[*]}"
js_dir="$PEERS_HOME/js"
js_stamp="$js_dir/.dicomai-peers-stamp"
js_ok() {
  [ -f "$js_stamp" ] && [ "$(cat "$js_stamp")" = "$js_key" ] \
    && [ -f "$js_dir/node_modules/dcmjs/package.json" ] \
    && [ -f "$js_dir/node_modules/@cornerstonejs/adapters/package.json" ]
}
if js_ok; then
  log "js up to date ($js_dir)"
else
  command -v node >/dev/null 2>&1 || die "node is required (Node.js 18+)"
  command -v npm >/dev/null 2>&1 || die "npm is required"
  log "installing js readers into $js_dir: ${JS_PINS[*]}"
  mkdir -p "$js_dir"
  rm -f "$js_stamp"
  # package.json with exact versions, written from JS_PINS ("name@version", scoped names too)
  deps=""
  for p in "${JS_PINS[@]}"; do
    name="${p%@*}" version="${p##*@}"
    deps="${deps:+$deps,
}    \"$name\": \"$version\""
  done
  cat >"$js_dir/package.json" <<EOF
{
  "name": "dicomai-peers-js",
  "private": true,
  "description": "independent DICOM readers for DicomAIExtension tests (written by scripts/install_peers.sh)",
  "dependencies": {
$deps
  }
}
EOF
  (cd "$js_dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null) \
    || die "npm install failed in $js_dir"
  (cd "$js_dir" && node -e "require('dcmjs'); require.resolve('@cornerstonejs/adapters')") \
    || die "dcmjs does not load from $js_dir/node_modules"
  printf '%s\n' "$js_key" >"$js_stamp"
fi

# ---- DCMTK (dsrdump), Debian only -------------------------------------------------------------
if command -v dsrdump >/dev/null 2>&1; then
  log "dsrdump found ($(command -v dsrdump))"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  log "installing dcmtk (dsrdump) with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q dcmtk >/dev/null 2>&1; then
    apt-get update -q >/dev/null 2>&1 || true
    apt-get install -y -q dcmtk >/dev/null || log "WARNING: apt-get install dcmtk failed"
  fi
  command -v dsrdump >/dev/null 2>&1 \
    || log "WARNING: still no dsrdump on PATH; tests that need it will not run (or fail under DICOMAI_REQUIRE_PEERS=1)"
else
  log "note: dsrdump (DCMTK) not found and not root; install it with 'sudo apt-get install dcmtk'" \
      "(SR checks that need it are skipped, or fail under DICOMAI_REQUIRE_PEERS=1)"
fi

echo "peers ready in $PEERS_HOME"
