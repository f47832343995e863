#!/usr/bin/env bash
# `./dev demo [up|status|down]`. `up` builds the workspace first (turbo: a no-op when nothing changed), since the
# controllers run from their dist/. `status` and `down` run the CLI that `up` built, so they answer at once instead of
# re-checking every build; they build first only when that CLI is missing or older than a source file of this package.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cli="$here/dist/demo/cli.js"
if [ "${1:-up}" = up ] || [ ! -f "$cli" ] || [ -n "$(find "$here/src" -name '*.ts' -newer "$cli" -print -quit)" ]; then
  (cd "$here/../.." && node_modules/.bin/turbo run build --output-logs=errors-only >&2)
  touch "$cli" # turbo may leave an unchanged output as it was: mark it as checked
fi
exec node "$cli" "$@"
