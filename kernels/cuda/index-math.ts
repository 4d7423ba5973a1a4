// Integer index arithmetic written once and read two ways: rendered as C expressions into a kernel,
// or evaluated on numbers by the TS emulator that checks a template's tiling without a GPU.

export interface IntOps<T> {
  lit(n: number): T;
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  /** Division and remainder of non-negative values (C's int / and %). */
  div(a: T, b: T): T;
  mod(a: T, b: T): T;
  xor(a: T, b: T): T;
  min(a: T, b: T): T;
}

export const evaluate: IntOps<number> = {
  lit: (n) => n,
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => Math.trunc(a / b),
  mod: (a, b) => a % b,
  xor: (a, b) => a ^ b,
  min: (a, b) => Math.min(a, b),
};

const isLiteral = (s: string) => /^-?\d+$/.test(s);
/** Wraps compound expressions in parentheses so that the rendered C keeps the intended order. */
const wrap = (s: string) => (/^[\w.]+$/.test(s) || /^-?\d+$/.test(s) ? s : `(${s})`);

/** C rendering with constant folding and the identities x+0, x*1, x*0, x/1, x%1, x^0. */
export const render: IntOps<string> = {
  lit: (n) => String(n),
  add: (a, b) => (isLiteral(a) && isLiteral(b) ? String(Number(a) + Number(b)) : a === "0" ? b : b === "0" ? a : `${wrap(a)} + ${wrap(b)}`),
  sub: (a, b) => (isLiteral(a) && isLiteral(b) ? String(Number(a) - Number(b)) : b === "0" ? a : `${wrap(a)} - ${wrap(b)}`),
  mul: (a, b) =>
    isLiteral(a) && isLiteral(b)
      ? String(Number(a) * Number(b))
      : a === "0" || b === "0"
        ? "0"
        : a === "1"
          ? b
          : b === "1"
            ? a
            : `${wrap(a)} * ${wrap(b)}`,
  div: (a, b) =>
    isLiteral(a) && isLiteral(b) ? String(Math.trunc(Number(a) / Number(b))) : b === "1" ? a : a === "0" ? "0" : `${wrap(a)} / ${wrap(b)}`,
  mod: (a, b) => (isLiteral(a) && isLiteral(b) ? String(Number(a) % Number(b)) : b === "1" || a === "0" ? "0" : `${wrap(a)} % ${wrap(b)}`),
  xor: (a, b) => (isLiteral(a) && isLiteral(b) ? String(Number(a) ^ Number(b)) : b === "0" ? a : a === "0" ? b : `${wrap(a)} ^ ${wrap(b)}`),
  min: (a, b) => (isLiteral(a) && isLiteral(b) ? String(Math.min(Number(a), Number(b))) : `min(${a}, ${b})`),
};
