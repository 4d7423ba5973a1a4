// The fused operations a backend runs as one template, named once. Graph calls with these names are
// kept whole by the passes (passes.ts) and scheduled as template groups (schedule.ts); lower.ts
// turns each into a typed template statement (kernel-ir.ts: GemmArgs, AttentionArgs) that every
// renderer reads as it is, with SIMT code (gpu-gemm.ts, gpu-attention.ts) or the C templates as the
// lowering for a device without a hand-written kernel. The GEMM and the multi-tensor update are not
// calls: the scheduler finds them (a dot with its epilogue; the optimizer's independent updates).

import type { Tensor } from "./graph.ts";

/** The calls a template runs whole: attention and its backward. */
export const TEMPLATE_CALL_NAMES = ["attention", "attention_bwd"] as const;
export type TemplateCallName = (typeof TEMPLATE_CALL_NAMES)[number];

export const isTemplateCall = (name: string): name is TemplateCallName => (TEMPLATE_CALL_NAMES as readonly string[]).includes(name);

/** The template a kept, not checkpointed call runs as; any other name is an error naming the known ones. */
export function templateCallOf(call: Tensor<"call">): TemplateCallName {
  const { name } = call.attrs;
  if (!isTemplateCall(name))
    throw new Error(
      `schedule: call '${name}' is kept whole but no template runs it; template calls are ${TEMPLATE_CALL_NAMES.join(", ")} (or mark the call checkpoint: true)`,
    );
  return name;
}

/** What nn.attention records on its call and its backward's: heads, key/value heads, scale and masking. */
// A type, not an interface, so that it is a call's Record<string, …> of metadata as it is.
export type AttentionMeta = {
  readonly heads: number;
  readonly kvHeads: number;
  readonly scale: number;
  readonly causal: boolean;
  readonly masked: boolean;
};

/** The attention metadata of an attention or attention_bwd call, checked. */
export function attentionMeta(call: Tensor<"call">): AttentionMeta {
  const meta = call.attrs.meta ?? {};
  const number = (key: string): number => {
    const value = meta[key];
    if (typeof value !== "number" || !Number.isFinite(value))
      throw new Error(`${call.attrs.name}: meta.${key} must be a finite number, got ${JSON.stringify(value)}`);
    return value;
  };
  const heads = number("heads");
  return {
    heads,
    kvHeads: meta.kvHeads === undefined ? heads : number("kvHeads"),
    scale: number("scale"),
    causal: meta.causal === true,
    masked: meta.masked === true,
  };
}
