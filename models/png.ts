// Writing 8-bit RGB images as PNG files (sharp, so Node only): one image, or a grid of equally sized ones.

import sharp from "sharp";

export async function savePng(file: string, rgb: Uint8Array, height: number, width: number): Promise<void> {
  await sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } })
    .png()
    .toFile(file);
}

/** Each image of a grid is enlarged (nearest neighbour, whole multiples) to at least this many pixels, so a 64 px sample can be judged. */
export const GRID_MIN_CELL = 256;

/** Tile equally sized RGB images into a grid PNG, each enlarged by the same whole factor to at least GRID_MIN_CELL pixels a side. */
export async function saveGrid(file: string, images: readonly Uint8Array[], height: number, width: number, columns: number): Promise<void> {
  const zoom = Math.max(1, Math.ceil(GRID_MIN_CELL / Math.min(height, width)));
  const cellH = height * zoom;
  const cellW = width * zoom;
  const rows = Math.ceil(images.length / columns);
  const gw = columns * cellW;
  const grid = new Uint8Array(rows * cellH * gw * 3).fill(255);
  images.forEach((img, k) => {
    const ox = (k % columns) * cellW;
    const oy = Math.floor(k / columns) * cellH;
    const row = new Uint8Array(cellW * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < cellW; x++)
        row.set(img.subarray((y * width + Math.floor(x / zoom)) * 3, (y * width + Math.floor(x / zoom)) * 3 + 3), x * 3);
      for (let dy = 0; dy < zoom; dy++) grid.set(row, ((oy + y * zoom + dy) * gw + ox) * 3);
    }
  });
  await sharp(Buffer.from(grid), { raw: { width: gw, height: rows * cellH, channels: 3 } })
    .png()
    .toFile(file);
}
