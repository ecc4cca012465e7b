#!/usr/bin/env bash
# Heavy kernel checks, kept out of the fast test suite: fetches Debian's stock
# kernel into the cache (kernels/fetch-debian.sh; ~70 MB download once) and
# checks host-side parsing, xz decompression and kallsyms recovery on it.
#   bash scripts/heavy-kernels.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=$(bash "$repo/kernels/fetch-debian.sh" | tail -1)
cd "$repo"
exec npx --no-install tsx kernels/check-debian.ts "$cache"
