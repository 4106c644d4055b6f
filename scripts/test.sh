#!/usr/bin/env bash
# The whole test suite: type checks, unit tests and integration tests on real
# namespaces with the real kubectl. Integration tests need root: sudo npm test
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "the integration tests build real labs and need root: run sudo npm test" >&2
  exit 1
fi
npm run build --silent
npx tsc -p tsconfig.test.json
if [ $# -gt 0 ]; then
  exec npx vitest run "$@"
fi
npx vitest run --project unit
# Labs are real kernel objects shared by the machine: one file at a time.
npx vitest run --project integration --no-file-parallelism
