#!/usr/bin/env bash
# Installs the Autobahn|Testsuite fuzzing server (`wstest`) with a private Python 2.7, with
# no docker and no change to the system: Python 2.7 is unpacked from Debian bullseye
# packages fetched with `apt-get download` through private apt lists, and a pinned set of
# packages comes from PyPI. Used by `cargo xtask autobahn`.
#
#   AUTOBAHN_HOME   install directory (default: <repo>/target/autobahn/home)
#
# Re-running is cheap: a finished install leaves a stamp and is only checked.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${AUTOBAHN_HOME:-$REPO/target/autobahn/home}"
SUITE=bullseye
MIRROR="${AUTOBAHN_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY="${AUTOBAHN_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# autobahntestsuite 0.8.2 and the versions its requirements name, with their own
# dependencies, all pinned and installed without resolution so nothing drifts.
PINS="autobahntestsuite==0.8.2 autobahn==0.10.9 txaio==2.1.0 Twisted==19.10.0
zope.interface==4.6.0 incremental==16.10.1 constantly==15.1.0 Automat==22.10.0
hyperlink==21.0.0 idna==2.10 typing==3.10.0.0 attrs==21.4.0 PyHamcrest==1.10.1 six==1.16.0
pyOpenSSL==19.1.0 cryptography==3.3.2 cffi==1.15.1 pycparser==2.21 enum34==1.1.10
ipaddress==1.0.23 service-identity==18.1.0 pyasn1==0.5.1 pyasn1-modules==0.3.0
klein==17.10.0 Werkzeug==1.0.1 Jinja2==2.11.3 MarkupSafe==1.1.1 unittest2==1.1.0
traceback2==1.4.0 linecache2==1.0.0 ujson==2.0.3"
# The last pip for Python 2, bootstrapped from Debian's wheel of the same version (the
# point-release build: the security update of that package no longer runs on Python 2).
PIP_DEB="python-pip-whl=20.3.4-4+deb11u1"
BOOTSTRAP="pip==20.3.4 setuptools==44.1.1 wheel==0.37.1"
ACCEL="wsaccel==0.6.3"

STAMP_TEXT="autobahn-install/1 $(echo "$PINS $PIP_DEB $BOOTSTRAP $ACCEL" | sha256sum | cut -c1-16)"
STAMP="$PREFIX/.installed"
BIN="$PREFIX/bin"
ROOT="$PREFIX/root"

log() { echo "[autobahn/install] $*" >&2; }
fail() { echo "[autobahn/install] error: $*" >&2; exit 1; }

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$STAMP_TEXT" ] && "$BIN/wstest" --autobahnversion >/dev/null 2>&1; then
    log "already installed in $PREFIX"
    exit 0
fi

command -v apt-get >/dev/null && command -v dpkg >/dev/null || fail "needs apt-get and dpkg (Debian)"
[ -r "$KEYRING" ] || fail "missing $KEYRING (package debian-archive-keyring)"
ARCH="$(dpkg --print-architecture)"
[ "$ARCH" = amd64 ] || [ "$ARCH" = arm64 ] || fail "unsupported architecture $ARCH"
TRIPLET="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo "$(uname -m)-linux-gnu")"
rm -rf "$PREFIX"
mkdir -p "$PREFIX/apt/lists/partial" "$PREFIX/apt/cache/archives/partial" "$PREFIX/apt/parts" "$PREFIX/debs" "$BIN" "$ROOT"

log "fetching Python 2.7 from Debian $SUITE (private apt lists in $PREFIX/apt)"
printf 'deb [signed-by=%s] %s %s main\ndeb [signed-by=%s] %s %s-security main\n' \
    "$KEYRING" "$MIRROR" "$SUITE" "$KEYRING" "$SECURITY" "$SUITE" > "$PREFIX/apt/sources.list"
touch "$PREFIX/apt/preferences"
APT=(apt-get -q
     -o "Dir::Etc::sourcelist=$PREFIX/apt/sources.list" -o "Dir::Etc::sourceparts=$PREFIX/apt/parts"
     -o "Dir::Etc::preferences=$PREFIX/apt/preferences" -o "Dir::Etc::preferencesparts=$PREFIX/apt/parts"
     -o "Dir::State::Lists=$PREFIX/apt/lists" -o "Dir::Cache=$PREFIX/apt/cache"
     -o "APT::Architecture=$ARCH" -o "APT::Sandbox::User=root" -o "Acquire::Languages=none")
[ "$(id -u)" = 0 ] || APT+=(-o "Debug::NoLocking=1")
"${APT[@]}" update >/dev/null || fail "apt-get update for $SUITE failed (is the Debian mirror reachable?)"
PACKAGES=(python2.7 python2.7-minimal libpython2.7-minimal libpython2.7-stdlib libssl1.1 libffi7 "$PIP_DEB")
CC_BIN="$(command -v gcc || command -v cc || true)"
[ -z "$CC_BIN" ] || PACKAGES+=(libpython2.7-dev)
(cd "$PREFIX/debs" && "${APT[@]}" download "${PACKAGES[@]}" >/dev/null) || fail "apt-get download failed"
for deb in "$PREFIX"/debs/*.deb; do dpkg -x "$deb" "$ROOT"; done
[ -x "$ROOT/usr/bin/python2.7" ] || fail "python2.7 missing after unpacking"
# Debian points sitecustomize.py at /etc; keep the interpreter inside the prefix.
[ ! -L "$ROOT/usr/lib/python2.7/sitecustomize.py" ] || ln -sfn ../../../etc/python2.7/sitecustomize.py "$ROOT/usr/lib/python2.7/sitecustomize.py"
: > "$ROOT/etc/openssl-none.cnf"

cat > "$BIN/python2" <<WRAPPER
#!/bin/sh
# Private Python 2.7 for the Autobahn fuzzing server (written by autobahn/install.sh).
R="$ROOT"
export LD_LIBRARY_PATH="\$R/usr/lib/$TRIPLET:\$R/lib/$TRIPLET\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export OPENSSL_CONF="\$R/etc/openssl-none.cnf" PYTHONNOUSERSITE=1 PYTHONWARNINGS=ignore PIP_NO_PYTHON_VERSION_WARNING=1
unset PYTHONHOME PYTHONPATH
exec "\$R/usr/bin/python2.7" "\$@"
WRAPPER
cat > "$BIN/wstest" <<'WRAPPER'
#!/bin/sh
exec "$(dirname "$0")/python2" -c 'import sys; sys.argv[0] = "wstest"; from autobahntestsuite.wstest import run; run()' "$@"
WRAPPER
chmod +x "$BIN/python2" "$BIN/wstest"
"$BIN/python2" -c 'import ssl, ctypes, zlib, bz2, pyexpat, json' \
    || fail "the unpacked Python 2.7 cannot load its modules (a shared library of the host is missing)"

export PIP_CERT="${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}"
PIP=("$BIN/python2" -m pip --disable-pip-version-check -q --cache-dir "$PREFIX/pip-cache")
WHEEL="$(ls "$ROOT"/usr/share/python-wheels/pip-*.whl | head -n1)"
log "installing pip and the pinned Autobahn packages from PyPI"
# shellcheck disable=SC2086
"$BIN/python2" "$WHEEL/pip" install --disable-pip-version-check -q --no-warn-script-location $BOOTSTRAP \
    || fail "bootstrapping pip failed (is PyPI reachable?)"
# shellcheck disable=SC2086
"${PIP[@]}" install --no-warn-script-location --no-deps --no-build-isolation $PINS || fail "installing the pinned packages failed"
if [ -n "$CC_BIN" ]; then
    # The C UTF-8 validator and masker make the 9.* cases about twice as fast; optional.
    CC="$CC_BIN" LDSHARED="$CC_BIN -pthread -shared" CFLAGS="-I$ROOT/usr/include/python2.7 -I$ROOT/usr/include" \
        "${PIP[@]}" install --no-deps --no-build-isolation "$ACCEL" || log "wsaccel did not build; continuing without it"
fi
"$BIN/wstest" --autobahnversion >/dev/null || fail "wstest does not start"
echo "$STAMP_TEXT" > "$STAMP"
log "installed: $BIN/wstest"
