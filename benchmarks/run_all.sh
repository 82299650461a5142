#!/usr/bin/env bash
# Run every benchmark (issues 7, 15 and 16), one after the other, each printing its table.
#
#   bash benchmarks/run_all.sh            # all of them (about 25 minutes on 2 cores)
#   bash benchmarks/run_all.sh import_cost api_economy   # a subset, by script name
#
# Every benchmark runs its cases at least 3 times, interleaved, and judges the median (throughput.py
# starts a whole distributed Airflow stack and runs once; see benchmarks/README.md). The load
# average is printed before and after every table. Exit status: the number of runs that missed a
# target (0 = all passed). Output also goes to benchmarks/results/<name>.txt, so the README's
# tables can be refreshed from one run.
set -u
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
# "script [arguments]": a script may run more than once with other arguments (triggerer_scale at
# 1,000 and 3,000 triggers). rate_limits and throughput run shortened batches to fit the budget.
ALL=(
    "import_cost"
    "triggerer_scale"
    "triggerer_scale --triggers 3000 --modes floor,provider"
    "api_economy"
    "rate_limits --tasks 25"
    "transfer"
    "emulator_memory"
    "emulator_render"
    "throughput --videos 40"
)
if [ "$#" -gt 0 ]; then
    RUNS=()
    for wanted in "$@"; do
        for entry in "${ALL[@]}"; do
            if [ "${entry%% *}" = "$wanted" ]; then RUNS+=("$entry"); fi
        done
    done
else
    RUNS=("${ALL[@]}")
fi
mkdir -p benchmarks/results
failed=0
summary=()
load() { cut -d' ' -f1-3 /proc/loadavg; }
begin=$(date +%s)
for entry in "${RUNS[@]}"; do
    read -r -a words <<<"$entry"
    name="${words[0]}"
    tag=$(echo "$entry" | tr ' ' '_' | tr -d '-' | sed 's/,/+/g')
    echo "=== ${entry} ($(date -u +%H:%M:%S) UTC, load average: $(load)) ==="
    start=$(date +%s)
    "$PYTHON" "benchmarks/${name}.py" "${words[@]:1}" 2>"benchmarks/results/${tag}.stderr" | tee "benchmarks/results/${tag}.txt"
    status=${PIPESTATUS[0]}
    took=$(( $(date +%s) - start ))
    echo "--- ${entry}: exit ${status}, ${took} s, load average at the end: $(load)"
    if [ "$status" -eq 0 ]; then
        summary+=("PASS  ${entry} (${took} s, load at the end $(load))")
    else
        summary+=("FAIL  ${entry} (${took} s, exit ${status}, load at the end $(load); stderr: benchmarks/results/${tag}.stderr)")
        failed=$((failed + 1))
    fi
    echo
done
echo "=== summary ($(( $(date +%s) - begin )) s in all) ==="
printf '%s\n' "${summary[@]}"
exit "$failed"
