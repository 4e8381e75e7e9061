#!/bin/sh
# SPDX-License-Identifier: MIT
# valgrind_smoke.sh JOULES - joules under valgrind's memcheck: `info` and a sampled `run` with
# every output, on the simulated GPU. Any invalid access, use of an uninitialised value or
# leak fails the test. Exit 77 (skipped, for CTest) where valgrind is not installed.
set -u
joules=$1
command -v valgrind >/dev/null 2>&1 || { echo "valgrind not installed: skipped"; exit 77; }
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
# A simulated GPU of its own: nothing left in /dev/shm, no clash with a machine in use.
export XDG_CACHE_HOME="$dir/cache" JOULES_NVML_LIBRARY="$dir/absent/libnvidia-ml.so.1" \
    JOULES_SIM_MACHINE=private
vg() {
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --track-origins=yes "$joules" "$@"
}
vg info --sim-if-absent a6000 >info.txt || { echo "joules info failed under valgrind"; exit 1; }
vg run --sim --json r.json --sample 10ms --series s.csv --plot p.svg -- sleep 0.3 2>run.txt ||
    { cat run.txt; echo "joules run failed under valgrind"; exit 1; }
for f in r.json s.csv p.svg; do
    [ -s "$f" ] || { echo "$f missing"; exit 1; }
done
echo "valgrind: joules info and joules run clean"
