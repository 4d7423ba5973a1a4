// The registry of fused operations a device may run as one kernel of its own ("templates"), named
// once. Each spec holds the scheduler's matching rule (which graph nodes it keeps whole), the typed
// argument record the lowering fills in (kernel-ir.ts: GemmArgs, AttentionArgs), and what a device
// that does not run it gets instead: the same computation in primitives, rewritten before scheduling
// (passes.ts: a dot as a product summed over K, an attention call as its body, the optimizer's
// updates as one kernel each). A device lists the templates it runs in its facts; each renderer
// holds its own lowering per template as a TemplateLowerings table (c.ts: the C templates of
// kernels/cpu; gpu-lower.ts: SIMT code, which WGSL renders; cuda.ts: tensor-core kernels where the
// problem fits, else the SIMT code).

import type { Tensor } from "./graph.ts";
import type { TemplateStmt } from "./kernel-ir.ts";

/** The templates, in the order the scheduler tries them. */
export const TEMPLATE_NAMES = ["gemm", "attention", "attention_bwd", "multi"] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

/** A set of templates: those a device runs, or those a program may use. */
export type TemplateSet = ReadonlySet<TemplateName>;
export const ALL_TEMPLATES: TemplateSet = new Set(TEMPLATE_NAMES);

export interface TemplateSpec {
  readonly name: TemplateName;
  /** The scheduler's matching rule, in words (docs, `kiln` errors). */
  readonly rule: string;
  /** The graph call that is this template (kept whole by the passes), or null for one the scheduler finds. */
  readonly call: string | null;
  /** Whether a realized node starts a group of this template (the scheduler asks each spec in turn). */
  readonly starts: (node: Tensor) => boolean;
  /** The typed arguments its lowering fills in (kernel-ir.ts), in words. */
  readonly args: string;
  /** What a device that does not run it gets instead, in words; passes.ts rewrites the graph so. */
  readonly primitives: string;
}

const isCallNamed = (node: Tensor, name: string): boolean =>
  node.op === "call" && (node as Tensor<"call">).attrs.name === name && !(node as Tensor<"call">).attrs.checkpoint;

export const TEMPLATES: { readonly [N in TemplateName]: TemplateSpec & { readonly name: N } } = {
  gemm: {
    name: "gemm",
    rule: "a dot [...batch, M, K]·[...batch, K, N] whose operands are strided views, with the elementwise tail that reads only its output (bias, activation, residual, gate)",
    call: null,
    starts: (node) => node.op === "dot",
    args: "GemmArgs: sizes, each operand's offset and batch/row/column strides, the epilogue",
    primitives: "the dot as an elementwise product of its broadcast operands summed over K, in f32 (a reduce kernel)",
  },
  attention: {
    name: "attention",
    rule: "the call nn.attention makes (q, k, v [, key mask] in the 'b s (n d)' layout)",
    call: "attention",
    starts: (node) => isCallNamed(node, "attention"),
    args: "AttentionArgs: batch, heads, KV heads, sequence lengths, head size, scale, causal, mask, one view per operand",
    primitives: "the call's body: two dots and a softmax, the scores held in memory",
  },
  attention_bwd: {
    name: "attention_bwd",
    rule: "the backward call of nn.attention (dq, dk, dv from q, k, v, the output and its cotangent)",
    call: "attention_bwd",
    starts: (node) => isCallNamed(node, "attention_bwd"),
    args: "AttentionArgs, with views of o and do",
    primitives: "the call's body: the differentiated forward",
  },
  multi: {
    name: "multi",
    rule: "the elementwise kernels nothing else reads, joined into one (the optimizer's update of every parameter)",
    call: null,
    starts: () => false,
    args: "none: the kernel is the parts' loop nests in one parallel region",
    primitives: "one kernel per part",
  },
};

/** The calls a template runs whole: attention and its backward. */
export const TEMPLATE_CALL_NAMES = TEMPLATE_NAMES.flatMap((n) => (TEMPLATES[n].call === null ? [] : [TEMPLATES[n].call])) as readonly string[];
export type TemplateCallName = "attention" | "attention_bwd";

/** The template a call names, if any. */
export const templateOfCall = (name: string): TemplateName | undefined => TEMPLATE_NAMES.find((n) => TEMPLATES[n].call === name);

/** The template a kept, not checkpointed call runs as; any other name is an error naming the known ones. */
export function templateCallOf(call: Tensor<"call">): TemplateCallName {
  const { name } = call.attrs;
  const template = templateOfCall(name);
  if (template !== "attention" && template !== "attention_bwd")
    throw new Error(
      `schedule: call '${name}' is kept whole but no template runs it; template calls are ${TEMPLATE_CALL_NAMES.join(", ")} (or mark the call checkpoint: true)`,
    );
  return template;
}

/** Template names as given by a device or a user, checked: an unknown name is an error listing the known ones. */
export function templateSet(names: Iterable<string>, where: string): TemplateSet {
  const set = new Set<TemplateName>();
  for (const name of names) {
    if (!(TEMPLATE_NAMES as readonly string[]).includes(name))
      throw new Error(`${where}: unknown template '${name}'; the templates are ${TEMPLATE_NAMES.join(", ")}`);
    set.add(name as TemplateName);
  }
  return set;
}

/** A template statement of one kind. */
export type TemplateStmtOf<N extends TemplateStmt["template"]> = TemplateStmt & { readonly template: N };

/**
 * One renderer's lowering of the template statements: a function per template it has its own
 * kernel for, which may return null when a problem does not fit that kernel (a tensor-core GEMM
 * whose sizes are not multiples of its tile, say).
 */
export type TemplateLowerings<Ctx, Out> = { readonly [N in TemplateStmt["template"]]?: (stmt: TemplateStmtOf<N>, ctx: Ctx) => Out | null };

/**
 * A template statement lowered by `lowerings`, else by `fallback` (a renderer's generic code for a
 * template it has no kernel of its own for, or for a problem its kernel declines); a renderer with
 * no fallback names itself, and the statement is an error telling how to run it instead.
 */
export function lowerTemplate<Ctx, Out>(
  renderer: string,
  lowerings: TemplateLowerings<Ctx, Out>,
  stmt: TemplateStmt,
  ctx: Ctx,
  fallback?: (stmt: TemplateStmt, ctx: Ctx) => Out,
): Out {
  const lower = lowerings[stmt.template] as ((stmt: TemplateStmt, ctx: Ctx) => Out | null) | undefined;
  const out = lower ? lower(stmt, ctx) : null;
  if (out !== null) return out;
  if (fallback) return fallback(stmt, ctx);
  throw new Error(
    `${renderer}: no lowering of the '${stmt.template}' template${lower ? " for this problem" : ""} and no fallback; a device with this renderer must leave '${stmt.template}' out of its facts' templates, so that the scheduler lowers it to primitives (${TEMPLATES[stmt.template].primitives})`,
  );
}

/** The templates a table of lowerings covers (a device's facts list them with "multi", which every renderer runs as loops). */
export const templatesOf = (lowerings: TemplateLowerings<never, unknown>): TemplateSet =>
  new Set<TemplateName>(["multi", ...(Object.keys(lowerings) as TemplateName[])]);

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
