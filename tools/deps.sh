#!/bin/sh
# Installs the Debian packages snapsim needs, or names them in one line when
# it cannot (not root). Quiet when everything is present.
#   sh tools/deps.sh            the build's and the suite's packages
#   sh tools/deps.sh PKG...     these instead (make fuzz-metadata: clang, libFuzzer)
set -u
PKGS="build-essential pkg-config cppcheck librocksdb-dev libsqlite3-dev libjansson-dev libcunit1-dev libxxhash-dev lcov faketime libfaketime parallel jq"
[ $# -gt 0 ] && PKGS="$*"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "error: missing Debian packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
    exit 1
fi
echo "installing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null || {
    echo "error: apt-get could not install:$missing" >&2
    exit 1
}
