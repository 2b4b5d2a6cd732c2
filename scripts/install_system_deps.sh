#!/bin/sh
# System packages that `sepssl data` needs: the TTS engines and their voices.
# Idempotent and non-interactive; does nothing (no apt-get update) when all are present.
# Run as root. The corpus builder fetches its data packages itself (apt-get download +
# dpkg-deb -x into ~/.cache/sepssl), it never installs them.
set -eu

PACKAGES="espeak-ng flite festival festvox-us-slt-hts festvox-kallpc16k dpkg"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "system dependencies already installed"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "missing:$missing; run this script as root (sudo $0)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
echo "installed:$missing"
