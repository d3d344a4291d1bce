#!/usr/bin/env bash
# Installs the Debian packages otpd needs to build, test and run. Quiet, non-interactive, and a
# no-op when everything is already present. The dpkg-dev line is for the Debian package and its test
# (docs/install.md): cpack's dpkg-shlibdeps and file, lintian, systemd-analyze, adduser for the
# package's postinst, man for systemd-analyze's check of the unit's Documentation=. Headless
# Chromium, its WebDriver and Selenium run the admin console's browser tests (tests/browser/);
# Node and the npm packages pinned in tests/graph_sdk/package-lock.json the Graph SDK tests.
# libldap-dev builds the directory source; slapd and ldap-utils run its tests (each test starts
# a slapd of its own on a free loopback port).
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache
  libssl-dev liboath-dev oathtool
  libboost1.81-dev libboost-json1.81-dev
  librocksdb-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libspdlog-dev libtomlplusplus-dev libqrencode-dev
  openssl libexpat1-dev
  clang libclang-rt-14-dev
  libpam0g-dev pamtester
  dpkg-dev file lintian systemd adduser man-db
  etcd-server etcd-client
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc golang-etcd-server-dev
  freeradius freeradius-rest freeradius-utils
  libldap-dev slapd ldap-utils
  chromium chromium-driver python3-selenium
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node and the npm packages of the Graph SDK tests (tests/graph_sdk/). By command, not by Debian
# package: a node from another source (whose package carries npm itself) is used as it is.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "installing: nodejs npm"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
graph_sdk=$(cd "$(dirname "$0")/../tests/graph_sdk" && pwd)
if [ ! -d "$graph_sdk/node_modules" ] ||
  [ "$graph_sdk/package-lock.json" -nt "$graph_sdk/node_modules" ]; then
  echo "installing: the npm packages of tests/graph_sdk"
  npm ci --no-audit --no-fund --loglevel=error --prefix "$graph_sdk" >/dev/null
fi
