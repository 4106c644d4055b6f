#!/usr/bin/env bash
# Up, check, down: what a CI job does with a lab. Exit status: the checks'.
# usage: sudo scripts/lab-smoke.sh [LAB_FILE] [nslab check options...]
set -uo pipefail
nslab=(node "$(cd "$(dirname "$0")/.." && pwd)/dist/src/cli/main.js")
lab=${1:-}
shift || true
"${nslab[@]}" up ${lab:+"$lab"} || exit $?
"${nslab[@]}" check ${lab:+"$lab"} "$@"
rc=$?
"${nslab[@]}" down ${lab:+"$lab"} || rc=${rc:-1}
exit $rc
