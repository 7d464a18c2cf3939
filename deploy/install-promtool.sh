#!/usr/bin/env bash
# Puts promtool (Prometheus's rule checker, used by tests/deploy) into the venv's bin/, from Debian's `prometheus`
# package: only that binary is unpacked, so no Prometheus server is installed or started. Needs apt (root).
# Does nothing when promtool is already on PATH or in the venv.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if command -v promtool >/dev/null || [ -x "$VENV/bin/promtool" ]; then
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 777 "$work"  # apt downloads as its own user (_apt)
apt-get update -qq
(cd "$work" && apt-get download -qq prometheus)
dpkg-deb --fsys-tarfile "$work"/prometheus_*.deb | tar -xO ./usr/bin/promtool > "$work/promtool"
install -m 755 "$work/promtool" "$VENV/bin/promtool"
"$VENV/bin/promtool" --version | head -1
