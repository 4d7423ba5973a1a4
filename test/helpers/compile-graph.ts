// A separate process that compiles the graph test/runtime-cpu.test.ts uses and prints the cached
// library's path, so the test can damage the cache entry without having it loaded itself.

import * as ops from "../../compiler/ops.ts";
import * as nn from "../../compiler/nn.ts";
import type { Tensor } from "../../compiler/graph.ts";
import { compile } from "../../runtime/compile.ts";

export const cacheTestGraph = (scale: number) => (t: unknown) => {
  const { x, w } = t as { x: Tensor; w: Tensor };
  return nn.softmax(ops.mul(nn.linear(x, w), scale));
};

if (process.argv[2] === "--print-library") {
  const step = compile(cacheTestGraph(Number(process.argv[3])), { x: { shape: [4, 8] }, w: { shape: [6, 8] } });
  console.log(step.backend.library.library);
}
