import { existsSync } from "node:fs";
import { defineConfig } from "vitest/config";

// Dawn (the `webgpu` package) needs a Vulkan driver it accepts; on a machine without a GPU that is
// Chromium's SwiftShader, which .ci/run installs. The dynamic loader reads LD_LIBRARY_PATH when a
// process starts, so it is set here, before the test workers are forked, unless the user set a driver.
const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  process.env.LD_LIBRARY_PATH = ["/usr/lib/chromium", process.env.LD_LIBRARY_PATH].filter(Boolean).join(":");
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
