#!/usr/bin/env bash
# `./dev cluster up|down|status|env`, never waiting for a build: the CLI runs from dist/ when that is newer than every
# source file, otherwise straight from the TypeScript sources (node strips the types; slower to start, never stale).
# Only `up` and `env` resolve the pinned Go binaries, building them on a cold cache.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -f "$here/dist/cli.js" ] && [ -z "$(find "$here/src" -name '*.ts' -newer "$here/dist/cli.js" -print -quit)" ]; then
  exec node "$here/dist/cli.js" "$@"
fi
exec node --experimental-transform-types --no-warnings --conditions=capstan-source --import "$here/ts-hooks.mjs" \
  "$here/src/cli.ts" "$@"
