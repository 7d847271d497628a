#!/usr/bin/env bash
# install_servers.sh — the real archive the tests talk to: Orthanc + its DICOMweb plugin (Debian
# packages orthanc, orthanc-dicomweb). A no-op when both are present. Installs with apt-get when
# running as root; otherwise prints the command to run. The Debian package starts a system Orthanc
# service on install (port 8042): this script stops it again; the tests start their own Orthanc on
# a free port of 127.0.0.1 with private storage (Testing/orthanc_server.py).
set -euo pipefail
missing=()
command -v Orthanc >/dev/null 2>&1 || missing+=(orthanc)
[ -f /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || missing+=(orthanc-dicomweb)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "install_servers: apt-get install ${missing[*]}" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # the package's own service is not ours: stop what the install started
  if command -v service >/dev/null 2>&1; then service orthanc stop >/dev/null 2>&1 || true; fi
else
  echo "install_servers: missing ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
