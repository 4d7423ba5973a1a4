// The stable, diffable text form of a graph: nodes numbered in topological order from the roots
// (never by process ids), one per line, call bodies indented beneath their call.

import { describe, toposort, type Tensor } from "./graph.ts";

function attrsText(node: Tensor): string {
  if (node.op === "call") {
    const { name, checkpoint, vjp } = (node as Tensor<"call">).attrs;
    return ` "${name}"${checkpoint ? " checkpoint" : ""}${vjp ? " custom-vjp" : ""}`;
  }
  if (node.op === "input") {
    const { name, role } = (node as Tensor<"input">).attrs;
    return ` ${role} "${name}"`;
  }
  const attrs = node.attrs as Record<string, unknown>;
  const keys = Object.keys(attrs);
  return keys.length ? " " + keys.map((k) => `${k}=${JSON.stringify(attrs[k])}`).join(" ") : "";
}

/** One line per node: `%3 = add %1 %2 : f32[2,3]`, roots marked `-> out0`. */
export function graphText(roots: readonly Tensor[], indent = ""): string {
  const order = toposort(roots);
  const names = new Map(order.map((t, i) => [t, `%${i}`]));
  const lines: string[] = [];
  for (const node of order) {
    const args = node.inputs.map((i) => names.get(i)!).join(" ");
    const outs = roots.flatMap((r, i) => (r === node ? [`out${i}`] : []));
    lines.push(
      `${indent}${names.get(node)} = ${node.op}${attrsText(node)}${args ? " " + args : ""} : ${describe(node)}${outs.length ? "  -> " + outs.join(" ") : ""}`,
    );
    if (node.op === "call") {
      const { body } = (node as Tensor<"call">).attrs;
      lines.push(`${indent}  { (${body.params.map(describe).join(", ")}) ->`);
      lines.push(graphText([body.out], indent + "    "));
      lines.push(`${indent}  }`);
    }
  }
  return lines.join("\n");
}
