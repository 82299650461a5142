#!/usr/bin/env bash
# Run every benchmark (issues 7 and 16), one after the other, each printing its table.
#
#   bash benchmarks/run_all.sh            # all of them (about 13 minutes on 2 cores)
#   bash benchmarks/run_all.sh import_cost api_economy   # a subset, by script name
#
# Exit status: the number of benchmarks that missed a target (0 = all passed). Output also goes
# to benchmarks/results/<name>.txt, so the README's tables can be refreshed from one run.
set -u
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
ALL=(import_cost triggerer_scale api_economy rate_limits transfer emulator_memory emulator_render throughput)
if [ "$#" -gt 0 ]; then NAMES=("$@"); else NAMES=("${ALL[@]}"); fi
mkdir -p benchmarks/results
failed=0
summary=()
for name in "${NAMES[@]}"; do
    echo "=== ${name} ($(date -u +%H:%M:%S) UTC, load: $(cut -d' ' -f1-3 /proc/loadavg)) ==="
    start=$(date +%s)
    "$PYTHON" "benchmarks/${name}.py" 2>"benchmarks/results/${name}.stderr" | tee "benchmarks/results/${name}.txt"
    status=${PIPESTATUS[0]}
    took=$(( $(date +%s) - start ))
    if [ "$status" -eq 0 ]; then
        summary+=("PASS  ${name} (${took} s)")
    else
        summary+=("FAIL  ${name} (${took} s, exit ${status}; stderr: benchmarks/results/${name}.stderr)")
        failed=$((failed + 1))
    fi
    echo
done
echo "=== summary ==="
printf '%s\n' "${summary[@]}"
exit "$failed"
