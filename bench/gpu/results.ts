// The GPU run's results in the CUDA issue's format, from the files each part writes to $OUT:
//   { "card", "date", "rows": [{ "name", "kiln_ms", "tflops", "peers": { "torch_ms", "torch_compile_ms" } }] }
// (extra fields are allowed and carry what the ratios need to be read: images/s, GB/s, why a peer is
// missing). Rows come from train.json (kiln's training step and norms), train-torch.json (their PyTorch
// peers, bench/peers/aaa_dit_torch.py) and smoke.json (GEMM and attention against torch.matmul and SDPA).
// Pure functions over parsed JSON, so test/gpu-results.test.ts checks them on sample inputs.

export interface PeerTimes {
  torch_ms: number | null;
  torch_compile_ms: number | null;
  /** torch.compile(mode="max-autotune-no-cudagraphs"), when the peer's budget allowed it. */
  torch_compile_max_autotune_ms?: number | null;
}

export interface IssueRow {
  name: string;
  kiln_ms: number | null;
  /** kiln's achieved TFLOP/s (model FLOPs / kiln_ms; null for memory-bound rows). */
  tflops: number | null;
  peers: PeerTimes;
  what?: string;
  /** kiln_ms / peer ms, per peer. */
  ratios?: Record<string, number>;
  images_per_s?: number | null;
  gbps?: number | null;
  /** Why a kiln time or a peer time is missing. */
  missing?: Record<string, string>;
  kernel?: string;
}

export interface IssueResults {
  card: string;
  date: string;
  rows: IssueRow[];
  torch?: string;
  conventions: string[];
  failures: string[];
}

export interface RunFiles {
  /** Parsed JSON of each file, or undefined when the file is absent or unreadable. */
  train?: unknown;
  torch?: unknown;
  smoke?: unknown;
  /** nvidia-smi's CSV (name first), the card's name when no JSON names it. */
  nvidiaSmi?: string;
}

const PEER_VARIANTS: Record<string, keyof PeerTimes> = {
  eager: "torch_ms",
  compile: "torch_compile_ms",
  compile_max_autotune: "torch_compile_max_autotune_ms",
};
const RATIO_NAMES: Record<keyof PeerTimes, string> = {
  torch_ms: "torch",
  torch_compile_ms: "torch_compile",
  torch_compile_max_autotune_ms: "torch_compile_max_autotune",
};

const record = (x: unknown): Record<string, unknown> | null =>
  typeof x === "object" && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : null;
const num = (x: unknown): number | null => (typeof x === "number" && Number.isFinite(x) ? x : null);
const str = (x: unknown): string | null => (typeof x === "string" ? x : null);
const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);

/** "NVIDIA H100 80GB HBM3" → "h100-80gb-hbm3": the card's part of a results file name. */
export function cardSlug(card: string): string {
  const slug = card
    .toLowerCase()
    .replace(/^nvidia\s+/, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return slug || "unknown-card";
}

export const resultsFileName = (results: Pick<IssueResults, "card" | "date">): string => `gpu-${cardSlug(results.card)}-${results.date}.json`;

/** The card's name: kiln's report, else the torch peer's, else nvidia-smi's first data row. */
function cardName(files: RunFiles): string {
  const fromTrain = str(record(files.train)?.device);
  const fromSmoke = str(record(record(files.smoke)?.device)?.name);
  const fromTorch = str(record(files.torch)?.device);
  const fromSmi = files.nvidiaSmi?.split("\n")[1]?.split(",")[0]?.trim();
  return fromTrain ?? fromSmoke ?? fromTorch ?? (fromSmi || "unknown card");
}

/** The peer's times for one row, and why each missing one is missing. */
function peerTimes(torchRows: Record<string, unknown> | null, name: string): { peers: PeerTimes; missing: Record<string, string> } {
  const peers: PeerTimes = { torch_ms: null, torch_compile_ms: null };
  const missing: Record<string, string> = {};
  const variants = record(torchRows?.[name]);
  for (const [variant, key] of Object.entries(PEER_VARIANTS)) {
    const m = record(variants?.[variant]);
    // max-autotune is tried for the training step only: rows without it get no such field.
    if (key === "torch_compile_max_autotune_ms" && !m) continue;
    const ms = num(m?.ms);
    peers[key] = ms;
    if (ms === null)
      missing[key] =
        str(m?.skipped) ??
        str(m?.error) ??
        (torchRows ? "the peer reported nothing for this row" : "no PyTorch peer results (train-torch.json missing or unreadable)");
  }
  return { peers, missing };
}

function ratios(kilnMs: number | null, peers: PeerTimes): Record<string, number> | undefined {
  if (kilnMs === null) return undefined;
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(peers) as [keyof PeerTimes, number | null | undefined][])
    if (typeof value === "number" && value > 0) out[RATIO_NAMES[key]] = kilnMs / value;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Rows of kiln's train.json joined with their PyTorch peers (peer-only rows kept, kiln_ms null). */
function trainRows(files: RunFiles, failures: string[]): IssueRow[] {
  const train = record(files.train);
  const torch = record(files.torch);
  const torchRows = record(torch?.rows);
  const rows: IssueRow[] = [];
  const seen = new Set<string>();
  for (const raw of list(train?.rows)) {
    const r = record(raw);
    const name = str(r?.name);
    if (!r || !name) continue;
    seen.add(name);
    const kilnMs = num(r.kiln_ms);
    const { peers, missing } = peerTimes(torchRows, name);
    if (kilnMs === null) missing.kiln_ms = str(r.error) ?? "kiln reported no time";
    const row: IssueRow = { name, kiln_ms: kilnMs, tflops: num(r.tflops), peers };
    const what = str(r.what);
    if (what) row.what = what;
    if ("images_per_s" in r) row.images_per_s = num(r.images_per_s);
    if ("gbps" in r) row.gbps = num(r.gbps);
    const rs = ratios(kilnMs, peers);
    if (rs) row.ratios = rs;
    if (Object.keys(missing).length > 0) row.missing = missing;
    rows.push(row);
  }
  for (const name of Object.keys(torchRows ?? {})) {
    if (seen.has(name)) continue;
    const { peers, missing } = peerTimes(torchRows, name);
    rows.push({
      name,
      kiln_ms: null,
      tflops: null,
      peers,
      missing: { ...missing, kiln_ms: train ? "kiln reported no such row" : "no kiln results (train.json missing or unreadable)" },
    });
  }
  for (const f of list(train?.failures)) {
    const step = str(record(f)?.step);
    if (step) failures.push(`train: ${step}`);
  }
  for (const s of list(torch?.skipped)) if (typeof s === "string") failures.push(`torch peer skipped ${s}`);
  return rows;
}

/** smoke.json's timings: the fastest kernel per shape, against torch.matmul / SDPA (torch.compile does not apply). */
function smokeRows(files: RunFiles, failures: string[]): IssueRow[] {
  const smoke = record(files.smoke);
  if (!smoke) return [];
  const peers = record(smoke.peers);
  const best = new Map<string, { ms: number; kernel: string; tflops: number | null; gbps: number | null }>();
  for (const raw of list(smoke.timings)) {
    const t = record(raw);
    const what = str(t?.what);
    const ms = num(t?.ms);
    if (!what || ms === null) continue;
    const known = best.get(what);
    if (!known || ms < known.ms) best.set(what, { ms, kernel: str(t?.kernel) ?? "", tflops: num(t?.tflops), gbps: num(t?.gbps) });
  }
  for (const f of list(smoke.failures)) {
    const step = str(record(f)?.step);
    if (step) failures.push(`smoke: ${step}`);
  }
  return [...best].map(([what, b]) => {
    const torchMs = num(peers?.[what]);
    const p: PeerTimes = { torch_ms: torchMs, torch_compile_ms: null };
    const row: IssueRow = {
      name: what,
      kiln_ms: b.ms,
      tflops: b.tflops,
      peers: p,
      kernel: b.kernel,
      missing: { torch_compile_ms: "not measured for single-kernel rows (torch.matmul and SDPA are library kernels)" },
    };
    if (torchMs === null) row.missing!.torch_ms = peers ? "the peer reported nothing for this shape" : "no torch peer results in smoke.json";
    if (b.gbps !== null) row.gbps = b.gbps;
    const rs = ratios(b.ms, p);
    if (rs) row.ratios = rs;
    return row;
  });
}

/** All rows of a run in the issue's format; `date` is the run's day (YYYY-MM-DD). */
export function mergeResults(files: RunFiles, date: string): IssueResults {
  const failures: string[] = [];
  const rows = [...trainRows(files, failures), ...smokeRows(files, failures)];
  const torch = str(record(files.torch)?.torch) ?? str(record(record(files.smoke)?.peers)?.torch);
  const conventions = list(record(files.train)?.conventions).filter((c): c is string => typeof c === "string");
  conventions.push(
    ...list(record(files.torch)?.notes)
      .filter((c): c is string => typeof c === "string")
      .map((n) => `torch peer: ${n}`),
  );
  return { card: cardName(files), date, rows, ...(torch ? { torch } : {}), conventions, failures };
}

const cell = (x: number | null | undefined, digits: number, width: number): string =>
  (typeof x === "number" ? x.toFixed(digits) : "-").padStart(width);

/** The short table the run prints last. */
export function resultsTable(results: IssueResults): string {
  const lines = [`${results.card}, ${results.date}${results.torch ? `, torch ${results.torch}` : ""}`];
  lines.push(
    `${"row".padEnd(44)} ${"kiln ms".padStart(9)} ${"TFLOP/s".padStart(8)} ${"torch ms".padStart(9)} ${"compile".padStart(9)} ${"kiln/torch".padStart(10)} ${"kiln/compile".padStart(12)}`,
  );
  for (const r of results.rows) {
    const ratio = (peer: number | null | undefined) => (r.kiln_ms !== null && typeof peer === "number" && peer > 0 ? r.kiln_ms / peer : null);
    lines.push(
      `${r.name.slice(0, 44).padEnd(44)} ${cell(r.kiln_ms, 3, 9)} ${cell(r.tflops, 1, 8)} ${cell(r.peers.torch_ms, 3, 9)} ${cell(r.peers.torch_compile_ms, 3, 9)} ${cell(ratio(r.peers.torch_ms), 2, 10)} ${cell(ratio(r.peers.torch_compile_ms), 2, 12)}`,
    );
  }
  for (const r of results.rows.filter((x) => typeof x.peers.torch_compile_max_autotune_ms === "number"))
    lines.push(
      `${r.name}: torch.compile max-autotune-no-cudagraphs ${r.peers.torch_compile_max_autotune_ms!.toFixed(3)} ms (kiln/that ${r.kiln_ms !== null ? (r.kiln_ms / r.peers.torch_compile_max_autotune_ms!).toFixed(2) : "-"})`,
    );
  for (const r of results.rows.filter((x) => typeof x.images_per_s === "number"))
    lines.push(`${r.name}: kiln ${r.images_per_s!.toFixed(0)} images/s`);
  // Why times are missing, each reason once with the cells it explains (single-kernel rows have no torch.compile peer by design).
  const reasons = new Map<string, string[]>();
  for (const r of results.rows)
    for (const [key, why] of Object.entries(r.missing ?? {}))
      if (key !== "torch_compile_ms" || r.kernel === undefined) reasons.set(why, [...(reasons.get(why) ?? []), `${r.name} ${key}`]);
  if (reasons.size > 0)
    lines.push(
      "missing:",
      ...[...reasons].map(
        ([why, cells]) => `  ${why} (${cells.length > 4 ? `${cells.slice(0, 4).join(", ")}, … ${cells.length} in all` : cells.join(", ")})`,
      ),
    );
  if (results.failures.length > 0) lines.push(`failed or skipped: ${results.failures.join("; ")}`);
  return lines.join("\n");
}
