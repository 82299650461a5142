#!/usr/bin/env bash
# One-command demo: `make demo` (or scripts/demo.sh).
#
# Builds the virtual environment (make install), makes an Airflow home under .demo/, starts the
# Hailuo emulator on a free port, points the connections at it, creates the vendor pool, runs the
# hailuo_daily_content DAG end to end with `airflow dags test` (the trigger runs inline there),
# verifies every MP4 (sha256 against the manifest, MP4 signature, PyAV probe) and prints where the
# videos, the manifest and the review page (index.html: posters and players) are. Stops what it
# started; exits non-zero if anything failed.
#
# With a real vendor key in the environment the same command uses that vendor instead:
#   HAILUO_MINIMAX_API_KEY     (optional HAILUO_MINIMAX_REGION=global for api.minimax.io)
#   HAILUO_DMXAPI_API_KEY      (optional HAILUO_DMXAPI_AUTH_SCHEME=raw|bearer)
#   HAILUO_MODELVERSE_API_KEY
# HAILUO_<VENDOR>_BASE_URL overrides the vendor's base URL (a proxy or gateway);
# HAILUO_DEMO_VENDOR=minimax|dmxapi|modelverse picks one when several are set, and
# HAILUO_DEMO_MAX_PROMPTS caps the paid videos (default 1 with a real vendor; all prompts with
# the emulator). HAILUO_DEMO_GENERATION_SECONDS sets the emulator's generation time (default 3),
# HAILUO_DEMO_EMULATOR_CONFIG passes more emulator options as JSON, e.g. '{"final_status": "fail"}'
# to watch a failed generation fail the demo.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="${VENV:-.venv}"
BIN="$ROOT/$VENV/bin"
DEMO="$ROOT/.demo"
DAG_ID="hailuo_daily_content"
POOL="hailuo_vendor"       # the pool the example DAGs run their generate tasks in
POOL_SLOTS="${HAILUO_POOL_SLOTS:-3}"
STARTED=$(date +%s)

say() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nDEMO FAILED: %s\n' "$*" >&2; exit 1; }

# -- what we start, we stop ---------------------------------------------------------------------
EMULATOR_PID=""
cleanup() {
    local status=$?
    if [[ -n "$EMULATOR_PID" ]] && kill -0 "$EMULATOR_PID" 2>/dev/null; then
        kill "$EMULATOR_PID" 2>/dev/null || true
        wait "$EMULATOR_PID" 2>/dev/null || true
        echo "Stopped the emulator (pid $EMULATOR_PID)."
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# -- 1. virtual environment ---------------------------------------------------------------------
mkdir -p "$DEMO/logs"
say "Virtual environment ($VENV, via make install; the first time takes a few minutes)"
echo "    log: $DEMO/logs/install.log"
make --no-print-directory install > "$DEMO/logs/install.log" 2>&1 || {
    tail -n 40 "$DEMO/logs/install.log" >&2; fail "make install (log: $DEMO/logs/install.log)"; }
[[ -x "$BIN/airflow" && -x "$BIN/hailuo-emulator" ]] || fail "$VENV has no airflow or hailuo-emulator"

# -- 2. Airflow home ----------------------------------------------------------------------------
mkdir -p "$DEMO/airflow" "$DEMO/media" "$DEMO/logs"
export AIRFLOW_HOME="$DEMO/airflow"
export AIRFLOW__CORE__DAGS_FOLDER="$ROOT/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///$DEMO/airflow/airflow.db"
export AIRFLOW_VAR_HAILUO_MEDIA_BASE="file://$DEMO/media"    # local storage, the embedded default
export HAILUO_TASK_RETRIES=0                                 # a demo shows a failure at once
export PYTHONUNBUFFERED=1
STAMP=$(date +%Y%m%dT%H%M%S)
RUN_LOG="$DEMO/logs/$DAG_ID-$STAMP.log"

say "Airflow home $AIRFLOW_HOME (SQLite), DAGs from dags/, media under .demo/media"
"$BIN/airflow" db migrate > "$DEMO/logs/db-migrate.log" 2>&1 || {
    tail -n 40 "$DEMO/logs/db-migrate.log" >&2; fail "airflow db migrate (log: $DEMO/logs/db-migrate.log)"; }

# -- 3. vendor: a real one when a key is set, the emulator otherwise -----------------------------
vendor_key_var() { echo "HAILUO_$(echo "$1" | tr '[:lower:]' '[:upper:]')_API_KEY"; }
REAL_VENDOR=""
if [[ -n "${HAILUO_DEMO_VENDOR:-}" ]]; then
    case "$HAILUO_DEMO_VENDOR" in minimax|dmxapi|modelverse) ;; *) fail "HAILUO_DEMO_VENDOR must be minimax, dmxapi or modelverse";; esac
    var=$(vendor_key_var "$HAILUO_DEMO_VENDOR")
    [[ -n "${!var:-}" ]] || fail "HAILUO_DEMO_VENDOR=$HAILUO_DEMO_VENDOR but $var is not set"
    REAL_VENDOR="$HAILUO_DEMO_VENDOR"
else
    for vendor in minimax dmxapi modelverse; do
        var=$(vendor_key_var "$vendor")
        if [[ -n "${!var:-}" ]]; then REAL_VENDOR="$vendor"; break; fi
    done
fi

# AIRFLOW_CONN_<ID> as JSON, built by Python so keys with any characters are quoted right.
conn_json() {  # conn_json <conn_type> <host or ""> <password> [extra JSON]
    "$BIN/python" -c 'import json, sys
value = {"conn_type": sys.argv[1], "password": sys.argv[3]}
if sys.argv[2]:
    value["host"] = sys.argv[2]
if len(sys.argv) > 4 and sys.argv[4] not in ("", "{}"):
    value["extra"] = json.loads(sys.argv[4])
print(json.dumps(value))' "$@"
}

CONF='{}'
if [[ -n "$REAL_VENDOR" ]]; then
    var=$(vendor_key_var "$REAL_VENDOR")
    extra='{}'
    case "$REAL_VENDOR" in
        minimax) [[ -n "${HAILUO_MINIMAX_REGION:-}" ]] && extra="{\"region\": \"$HAILUO_MINIMAX_REGION\"}" ;;
        dmxapi) extra="{\"auth_scheme\": \"${HAILUO_DMXAPI_AUTH_SCHEME:-raw}\"}" ;;
    esac
    CONN_ID="hailuo_${REAL_VENDOR}_default"
    base_var="HAILUO_$(echo "$REAL_VENDOR" | tr '[:lower:]' '[:upper:]')_BASE_URL"   # optional: a proxy or gateway
    export "AIRFLOW_CONN_$(echo "$CONN_ID" | tr '[:lower:]' '[:upper:]')=$(conn_json "hailuo_$REAL_VENDOR" "${!base_var:-}" "${!var}" "$extra")"
    export AIRFLOW_VAR_HAILUO_CONN_ID="$CONN_ID"
    MAX_PROMPTS="${HAILUO_DEMO_MAX_PROMPTS:-1}"
    CONF="{\"max_prompts\": $MAX_PROMPTS}"
    SOURCE="$REAL_VENDOR (real vendor, connection $CONN_ID)"
    say "Using the REAL $REAL_VENDOR API (\$$var is set): this run pays for up to $MAX_PROMPTS video(s)."
    echo "    (HAILUO_DEMO_MAX_PROMPTS=N changes that; unset $var to use the emulator.)"
else
    GENERATION_SECONDS="${HAILUO_DEMO_GENERATION_SECONDS:-3}"
    EMULATOR_LOG="$DEMO/logs/emulator-$STAMP.log"
    HAILUO_EMULATOR_API_KEY="sk-demo-$("$BIN/python" -c 'import secrets; print(secrets.token_hex(12))')"
    export HAILUO_EMULATOR_API_KEY      # the emulator reads its key from here (not on the command line)
    say "Starting the emulator (MiniMax, DMXAPI and Modelverse APIs; ${GENERATION_SECONDS} s per video)"
    "$BIN/hailuo-emulator" --host 127.0.0.1 --port 0 --generation-seconds "$GENERATION_SECONDS" \
        --video-cache-dir "$DEMO/emulator-cache" --config "${HAILUO_DEMO_EMULATOR_CONFIG:-{\}}" --quiet \
        > "$EMULATOR_LOG" 2>&1 &
    EMULATOR_PID=$!
    EMULATOR_URL=""
    for _ in $(seq 1 150); do   # up to 30 s
        EMULATOR_URL=$(sed -n 's/^hailuo-emulator listening on \(http:\/\/[^ ]*\).*/\1/p' "$EMULATOR_LOG" | head -n 1)
        [[ -n "$EMULATOR_URL" ]] && break
        kill -0 "$EMULATOR_PID" 2>/dev/null || { cat "$EMULATOR_LOG" >&2; fail "the emulator exited"; }
        sleep 0.2
    done
    [[ -n "$EMULATOR_URL" ]] || { cat "$EMULATOR_LOG" >&2; fail "the emulator did not start within 30 s"; }
    echo "    $EMULATOR_URL (pid $EMULATOR_PID, log $EMULATOR_LOG)"
    export AIRFLOW_CONN_HAILUO_MINIMAX_DEFAULT="$(conn_json hailuo_minimax "$EMULATOR_URL/minimax" "$HAILUO_EMULATOR_API_KEY")"
    export AIRFLOW_CONN_HAILUO_DMXAPI_DEFAULT="$(conn_json hailuo_dmxapi "$EMULATOR_URL/dmxapi" "$HAILUO_EMULATOR_API_KEY" '{"auth_scheme": "bearer"}')"
    export AIRFLOW_CONN_HAILUO_MODELVERSE_DEFAULT="$(conn_json hailuo_modelverse "$EMULATOR_URL/modelverse" "$HAILUO_EMULATOR_API_KEY")"
    export AIRFLOW_VAR_HAILUO_CONN_ID="hailuo_minimax_default"
    # The emulator finishes a clip in seconds: poll it accordingly (real vendors keep the 15 s / 30 s defaults).
    export HAILUO_POLL_INTERVAL=1 HAILUO_INITIAL_DELAY=2
    if [[ -n "${HAILUO_DEMO_MAX_PROMPTS:-}" ]]; then CONF="{\"max_prompts\": $HAILUO_DEMO_MAX_PROMPTS}"; fi
    SOURCE="the emulator (MiniMax API, connection hailuo_minimax_default)"
fi

# -- 4. the pool the generate tasks run in -------------------------------------------------------
say "Pool $POOL: $POOL_SLOTS generations in flight at most (deferred tasks keep their slot)"
"$BIN/airflow" pools set "$POOL" "$POOL_SLOTS" "Hailuo video generations in flight at the vendor" \
    --include-deferred > "$DEMO/logs/pools.log" 2>&1 || { cat "$DEMO/logs/pools.log" >&2; fail "airflow pools set"; }

# -- 5. run the DAG ------------------------------------------------------------------------------
say "Running $DAG_ID with airflow dags test against $SOURCE"
echo "    full log: $RUN_LOG"
set +e
"$BIN/airflow" dags test "$DAG_ID" --conf "$CONF" 2>&1 | tee "$RUN_LOG" | awk '
    /\[DAG TEST\] end task/ {
        task = $0; sub(/.*task_id=/, "", task); sub(/ .*/, "", task)
        index_ = $0; sub(/.*map_index=/, "", index_); sub(/ .*/, "", index_)
        printf "    finished %s%s\n", task, (index_ == "-1" ? "" : "[" index_ "]"); fflush()
    }
    /Manifest of [0-9]+ video/ { sub(/.*Manifest of/, "    manifest of"); print; fflush() }
    /Review page: / { sub(/.*Review page:/, "    review page:"); print; fflush() }'
STATUS=${PIPESTATUS[0]}
set -e
if [[ "$STATUS" -ne 0 ]]; then
    echo "--- errors in $RUN_LOG ---" >&2
    grep -E '^[A-Za-z_][A-Za-z0-9_.]*(Error|Exception): |^DagRun failed|^airflow.exceptions' "$RUN_LOG" \
        | awk '!seen[$0]++' | tail -n 12 >&2 || true
    fail "airflow dags test $DAG_ID exited with $STATUS (full log: $RUN_LOG)"
fi

# -- 6. verify what was stored -------------------------------------------------------------------
MANIFEST_URI=$(sed -n 's/.*Manifest of [0-9]* video(s): \([^ ]*\).*/\1/p' "$RUN_LOG" | tail -n 1)
[[ -n "$MANIFEST_URI" ]] || fail "the run log names no manifest ($RUN_LOG)"
REVIEW_URI=$(sed -n 's/.*Review page: \([^ ]*\).*/\1/p' "$RUN_LOG" | tail -n 1)
[[ -n "$REVIEW_URI" && -f "${REVIEW_URI#file://}" ]] || fail "the run wrote no review page ($RUN_LOG)"
say "Verifying every video against the manifest (sha256, MP4 signature, PyAV probe)"
if "$BIN/python" - "$MANIFEST_URI" "$ROOT" <<'PY'
import hashlib
import json
import os
import sys
from urllib.parse import unquote, urlsplit

import av

manifest_uri, root = sys.argv[1], sys.argv[2]


def local(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme != "file":
        sys.exit(f"the demo stores locally; got {uri}")
    return unquote(parts.path)


def shown(path: str) -> str:
    return os.path.relpath(path, root) if path.startswith(root + os.sep) else path


manifest_path = local(manifest_uri)
with open(manifest_path, encoding="utf-8") as handle:
    manifest = json.load(handle)
videos = manifest["videos"]
if not videos or manifest["count"] != len(videos):
    sys.exit(f"{manifest_path}: count {manifest['count']} but {len(videos)} entries")
problems = []
for entry in videos:
    path = local(entry["uri"])
    with open(path, "rb") as handle:
        data = handle.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry["sha256"] or len(data) != entry["size"]:
        problems.append(f"{path}: {len(data)} bytes, sha256 {digest}; manifest says {entry['size']}, {entry['sha256']}")
    if data[4:8] != b"ftyp":
        problems.append(f"{path}: no MP4 ftyp box")
    with av.open(path) as container:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        seconds = float(container.duration or 0) / av.time_base
        frames = sum(1 for _ in container.decode(stream))
    if frames == 0:
        problems.append(f"{path}: no decodable frames")
    poster = entry.get("poster_uri")
    if poster and not os.path.isfile(local(poster)):
        problems.append(f"{path}: the manifest names the poster {poster}, which is not there")
    if entry.get("width") and (entry["width"], entry["height"]) != (width, height):
        problems.append(f"{path}: {width}x{height}, manifest says {entry['width']}x{entry['height']}")
    print(f"    {shown(path)}\n        {width}x{height}, {seconds:.1f} s, {frames} frames, {len(data):,} bytes, "
          f"{entry['vendor']} task {entry['video_task_id']}, sha256 {digest[:16]}...")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"\n    manifest: {shown(manifest_path)} ({len(videos)} prompt(s), each with its stored, verified MP4)")
PY
then :; else fail "the stored videos do not match the manifest"; fi

# -- 7. one MiniMax-H3 video (video API v2) next to the Hailuo ones ------------------------------
H3_DAG_ID="hailuo_h3_social"
if [[ -n "$REAL_VENDOR" && "$REAL_VENDOR" != "minimax" ]]; then
    say "Skipping $H3_DAG_ID: MiniMax-H3 is served by MiniMax only, and this run uses $REAL_VENDOR"
else
    H3_LOG="$DEMO/logs/$H3_DAG_ID-$STAMP.log"
    say "Pool hailuo_h3: 26 MiniMax-H3 tasks in flight at most (MiniMax allows 30 per account)"
    "$BIN/airflow" pools set hailuo_h3 26 "MiniMax-H3 tasks in flight (MiniMax allows 30 per account)" \
        --include-deferred >> "$DEMO/logs/pools.log" 2>&1 || { cat "$DEMO/logs/pools.log" >&2; fail "airflow pools set hailuo_h3"; }
    say "Running $H3_DAG_ID (enhanced prompt -> MiniMax-H3 9:16 10 s with sound -> storage)"
    echo "    full log: $H3_LOG"
    "$BIN/airflow" dags test "$H3_DAG_ID" > "$H3_LOG" 2>&1 || {
        grep -E '(Error|Exception): ' "$H3_LOG" | awk '!seen[$0]++' | tail -n 12 >&2 || true
        fail "airflow dags test $H3_DAG_ID (full log: $H3_LOG)"; }
    H3_DIR="$DEMO/media/h3"
    H3_MP4=$(find "$H3_DIR" -name social.mp4 -printf '%T@ %p\n' 2>/dev/null | sort -n | tail -n 1 | cut -d' ' -f2-)
    [[ -n "$H3_MP4" && -f "$H3_MP4" ]] || fail "$H3_DAG_ID stored no social.mp4 under $H3_DIR"
    say "The H3 video, probed with PyAV"
    "$BIN/python" - "$H3_MP4" "$ROOT" <<'PY' || fail "the H3 video did not probe as expected"
import os
import sys

import av

path, root = sys.argv[1], sys.argv[2]
with av.open(path) as container:
    video = container.streams.video[0]
    seconds = float(container.duration or 0) / av.time_base
    audio = list(container.streams.audio)
    print(f"    {os.path.relpath(path, root)}\n        {video.codec_context.width}x{video.codec_context.height}, "
          f"{seconds:.1f} s, {os.path.getsize(path):,} bytes, video {video.codec_context.name} "
          f"{float(video.average_rate or 0):g} fps")
    for stream in audio:
        ctx = stream.codec_context
        print(f"        audio stream: {ctx.name}, {ctx.channels} channel(s), {ctx.sample_rate} Hz")
if not audio:
    sys.exit(f"{path}: no audio stream (H3 videos carry sound)")
PY
fi

say "Demo finished in $(( $(date +%s) - STARTED )) s: $DAG_ID (and the H3 DAG where MiniMax is the vendor) succeeded against $SOURCE."
echo "    MP4s and manifest: $(dirname "${MANIFEST_URI#file://}")"
echo "    Review page:       ${REVIEW_URI#file://}"
echo "                       (open it in a browser: chromium ${REVIEW_URI}; or serve the folder as it is)"
echo "    Airflow home:      $AIRFLOW_HOME      run log: $RUN_LOG"
echo "    Run it again any time (a rerun of the day replaces that day's videos); 'make demo-clean' removes .demo/."
