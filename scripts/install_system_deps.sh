#!/usr/bin/env bash
# install_system_deps.sh — Debian libraries that slicer-core's offscreen rendering needs (EGL + Mesa).
# A no-op when they are present. Installs with apt-get when running as root; otherwise prints the
# command to run. Used by `make demo` and `make test` (the slice-view PNGs are rendered offscreen).
set -euo pipefail
missing=()
ldconfig -p 2>/dev/null | grep -q 'libEGL.so.1 ' || missing+=(libegl1)
ldconfig -p 2>/dev/null | grep -q 'libEGL_mesa.so.0 ' || missing+=(libegl-mesa0)
[ -d /usr/lib/x86_64-linux-gnu/dri ] || [ -d /usr/lib/aarch64-linux-gnu/dri ] || missing+=(libgl1-mesa-dri)
ldconfig -p 2>/dev/null | grep -q 'libGL.so.1 ' || missing+=(libgl1)
ldconfig -p 2>/dev/null | grep -q 'libXt.so.6 ' || missing+=(libxt6)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "install_system_deps: apt-get install ${missing[*]}" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "install_system_deps: missing ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
fi
