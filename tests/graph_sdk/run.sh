#!/usr/bin/env bash
# Runs the Graph SDK compatibility tests (tests/graph_sdk/*.test.mjs) with Node's test runner
# against the otpd and otpctl named by $OTPD and $OTPCTL (CTest sets them).
#   OTPD=build/test/tools/otpd OTPCTL=build/test/tools/otpctl \
#     tests/graph_sdk/run.sh [FILE.test.mjs...]
#
# Node reads NODE_EXTRA_CA_CERTS only when it starts, so the loopback CA that otpd's certificate
# chains to is made here, before node runs. Every daemon the tests start lives in a directory
# under the one made here; on any exit that directory goes, with any daemon still running in it.
#
# Without node or the npm packages (tests/graph_sdk/node_modules) the tests are skipped (exit 77,
# CTest's SKIP_RETURN_CODE), except under CI=true, where they fail: CI must run them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
skip_code=77

missing() {
  if [ "${CI:-}" = true ]; then
    echo "graph_sdk_test: $1; run scripts/deps.sh" >&2
    exit 1
  fi
  echo "graph_sdk_test: skipped: $1 (scripts/deps.sh installs it)"
  exit "$skip_code"
}

node=${NODE:-$(command -v node || true)}
[ -n "$node" ] && [ -x "$node" ] || missing "node is not installed"
[ -d "$here/node_modules/@microsoft/microsoft-graph-client" ] &&
  [ -d "$here/node_modules/standardwebhooks" ] ||
  missing "the npm packages are not installed in tests/graph_sdk/node_modules"
: "${OTPD:?OTPD must name the otpd binary}" "${OTPCTL:?OTPCTL must name the otpctl binary}"

work=$(mktemp -d "${TMPDIR:-/tmp}/otpd-graph-sdk.XXXXXX")
cleanup() {
  local pid_file pid
  for pid_file in "$work"/*/otpd.pid; do
    [ -f "$pid_file" ] || continue
    pid=$(cat "$pid_file")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# A CA and a leaf for 127.0.0.1 and localhost, signed by it (EC P-256, two days).
tls() {
  "${OPENSSL:-openssl}" "$@" 2>"$work/openssl.log" || { cat "$work/openssl.log" >&2; exit 1; }
}
tls req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=otpd graph sdk test CA" -addext basicConstraints=critical,CA:TRUE \
  -addext keyUsage=critical,keyCertSign -keyout "$work/ca.key" -out "$work/ca.crt"
tls req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
  -keyout "$work/admin.key" -out "$work/admin.csr"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$work/leaf.ext"
tls x509 -req -in "$work/admin.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial \
  -days 2 -extfile "$work/leaf.ext" -out "$work/admin.crt"
chmod 600 "$work/admin.key" "$work/ca.key"

export NODE_EXTRA_CA_CERTS="$work/ca.crt"
export GRAPH_SDK_WORK="$work" GRAPH_SDK_CERT="$work/admin.crt" GRAPH_SDK_KEY="$work/admin.key"
cd "$here"
status=0
# Given test files (run.sh users.test.mjs) run alone; by default every one.
if [ "$#" -eq 0 ]; then set -- ./*.test.mjs; fi
"$node" --test --test-reporter=spec "$@" || status=$?
exit "$status"
