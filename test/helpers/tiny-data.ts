// A small synthetic image data set for training tests: coloured shapes on white, with prompts that
// name colour and shape, written as PNGs and a metadata.csv (the reference's layout).

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";

const COLOURS: readonly [string, [number, number, number]][] = [
  ["red", [220, 40, 40]],
  ["green", [40, 180, 60]],
  ["blue", [40, 70, 220]],
  ["yellow", [230, 210, 40]],
];

export async function writeShapesDataset(dir: string, size: number, count: number): Promise<void> {
  mkdirSync(path.join(dir, "images"), { recursive: true });
  const rows = ["image,prompt"];
  for (let i = 0; i < count; i++) {
    const [name, rgb] = COLOURS[i % COLOURS.length]!;
    const square = i % 2 === 0;
    const pixels = new Uint8Array(size * size * 3).fill(255);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const dx = x - size / 2 + 0.5;
        const dy = y - size / 2 + 0.5;
        const inside = square ? Math.max(Math.abs(dx), Math.abs(dy)) < size / 4 + (i % 3) : dx * dx + dy * dy < (size / 3) ** 2;
        if (inside) pixels.set(rgb, (y * size + x) * 3);
      }
    const file = `${i}.png`;
    await sharp(Buffer.from(pixels), { raw: { width: size, height: size, channels: 3 } })
      .png()
      .toFile(path.join(dir, "images", file));
    rows.push(`${file},"${name}, ${square ? "square" : "circle"}, number ${i}"`);
  }
  writeFileSync(path.join(dir, "metadata.csv"), rows.join("\n") + "\n");
}
