// The portable APIs (runtime/portable.ts, models/portable.ts) run in a browser: kiln serve's page
// bundles for the browser with no Node module in it, and a model's weights survive the trip as one
// safetensors file in memory (what the server sends and the page reads).

import { expect, test } from "vitest";
import { bundlePage } from "../bin/serve/bundle.ts";
import { CONFIGS, modelParts } from "../models/config.ts";
import { initParams } from "../models/params.ts";
import { weightsFromSafetensors, weightsToSafetensors } from "../models/weights-bundle.ts";

test("kiln serve's page bundles for the browser, and nothing in it imports a Node module", async () => {
  const script = await bundlePage();
  expect(script.length).toBeGreaterThan(100_000);
  expect(script).not.toMatch(/from\s*["']node:|require\(["'](node:|fs|path|child_process)["']\)/);
  // The only module left to load at run time is Dawn for Node, which the page never reaches (it has navigator.gpu).
  expect([...script.matchAll(/import\(["']([^"']+)["']\)/g)].map((m) => m[1])).toEqual(["webgpu"]);
});

test("a model's weights and vocabulary come back from weightsToSafetensors exactly", () => {
  const parts = modelParts(CONFIGS.tiny!);
  const weights = {
    dit: initParams(parts.ditSpec, 1),
    text: initParams(parts.text.paramSpec, 2),
    vae: parts.vae.unfitted!(),
    vocabulary: new Set(["red", "circle", "wings"]),
  };
  const back = weightsFromSafetensors(weightsToSafetensors(parts, weights), "test");
  for (const part of ["dit", "text", "vae"] as const) {
    expect([...back[part].keys()].sort()).toEqual([...weights[part].keys()].sort());
    for (const [name, data] of weights[part]) expect(back[part].get(name), `${part}.${name}`).toEqual(data);
  }
  expect(back.vocabulary).toEqual(weights.vocabulary);
});
