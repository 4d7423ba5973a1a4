// The CPU benchmark peers, for `kiln bench cpu` and bench/peers-check.ts: each runs every row of
// bench/rows.ts in its own library, measured in the same process as kiln.

import { jaxjsPeer } from "./jaxjs.ts";
import { tfjsPeer } from "./tfjs.ts";
import type { DitPeer } from "./types.ts";

export { jaxjsPeer } from "./jaxjs.ts";
export { tfjsPeer } from "./tfjs.ts";
export { type DitPeer, isSkipped, type Measurement, type Peer } from "./types.ts";

/** Every CPU peer, in table order. Call `init()` on each before `measure`. */
export const cpuPeers: readonly DitPeer[] = [tfjsPeer, jaxjsPeer];
