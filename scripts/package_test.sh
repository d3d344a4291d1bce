#!/usr/bin/env bash
# The Debian package, end to end (docs/install.md). As root on a Debian 12 machine that has no
# otpd installation of its own:
#   1. builds otpd_VERSION_ARCH.deb with cpack from an existing build configured with
#      -DCMAKE_INSTALL_PREFIX=/usr (scripts/test.sh's GCC Release build), and checks it with
#      lintian (no errors);
#   2. installs it with dpkg -i and checks the otpd user and group, the owners and modes of the
#      files and directories, the conffile, and the unit (systemd-analyze verify and security);
#   3. imports and activates a demo token with the packaged otpctl running as otpd, starts the
#      packaged otpd the way the unit does (its ExecStart=, as otpd, UMask=0077, /run/otpd made as
#      RuntimeDirectory= makes it; systemd itself need not run), and verifies a code over
#      /run/otpd/verify.sock as an unprivileged member of the group otpd (and not without it);
#   4. upgrades over itself: the master key, the data (the code stays used) and a changed
#      conffile survive;
#   5. removes (key and data stay) and purges (the key stays and its place is printed).
# Whatever it made is removed at the end, also after a failure, and an interrupted run is
# cleaned up by the next one. Every wait is bounded; scripts/test.sh bounds the whole.
# Usage: bash scripts/package_test.sh [BUILD_DIR]     (default build/gcc-release)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build/gcc-release}" && pwd)
state=/var/tmp/otpd-package-test.state   # what this test made, for the clean-up
unit=/lib/systemd/system/otpd.service
socket=/run/otpd/verify.sock
key=/etc/otpd/master.key
data=/var/lib/otpd
config=/etc/otpd/otpd.toml
otpd_pid=""
work=""

fail() {
  echo "package_test: FAILED: $*" >&2
  exit 1
}
step() { echo "== package_test: $* ($SECONDS s)"; }
# The package's state for dpkg: installed, config-files (removed, not purged), not-installed, ...
package_state() { dpkg-query -W -f='${db:Status-Status}' otpd 2>/dev/null || echo not-installed; }

# ---- clean-up ---------------------------------------------------------------------------------
stop_otpd() {
  if [ -n "$otpd_pid" ] && kill -0 "$otpd_pid" 2>/dev/null; then
    kill -TERM "$otpd_pid"
    for _ in $(seq 100); do kill -0 "$otpd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$otpd_pid" 2>/dev/null || true
  fi
  if [ -n "$otpd_pid" ]; then wait "$otpd_pid" 2>/dev/null || true; fi
  otpd_pid=""
}

cleanup() {
  stop_otpd
  if [ -f "$state" ]; then
    # The daemon of an interrupted run, by the process id it recorded.
    local pid
    pid=$(sed -n 's/^pid=//p' "$state" | tail -1)
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = otpd ]; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
    if [ "$(package_state)" != not-installed ]; then dpkg --purge otpd >/dev/null 2>&1 || true; fi
    rm -rf /etc/otpd "$data" /run/otpd
    if getent passwd otpd >/dev/null; then userdel otpd 2>/dev/null || true; fi
    if getent group otpd >/dev/null; then groupdel otpd 2>/dev/null || true; fi
    rm -f "$state"
  fi
  if [ -n "$work" ]; then rm -rf "$work"; fi
}

# Runs a command as otpd (its own groups, a clean environment), as the unit's User= does.
as_otpd() { setpriv --reuid=otpd --regid=otpd --init-groups --reset-env "$@"; }
# Runs a command as a front end: nobody, in the group otpd only.
as_member() {
  setpriv --reuid=nobody --regid=nogroup --groups="$(getent group otpd | cut -d: -f3)" \
    --reset-env "$@"
}
as_stranger() { setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env "$@"; }

# owner:group and octal mode of a path, as "otpd:otpd 750".
owner_mode() { stat -c '%U:%G %a' "$1"; }
expect_owner_mode() {  # path "owner:group mode"
  [ -e "$1" ] || fail "$1 does not exist"
  [ "$(owner_mode "$1")" = "$2" ] || fail "$1 is $(owner_mode "$1"), expected $2"
}

start_otpd() {
  local exec_start mode
  exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
  mode=$(sed -n 's/^RuntimeDirectoryMode=//p' "$unit")
  [ -n "$exec_start" ] || fail "no ExecStart= in $unit"
  grep -qx 'User=otpd' "$unit" || fail "the unit does not run otpd as User=otpd"
  grep -qx 'RuntimeDirectory=otpd' "$unit" || fail "the unit has no RuntimeDirectory=otpd"
  # What systemd does before ExecStart=: RuntimeDirectory=otpd, owned by User= and Group=.
  install -d -m "${mode:-0755}" -o otpd -g otpd /run/otpd
  # shellcheck disable=SC2086  # ExecStart= is split into words, as systemd splits it
  (umask 0077 && exec setpriv --reuid=otpd --regid=otpd --init-groups --reset-env \
    $exec_start) >"$work/otpd.log" 2>&1 &
  otpd_pid=$!
  echo "pid=$otpd_pid" >>"$state"
  for _ in $(seq 200); do
    grep -q 'started: ' "$work/otpd.log" && break
    kill -0 "$otpd_pid" 2>/dev/null || { cat "$work/otpd.log"; fail "otpd exited at start"; }
    sleep 0.1
  done
  grep -q 'started: ' "$work/otpd.log" || { cat "$work/otpd.log"; fail "otpd did not start"; }
  [ -S "$socket" ] || fail "$socket is not a socket"
}

stop_otpd_checked() {
  kill -TERM "$otpd_pid"
  local rc=0
  for _ in $(seq 150); do kill -0 "$otpd_pid" 2>/dev/null || break; sleep 0.1; done
  wait "$otpd_pid" || rc=$?
  otpd_pid=""
  [ "$rc" -eq 0 ] || { cat "$work/otpd.log"; fail "otpd exited with $rc on SIGTERM"; }
  rm -rf /run/otpd  # RuntimeDirectory= is removed when the service stops
}

# The code alice's demo token shows `ahead` seconds from now.
alice_code() {
  "$build/tools/otpctl" code --secret-file "$root/fixtures/demo/alice.b32" \
    --time $(($(date +%s) + $1))
}

verify() {  # how (as_member, as_stranger) code
  "$1" /usr/bin/otpctl verify --socket "$socket" --user alice@example.com "$2"
}

# ---- before anything: this machine's own otpd is never touched --------------------------------
[ "$(id -u)" -eq 0 ] || fail "run as root (it installs a package)"
cleanup  # an interrupted earlier run
if [ "$(package_state)" != not-installed ] || getent passwd otpd >/dev/null || getent group otpd >/dev/null || [ -e /etc/otpd ] ||
  [ -e "$data" ]; then
  fail "this machine has an otpd installation (package, user, /etc/otpd or $data) of its own;" \
    "the test would change it"
fi
echo "started=$(date +%s)" >"$state"
trap cleanup EXIT
work=$(mktemp -d /tmp/otpd-package-test.XXXXXX)
chmod 0755 "$work"

# ---- 1. build and lint -----------------------------------------------------------------------
step "building the package in $build"
grep -q '^CMAKE_INSTALL_PREFIX:PATH=/usr$' "$build/CMakeCache.txt" ||
  fail "$build is not configured with -DCMAKE_INSTALL_PREFIX=/usr"
rm -f "$build"/package/otpd_*.deb
(cd "$build" && cpack -G DEB >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack"; }
deb=$(ls "$build"/package/otpd_*.deb)
dpkg-deb --field "$deb" Package Version Architecture Depends
dpkg-deb --field "$deb" Depends | grep -q 'libc6' || fail "Depends has no shared library"
dpkg-deb --field "$deb" Depends | grep -q 'adduser' || fail "Depends lacks adduser"

step "lintian"
# Errors fail; warnings and notes are shown.
lintian_rc=0
lintian --fail-on error --display-info "$deb" >"$work/lintian.log" 2>&1 || lintian_rc=$?
grep -v 'root privileges' "$work/lintian.log" || true
[ "$lintian_rc" -eq 0 ] || fail "lintian reported errors (exit code $lintian_rc)"

# ---- 2. install ------------------------------------------------------------------------------
step "dpkg -i"
dpkg -i "$deb" </dev/null >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "dpkg -i"; }
cat "$work/install.log"
grep -q "$key" "$work/install.log" || fail "the installation does not say where the key is"

IFS=: read -r _ _ uid gid _ home shell < <(getent passwd otpd)
[ "$uid" -lt 1000 ] || fail "otpd is not a system user (uid $uid)"
[ "$(getent group otpd | cut -d: -f3)" = "$gid" ] || fail "otpd's primary group is not otpd"
[ "$home" = "$data" ] || fail "otpd's home is $home"
[ "$shell" = /usr/sbin/nologin ] || fail "otpd's shell is $shell"

expect_owner_mode "$data" "otpd:otpd 750"
expect_owner_mode /etc/otpd "root:otpd 750"
expect_owner_mode "$key" "otpd:otpd 600"
expect_owner_mode "$config" "root:root 644"
expect_owner_mode /usr/sbin/otpd "root:root 755"
expect_owner_mode /usr/bin/otpctl "root:root 755"
expect_owner_mode /lib/x86_64-linux-gnu/security/pam_otpd.so "root:root 644"
expect_owner_mode "$unit" "root:root 644"
for page in man8/otpd.8 man5/otpd.toml.5 man1/otpctl.1; do
  expect_owner_mode "/usr/share/man/$page.gz" "root:root 644"
done
[ "$(stat -c %s "$key")" -eq 32 ] || fail "$key is not 32 bytes"
[ -e "$data/CURRENT" ] || fail "no database in $data"
[ -z "$(find "$data" ! -user otpd)" ] || fail "files in $data not owned by otpd"
[ -z "$(find "$data" -mindepth 1 -perm /077)" ] || fail "files in $data open to group or others"
[ -z "$(find /etc/otpd -name '.init.*')" ] || fail "postinst left a temporary directory"
dpkg-query -W -f='${Conffiles}\n' otpd | grep -q "^ $config " || fail "$config is not a conffile"
for line in "data_dir = \"$data\"" "key_file = \"$key\"" "socket = \"$socket\""; do
  grep -qx "$line" "$config" || fail "$config lacks: $line"
done

step "systemd-analyze"
man_check=--man=no
if command -v man >/dev/null; then man_check=--man=yes; fi  # Documentation=man:... is installed
systemd-analyze verify "$man_check" "$unit" || fail "systemd-analyze verify $unit"
systemd-analyze security --offline=true --threshold=20 "$unit" | tail -1 ||
  fail "the unit's sandbox scores worse than 2.0 (systemd-analyze security)"

# ---- 3. seed, start, verify ------------------------------------------------------------------
step "importing and activating a demo token as otpd"
install -m 0644 "$root/fixtures/demo/tokens.csv" "$work/tokens.csv"
as_otpd /usr/bin/otpctl import "$work/tokens.csv" --data-dir "$data" --key-file "$key"
alice_code 0 | as_otpd /usr/bin/otpctl token activate DEMO0001 --data-dir "$data" --key-file "$key"
[ -z "$(find "$data" ! -user otpd)" ] || fail "otpctl left files in $data not owned by otpd"
# The group otpd (the socket's) may search $data: what is in it is otpd's alone.
[ -z "$(find "$data" -mindepth 1 -perm /077)" ] || fail "otpctl left files in $data open to others"

step "starting the packaged otpd as the unit does"
start_otpd
expect_owner_mode "$socket" "otpd:otpd 660"
code=$(alice_code 30)
verify as_member "$code" || { cat "$work/otpd.log"; fail "a member of the group otpd could not verify"; }
if verify as_stranger "$(alice_code 60)" 2>"$work/stranger.err"; then
  fail "a user outside the group otpd could use the socket"
fi
grep -qi 'denied' "$work/stranger.err" || fail "unexpected refusal: $(cat "$work/stranger.err")"
if verify as_member "$code" >"$work/replay.out"; then fail "a used code was accepted again"; fi
grep -q 'replayed' "$work/replay.out" || fail "the used code was not refused as replayed"
kill -HUP "$otpd_pid"
for _ in $(seq 50); do grep -q 'configuration reloaded' "$work/otpd.log" && break; sleep 0.1; done
grep -q 'configuration reloaded' "$work/otpd.log" || fail "SIGHUP did not reload"
stop_otpd_checked
[ -z "$(find "$data" -mindepth 1 -perm /077)" ] || fail "otpd left files in $data open to others"

# ---- 4. upgrade over itself ------------------------------------------------------------------
step "upgrading over itself"
key_sum=$(sha256sum "$key")
echo "# a local change, kept by upgrades" >>"$config"
dpkg -i "$deb" </dev/null >"$work/upgrade.log" 2>&1 || { cat "$work/upgrade.log"; fail "upgrade"; }
[ "$(sha256sum "$key")" = "$key_sum" ] || fail "the upgrade changed the master key"
expect_owner_mode "$key" "otpd:otpd 600"
expect_owner_mode "$data" "otpd:otpd 750"
expect_owner_mode /etc/otpd "root:otpd 750"
grep -qx "# a local change, kept by upgrades" "$config" || fail "the upgrade replaced $config"
as_otpd /usr/bin/otpctl token show DEMO0001 --data-dir "$data" --key-file "$key" |
  grep -q 'activated' || fail "the upgrade lost the activated token"
start_otpd
if verify as_member "$code" >"$work/replay.out"; then fail "the upgrade forgot a used code"; fi
grep -q 'replayed' "$work/replay.out" || fail "after the upgrade the used code was not replayed"
verify as_member "$(alice_code 60)" || fail "no code verifies after the upgrade"
stop_otpd_checked

# ---- 5. remove, purge ------------------------------------------------------------------------
step "dpkg -r"
dpkg -r otpd </dev/null >"$work/remove.log" 2>&1 || { cat "$work/remove.log"; fail "dpkg -r"; }
[ ! -e /usr/sbin/otpd ] || fail "dpkg -r left /usr/sbin/otpd"
[ "$(sha256sum "$key")" = "$key_sum" ] || fail "dpkg -r changed or removed the master key"
[ -e "$data/CURRENT" ] || fail "dpkg -r removed the data"
[ -e "$config" ] || fail "dpkg -r removed the conffile (only a purge does)"

step "dpkg -P"
dpkg -P otpd </dev/null >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "dpkg -P"; }
cat "$work/purge.log"
grep -q "$key" "$work/purge.log" || fail "the purge does not say where the master key is"
[ "$(sha256sum "$key")" = "$key_sum" ] || fail "the purge changed or removed the master key"
[ -e "$data/CURRENT" ] || fail "the purge removed the data"
[ ! -e "$config" ] || fail "the purge left $config"
[ "$(package_state)" = not-installed ] || fail "otpd is still known to dpkg: $(package_state)"

step "passed"
