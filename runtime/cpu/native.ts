// Native memory for the CPU device: 64-byte aligned blocks outside the JS heap, so kernels get
// stable pointers and JS reads and writes them through typed-array views without copies.

import koffi from "koffi";

export interface NativeBlock {
  readonly address: bigint;
  readonly bytes: number;
  readonly view: ArrayBuffer;
  free(): void;
}

const ALIGN = 64n;

export function allocate(bytes: number): NativeBlock {
  const size = Math.max(bytes, 1);
  const raw = koffi.alloc("uint8", size + Number(ALIGN));
  const address = (BigInt(raw as unknown as bigint) + ALIGN - 1n) & ~(ALIGN - 1n);
  const view = koffi.view(address as unknown as object, size) as ArrayBuffer;
  new Uint8Array(view).fill(0);
  let live = true;
  return {
    address,
    bytes: size,
    view,
    free() {
      if (live) koffi.free(raw);
      live = false;
    },
  };
}
