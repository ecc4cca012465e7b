#!/usr/bin/env bash
# Heavy fuzzing of every parser and loader (outside npm test): 10,000 inputs
# per parser, fixed seeds (test/fuzz/parsers.test.ts; FUZZ_RUNS sets the count).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_RUNS=${FUZZ_RUNS:-10000} npx vitest run test/fuzz --testTimeout 3600000
