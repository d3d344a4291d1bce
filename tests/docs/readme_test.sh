#!/usr/bin/env bash
# Runs the README's shell blocks after "## Using it" in order, each in a new shell, as a reader
# following it would, against an existing build directory (given as the first argument, used
# where the README says build/release). The blocks run in a copy of the repository's files in a
# temporary directory, so the checkout stays clean. Fails on the first block that fails, naming it.
#
#   bash tests/docs/readme_test.sh build/gcc-release
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: readme_test.sh BUILD_DIR}" && pwd)
for tool in otpd otpctl; do
  [[ -x "$build/tools/$tool" ]] || { echo "readme_test: $build/tools/$tool is not built" >&2; exit 2; }
done

work=$(mktemp -d /tmp/otpd-readme.XXXXXX)
blocks="$work/blocks"
# The daemons a block started and left running (a block that failed): those working in $work.
stop_daemons() {
  local pid
  for pid in $(pgrep -x otpd || true); do
    [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$work"* ]] && kill -9 "$pid" 2>/dev/null || true
  done
}
cleanup() {
  stop_daemons
  rm -rf "$work"
}
trap cleanup EXIT

cp -r "$root/README.md" "$root/fixtures" "$work/"
mkdir -p "$work/build" "$blocks"
ln -s "$build" "$work/build/release"

# Each ```sh block after "## Using it" becomes blocks/NN.sh.
awk -v out="$blocks" '
  /^## Using it/ { using = 1 }
  using && /^```sh$/ { n++; file = sprintf("%s/%02d.sh", out, n); inside = 1; next }
  inside && /^```$/ { inside = 0; close(file); next }
  inside { print > file }
' "$work/README.md"
count=$(find "$blocks" -name '*.sh' | wc -l)
[[ $count -ge 4 ]] || { echo "readme_test: found only $count blocks in README.md" >&2; exit 1; }

# One shell for all blocks, as a reader follows them in one terminal: what a block exports holds
# for the next ones. The driver names each block before it runs, so a failure names its block.
driver="$work/driver.sh"
for block in "$blocks"/*.sh; do
  printf 'echo "== README block %s" >&3\nsource %q\nstop_daemons\n' "$(basename "$block" .sh)" "$block"
done >"$driver"
cd "$work"
export -f stop_daemons
export work
if ! timeout 600 env -u OTPD_DATA_DIR -u OTPD_KEY_FILE -u OTPD_API_KEY \
    bash -euo pipefail "$driver" >"$work/out" 2>&1 3>"$work/progress"; then
  failed=$(tail -1 "$work/progress")
  echo "readme_test: ${failed#== } failed; its commands and output:" >&2
  cat "$blocks/${failed##* }.sh" >&2
  echo "-- output --" >&2
  tail -40 "$work/out" >&2
  exit 1
fi
cat "$work/progress"
if [[ -d "$root/.git" ]] && ! git -C "$root" check-ignore -q try/; then
  echo "readme_test: try/ is not ignored by git" >&2
  exit 1
fi
echo "readme_test: all $count README blocks ran in order"
