// kiln WGSL prelude
// Infinity and NaN from bits at run time (a constant expression may not be infinite or NaN).
fn kiln_f32_bits(bits: u32) -> f32 { var b = bits; return bitcast<f32>(b); }
// NaN-propagating max (the first operand's NaN wins), as the C backend's.
fn kiln_maxf(a: f32, b: f32) -> f32 { return select(b, a, (a > b || a != a)); }
// Round to bf16 (nearest even) and back; NaN stays NaN.
fn kiln_round_bf16(x: f32) -> f32 {
  let bits = bitcast<u32>(x);
  if ((bits & 0x7fffffffu) > 0x7f800000u) { return x; }
  return bitcast<f32>((bits + 0x7fffu + ((bits >> 16u) & 1u)) & 0xffff0000u);
}
fn kiln_round_f16(x: f32) -> f32 { return unpack2x16float(pack2x16float(vec2<f32>(x, 0.0))).x; }
// High 32 bits of a u32 product from 16-bit halves (WGSL has no 64-bit integers), as compiler/philox.ts.
fn kiln_mulhi(a: u32, b: u32) -> u32 {
  let a_lo = a & 0xffffu; let a_hi = a >> 16u; let b_lo = b & 0xffffu; let b_hi = b >> 16u;
  let lo_hi = a_lo * b_hi; let hi_lo = a_hi * b_lo;
  let carry = (((a_lo * b_lo) >> 16u) + (lo_hi & 0xffffu) + (hi_lo & 0xffffu)) >> 16u;
  return a_hi * b_hi + (lo_hi >> 16u) + (hi_lo >> 16u) + carry;
}
// kiln's Philox4x32-10 uniform (compiler/philox.ts): key (seed, 0), counter (i >> 2, offset, 0, 0),
// word i & 3, (bits >> 8) · 2^-24.
fn kiln_philox(seed: u32, offset: u32, i: u32) -> f32 {
  var c0 = i >> 2; var c1 = offset; var c2 = 0u; var c3 = 0u; var k0 = seed; var k1 = 0u;
  for (var round = 0; round < 10; round += 1) {
    let hi0 = kiln_mulhi(0xD2511F53u, c0); let lo0 = 0xD2511F53u * c0;
    let hi1 = kiln_mulhi(0xCD9E8D57u, c2); let lo1 = 0xCD9E8D57u * c2;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  let w = select(select(select(c3, c2, (i & 3u) == 2u), c1, (i & 3u) == 1u), c0, (i & 3u) == 0u);
  return f32(w >> 8) * 5.9604644775390625e-8;
}

// arena: 4416 words
// launch reduce_4x300_0: 4 × 256
// reduce_4x300_0: reduce: sum[4,1], reduce_max[4,1], mul[4,300]

@group(0) @binding(0) var<storage, read_write> arena: array<u32>;
const p0: i32 = 0; // buffer 0 (f32[1200]), word offset
const p1: i32 = 3136; // buffer 3 (f32[1200]), word offset
var<workgroup> tree_acc0: array<f32, 256>;
var<workgroup> tree_acc1: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) kiln_local: u32, @builtin(workgroup_id) kiln_group: vec3<u32>) {
  let tid: i32 = i32(kiln_local);
  let bid: i32 = i32(kiln_group.x);
  for (var row: i32 = bid; row < 4; row += 4) {
    var acc0: f32 = (-kiln_f32_bits(0x7f800000u));
    for (var e1: i32 = tid; e1 < 300; e1 += 256) {
      let t0: f32 = bitcast<f32>(arena[p0 + (e1 + (row * 300))]);
      acc0 = select(t0, acc0, (t0 < acc0));
    }
    tree_acc0[tid] = acc0;
    workgroupBarrier();
    let t1: bool = (tid < 128);
    if (t1) {
      tree_acc0[tid] = select(tree_acc0[(tid + 128)], tree_acc0[tid], (tree_acc0[(tid + 128)] < tree_acc0[tid]));
    }
    workgroupBarrier();
    let t2: bool = (tid < 64);
    if (t2) {
      tree_acc0[tid] = select(tree_acc0[(tid + 64)], tree_acc0[tid], (tree_acc0[(tid + 64)] < tree_acc0[tid]));
    }
    workgroupBarrier();
    let t3: bool = (tid < 32);
    if (t3) {
      tree_acc0[tid] = select(tree_acc0[(tid + 32)], tree_acc0[tid], (tree_acc0[(tid + 32)] < tree_acc0[tid]));
    }
    workgroupBarrier();
    let t4: bool = (tid < 16);
    if (t4) {
      tree_acc0[tid] = select(tree_acc0[(tid + 16)], tree_acc0[tid], (tree_acc0[(tid + 16)] < tree_acc0[tid]));
    }
    workgroupBarrier();
    let t5: bool = (tid < 8);
    if (t5) {
      tree_acc0[tid] = select(tree_acc0[(tid + 8)], tree_acc0[tid], (tree_acc0[(tid + 8)] < tree_acc0[tid]));
    }
    workgroupBarrier();
    let t6: bool = (tid < 4);
    if (t6) {
      tree_acc0[tid] = select(tree_acc0[(tid + 4)], tree_acc0[tid], (tree_acc0[(tid + 4)] < tree_acc0[tid]));
    }
    workgroupBarrier();
    let t7: bool = (tid < 2);
    if (t7) {
      tree_acc0[tid] = select(tree_acc0[(tid + 2)], tree_acc0[tid], (tree_acc0[(tid + 2)] < tree_acc0[tid]));
    }
    workgroupBarrier();
    let t8: bool = (tid < 1);
    if (t8) {
      tree_acc0[tid] = select(tree_acc0[(tid + 1)], tree_acc0[tid], (tree_acc0[(tid + 1)] < tree_acc0[tid]));
    }
    workgroupBarrier();
    acc0 = tree_acc0[0];
    workgroupBarrier();
    var acc1: f32 = 0.00000000f;
    for (var e23: i32 = tid; e23 < 300; e23 += 256) {
      acc1 = (acc1 + exp2(((bitcast<f32>(arena[p0 + (e23 + (row * 300))]) + (-acc0)) * 1.44269502f)));
    }
    tree_acc1[tid] = acc1;
    workgroupBarrier();
    if (t1) {
      tree_acc1[tid] = (tree_acc1[tid] + tree_acc1[(tid + 128)]);
    }
    workgroupBarrier();
    if (t2) {
      tree_acc1[tid] = (tree_acc1[tid] + tree_acc1[(tid + 64)]);
    }
    workgroupBarrier();
    if (t3) {
      tree_acc1[tid] = (tree_acc1[tid] + tree_acc1[(tid + 32)]);
    }
    workgroupBarrier();
    if (t4) {
      tree_acc1[tid] = (tree_acc1[tid] + tree_acc1[(tid + 16)]);
    }
    workgroupBarrier();
    if (t5) {
      tree_acc1[tid] = (tree_acc1[tid] + tree_acc1[(tid + 8)]);
    }
    workgroupBarrier();
    if (t6) {
      tree_acc1[tid] = (tree_acc1[tid] + tree_acc1[(tid + 4)]);
    }
    workgroupBarrier();
    if (t7) {
      tree_acc1[tid] = (tree_acc1[tid] + tree_acc1[(tid + 2)]);
    }
    workgroupBarrier();
    if (t8) {
      tree_acc1[tid] = (tree_acc1[tid] + tree_acc1[(tid + 1)]);
    }
    workgroupBarrier();
    acc1 = tree_acc1[0];
    workgroupBarrier();
    for (var e44: i32 = tid; e44 < 300; e44 += 256) {
      let t9: i32 = (e44 + (row * 300));
      arena[p1 + t9] = bitcast<u32>((exp2(((bitcast<f32>(arena[p0 + t9]) + (-acc0)) * 1.44269502f)) * (1.0 / acc1)));
    }
  }
}

// launch gemm_4x6_1: 1 × 256
// gemm_4x6_1: gemm: dot[4,6]

@group(0) @binding(0) var<storage, read_write> arena: array<u32>;
const p0: i32 = 0; // buffer 0 (f32[1200]), word offset
const p1: i32 = 1216; // buffer 1 (f32[1800]), word offset
const p2: i32 = 3072; // buffer 2 (f32[24]), word offset
var<workgroup> a_tile: array<f32, 1024>;
var<workgroup> b_tile: array<f32, 1024>;
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) kiln_local: u32, @builtin(workgroup_id) kiln_group: vec3<u32>) {
  let tid: i32 = i32(kiln_local);
  var acc_tile: array<f32, 16>;
  var a_frag: array<f32, 4>;
  var b_frag: array<f32, 4>;
  let tile_m: i32 = 0;
  let tile_n: i32 = 0;
  let thread_m: i32 = (tid / 16);
  let thread_n: i32 = (tid % 16);
  acc_tile[0] = 0.00000000f;
  acc_tile[1] = 0.00000000f;
  acc_tile[2] = 0.00000000f;
  acc_tile[3] = 0.00000000f;
  acc_tile[4] = 0.00000000f;
  acc_tile[5] = 0.00000000f;
  acc_tile[6] = 0.00000000f;
  acc_tile[7] = 0.00000000f;
  acc_tile[8] = 0.00000000f;
  acc_tile[9] = 0.00000000f;
  acc_tile[10] = 0.00000000f;
  acc_tile[11] = 0.00000000f;
  acc_tile[12] = 0.00000000f;
  acc_tile[13] = 0.00000000f;
  acc_tile[14] = 0.00000000f;
  acc_tile[15] = 0.00000000f;
  for (var kt: i32 = 0; kt < 19; kt += 1) {
    let t0: i32 = (tid / 16);
    let t1: i32 = (tid % 16);
    let t2: i32 = (t0 + (t1 * 64));
    let t3: i32 = (t0 + (tile_m * 64));
    let t4: i32 = (kt * 16);
    let t5: bool = ((t4 + t1) < 300);
    let t6: i32 = ((t0 * 300) + t1);
    let t7: i32 = ((t6 + (tile_m * 19200)) + t4);
    a_tile[t2] = select(0.00000000f, bitcast<f32>(arena[p0 + t7]), ((t3 < 4) && t5));
    let t8: i32 = (t2 + 16);
    a_tile[t8] = select(0.00000000f, bitcast<f32>(arena[p0 + (t7 + 4800)]), (((t3 + 16) < 4) && t5));
    let t9: i32 = (t2 + 32);
    a_tile[t9] = select(0.00000000f, bitcast<f32>(arena[p0 + (t7 + 9600)]), (((t3 + 32) < 4) && t5));
    let t10: i32 = (t2 + 48);
    a_tile[t10] = select(0.00000000f, bitcast<f32>(arena[p0 + (t7 + 14400)]), (((t3 + 48) < 4) && t5));
    let t11: i32 = (t0 + (tile_n * 64));
    let t12: i32 = ((t6 + (tile_n * 19200)) + t4);
    b_tile[t2] = select(0.00000000f, bitcast<f32>(arena[p1 + t12]), ((t11 < 6) && t5));
    b_tile[t8] = select(0.00000000f, bitcast<f32>(arena[p1 + (t12 + 4800)]), (((t11 + 16) < 6) && t5));
    b_tile[t9] = select(0.00000000f, bitcast<f32>(arena[p1 + (t12 + 9600)]), (((t11 + 32) < 6) && t5));
    b_tile[t10] = select(0.00000000f, bitcast<f32>(arena[p1 + (t12 + 14400)]), (((t11 + 48) < 6) && t5));
    workgroupBarrier();
    let t13: i32 = (thread_m * 4);
    a_frag[0] = a_tile[t13];
    a_frag[1] = a_tile[(t13 + 1)];
    a_frag[2] = a_tile[(t13 + 2)];
    a_frag[3] = a_tile[(t13 + 3)];
    let t14: i32 = (thread_n * 4);
    b_frag[0] = b_tile[t14];
    b_frag[1] = b_tile[(t14 + 1)];
    b_frag[2] = b_tile[(t14 + 2)];
    b_frag[3] = b_tile[(t14 + 3)];
    acc_tile[0] = (acc_tile[0] + (a_frag[0] * b_frag[0]));
    acc_tile[1] = (acc_tile[1] + (a_frag[0] * b_frag[1]));
    acc_tile[2] = (acc_tile[2] + (a_frag[0] * b_frag[2]));
    acc_tile[3] = (acc_tile[3] + (a_frag[0] * b_frag[3]));
    acc_tile[4] = (acc_tile[4] + (a_frag[1] * b_frag[0]));
    acc_tile[5] = (acc_tile[5] + (a_frag[1] * b_frag[1]));
    acc_tile[6] = (acc_tile[6] + (a_frag[1] * b_frag[2]));
    acc_tile[7] = (acc_tile[7] + (a_frag[1] * b_frag[3]));
    acc_tile[8] = (acc_tile[8] + (a_frag[2] * b_frag[0]));
    acc_tile[9] = (acc_tile[9] + (a_frag[2] * b_frag[1]));
    acc_tile[10] = (acc_tile[10] + (a_frag[2] * b_frag[2]));
    acc_tile[11] = (acc_tile[11] + (a_frag[2] * b_frag[3]));
    acc_tile[12] = (acc_tile[12] + (a_frag[3] * b_frag[0]));
    acc_tile[13] = (acc_tile[13] + (a_frag[3] * b_frag[1]));
    acc_tile[14] = (acc_tile[14] + (a_frag[3] * b_frag[2]));
    acc_tile[15] = (acc_tile[15] + (a_frag[3] * b_frag[3]));
    a_frag[0] = a_tile[(t13 + 64)];
    a_frag[1] = a_tile[(t13 + 65)];
    a_frag[2] = a_tile[(t13 + 66)];
    a_frag[3] = a_tile[(t13 + 67)];
    b_frag[0] = b_tile[(t14 + 64)];
    b_frag[1] = b_tile[(t14 + 65)];
    b_frag[2] = b_tile[(t14 + 66)];
    b_frag[3] = b_tile[(t14 + 67)];
    acc_tile[0] = (acc_tile[0] + (a_frag[0] * b_frag[0]));
    acc_tile[1] = (acc_tile[1] + (a_frag[0] * b_frag[1]));
    acc_tile[2] = (acc_tile[2] + (a_frag[0] * b_frag[2]));
    acc_tile[3] = (acc_tile[3] + (a_frag[0] * b_frag[3]));
    acc_tile[4] = (acc_tile[4] + (a_frag[1] * b_frag[0]));
    acc_tile[5] = (acc_tile[5] + (a_frag[1] * b_frag[1]));
    acc_tile[6] = (acc_tile[6] + (a_frag[1] * b_frag[2]));
    acc_tile[7] = (acc_tile[7] + (a_frag[1] * b_frag[3]));
    acc_tile[8] = (acc_tile[8] + (a_frag[2] * b_frag[0]));
    acc_tile[9] = (acc_tile[9] + (a_frag[2] * b_frag[1]));
    acc_tile[10] = (acc_tile[10] + (a_frag[2] * b_frag[2]));
    acc_tile[11] = (acc_tile[11] + (a_frag[2] * b_frag[3]));
    acc_tile[12] = (acc_tile[12] + (a_frag[3] * b_frag[0]));
    acc_tile[13] = (acc_tile[13] + (a_frag[3] * b_frag[1]));
    acc_tile[14] = (acc_tile[14] + (a_frag[3] * b_frag[2]));
    acc_tile[15] = (acc_tile[15] + (a_frag[3] * b_frag[3]));
    a_frag[0] = a_tile[(t13 + 128)];
    a_frag[1] = a_tile[(t13 + 129)];
    a_frag[2] = a_tile[(t13 + 130)];
    a_frag[3] = a_tile[(t13 + 131)];
    b_frag[0] = b_tile[(t14 + 128)];
    b_frag[1] = b_tile[(t14 + 129)];
    b_frag[2] = b_tile[(t14 + 130)];
    b_frag[3] = b_tile[(t14 + 131)];
    acc_tile[0] = (acc_tile[0] + (a_frag[0] * b_frag[0]));
    acc_tile[1] = (acc_tile[1] + (a_frag[0] * b_frag[1]));
    acc_tile[2] = (acc_tile[2] + (a_frag[0] * b_frag[2]));
    acc_tile[3] = (acc_tile[3] + (a_frag[0] * b_frag[3]));
    acc_tile[4] = (acc_tile[4] + (a_frag[1] * b_frag[0]));
    acc_tile[5] = (acc_tile[5] + (a_frag[1] * b_frag[1]));
    acc_tile[6] = (acc_tile[6] + (a_frag[1] * b_frag[2]));
    acc_tile[7] = (acc_tile[7] + (a_frag[1] * b_frag[3]));
    acc_tile[8] = (acc_tile[8] + (a_frag[2] * b_frag[0]));
    acc_tile[9] = (acc_tile[9] + (a_frag[2] * b_frag[1]));
    acc_tile[10] = (acc_tile[10] + (a_frag[2] * b_frag[2]));
    acc_tile[11] = (acc_tile[11] + (a_frag[2] * b_frag[3]));
    acc_tile[12] = (acc_tile[12] + (a_frag[3] * b_frag[0]));
    acc_tile[13] = (acc_tile[13] + (a_frag[3] * b_frag[1]));
    acc_tile[14] = (acc_tile[14] + (a_frag[3] * b_frag[2]));
    acc_tile[15] = (acc_tile[15] + (a_frag[3] * b_frag[3]));
    a_frag[0] = a_tile[(t13 + 192)];
    a_frag[1] = a_tile[(t13 + 193)];
    a_frag[2] = a_tile[(t13 + 194)];
    a_frag[3] = a_tile[(t13 + 195)];
    b_frag[0] = b_tile[(t14 + 192)];
    b_frag[1] = b_tile[(t14 + 193)];
    b_frag[2] = b_tile[(t14 + 194)];
    b_frag[3] = b_tile[(t14 + 195)];
    acc_tile[0] = (acc_tile[0] + (a_frag[0] * b_frag[0]));
    acc_tile[1] = (acc_tile[1] + (a_frag[0] * b_frag[1]));
    acc_tile[2] = (acc_tile[2] + (a_frag[0] * b_frag[2]));
    acc_tile[3] = (acc_tile[3] + (a_frag[0] * b_frag[3]));
    acc_tile[4] = (acc_tile[4] + (a_frag[1] * b_frag[0]));
    acc_tile[5] = (acc_tile[5] + (a_frag[1] * b_frag[1]));
    acc_tile[6] = (acc_tile[6] + (a_frag[1] * b_frag[2]));
    acc_tile[7] = (acc_tile[7] + (a_frag[1] * b_frag[3]));
    acc_tile[8] = (acc_tile[8] + (a_frag[2] * b_frag[0]));
    acc_tile[9] = (acc_tile[9] + (a_frag[2] * b_frag[1]));
    acc_tile[10] = (acc_tile[10] + (a_frag[2] * b_frag[2]));
    acc_tile[11] = (acc_tile[11] + (a_frag[2] * b_frag[3]));
    acc_tile[12] = (acc_tile[12] + (a_frag[3] * b_frag[0]));
    acc_tile[13] = (acc_tile[13] + (a_frag[3] * b_frag[1]));
    acc_tile[14] = (acc_tile[14] + (a_frag[3] * b_frag[2]));
    acc_tile[15] = (acc_tile[15] + (a_frag[3] * b_frag[3]));
    a_frag[0] = a_tile[(t13 + 256)];
    a_frag[1] = a_tile[(t13 + 257)];
    a_frag[2] = a_tile[(t13 + 258)];
    a_frag[3] = a_tile[(t13 + 259)];
    b_frag[0] = b_tile[(t14 + 256)];
    b_frag[1] = b_tile[(t14 + 257)];
    b_frag[2] = b_tile[(t14 + 258)];
    b_frag[3] = b_tile[(t14 + 259)];
    acc_tile[0] = (acc_tile[0] + (a_frag[0] * b_frag[0]));
    acc_tile[1] = (acc_tile[1] + (a_frag[0] * b_frag[1]));
    acc_tile[2] = (acc_tile[2] + (a_frag[0] * b_frag[2]));
    acc_tile[3] = (acc_tile[3] + (a_frag[0] * b_frag[3]));
    acc_tile[4] = (acc_tile[4] + (a_frag[1] * b_frag[0]));
    acc_tile[5] = (acc_tile[5] + (a_frag[1] * b_frag[1]));
    acc_tile[6] = (acc_tile[6] + (a_frag[1] * b_frag[2]));
    acc_tile[7] = (acc_tile[7] + (a_frag[1] * b_frag[3]));
    acc_tile[8] = (acc_tile[8] + (a_frag[2] * b_frag[0]));
    acc_tile[9] = (acc_tile[9] + (a_frag[2] * b_frag[1]));
    acc_tile[10] = (acc_tile[10] + (a_frag[2] * b_frag[2]));
    acc_tile[11] = (acc_tile[11] + (a_frag[2] * b_frag[3]));
    acc_tile[12] = (acc_tile[12] + (a_frag[3] * b_frag[0]));
    acc_tile[13] = (acc_tile[13] + (a_frag[3] * b_frag[1]));
    acc_tile[14] = (acc_tile[14] + (a_frag[3] * b_frag[2]));
    acc_tile[15] = (acc_tile[15] + (a_frag[3] * b_frag[3]));
    a_frag[0] = a_tile[(t13 + 320)];
    a_frag[1] = a_tile[(t13 + 321)];
    a_frag[2] = a_tile[(t13 + 322)];
    a_frag[3] = a_tile[(t13 + 323)];
    b_frag[0] = b_tile[(t14 + 320)];
    b_frag[1] = b_tile[(t14 + 321)];
    b_frag[2] = b_tile[(t14 + 322)];
    b_frag[3] = b_tile[(t14 + 323)];
    acc_tile[0] = (acc_tile[0] + (a_frag[0] * b_frag[0]));
    acc_tile[1] = (acc_tile[1] + (a_frag[0] * b_frag[1]));
    acc_tile[2] = (acc_tile[2] + (a_frag[0] * b_frag[2]));
    acc_tile[3] = (acc_tile[3] + (a_frag[0] * b_frag[3]));
    acc_tile[4] = (acc_tile[4] + (a_frag[1] * b_frag[0]));
    acc_tile[5] = (acc_tile[5] + (a_frag[1] * b_frag[1]));
    acc_tile[6] = (acc_tile[6] + (a_frag[1] * b_frag[2]));
    acc_tile[7] = (acc_tile[7] + (a_frag[1] * b_frag[3]));
    acc_tile[8] = (acc_tile[8] + (a_frag[2] * b_frag[0]));
    acc_tile[9] = (acc_tile[9] + (a_frag[2] * b_frag[1]));
    acc_tile[10] = (acc_tile[10] + (a_frag[2] * b_frag[2]));
    acc_tile[11] = (acc_tile[11] + (a_frag[2] * b_frag[3]));
    acc_tile[12] = (acc_tile[12] + (a_frag[3] * b_frag[0]));
    acc_tile[13] = (acc_tile[13] + (a_frag[3] * b_frag[1]));
    acc_tile[14] = (acc_tile[14] + (a_frag[3] * b_frag[2]));
    acc_tile[15] = (acc_tile[15] + (a_frag[3] * b_frag[3]));
    a_frag[0] = a_tile[(t13 + 384)];
    a_frag[1] = a_tile[(t13 + 385)];
    a_frag[2] = a_tile[(t13 + 386)];
    a_frag[3] = a_tile[(t13 + 387)];
    b_frag[0] = b_tile[(t14 + 384)];
    b_frag[1] = b_tile[(t14 + 385)];
    b_frag[2] = b_tile[(t14 + 386)];
    b_frag[3] = b_tile[(t14 + 387)];
    acc_tile[0] = (acc_tile[0] + (a_frag[0] * b_frag[0]));
    acc_tile[1] = (acc_tile[1] + (a_frag[0] * b_frag[1]));
    acc_tile[2] = (acc_tile[2] + (a_frag[0] * b_frag[2]));
    acc_tile[3] = (acc_tile[3] + (a_frag[0] * b_frag[3]));
    acc_tile[4] = (acc_tile[4] + (a_frag[1] * b_frag[0]));
    acc_tile[5] = (acc_tile[5] + (a_frag[1] * b_frag[1]));
    acc_tile[6] = (acc_tile[6] + (a_frag[1] * b_frag[2]));
    acc_tile[7] = (acc_tile[7] + (a_frag[1] * b_frag[3]));
    acc_tile[8] = (acc_tile[8] + (a_frag[2] * b_frag[0]));
    acc_tile[9] = (acc_tile[9] + (a_frag[2] * b_frag[1]));
    acc_tile[10] = (acc_tile[10] + (a_frag[2] * b_frag[2]));
    acc_tile[11] = (acc_tile[11] + (a_frag[2] * b_frag[3]));
    acc_tile[12] = (acc_tile[12] + (a_frag[3] * b_frag[0]));
    acc_tile[13] = (acc_tile[13] + (a_frag[3] * b_frag[1]));
    acc_tile[14] = (acc_tile[14] + (a_frag[3] * b_frag[2]));
    acc_tile[15] = (acc_tile[15] + (a_frag[3] * b_frag[3]));
    a_frag[0] = a_tile[(t13 + 448)];
    a_frag[1] = a_tile[(t13 + 449)];
    a_frag[2] = a_tile[(t13 + 450)];
    a_frag[3] = a_tile[(t13 + 451)];
    b_frag[0] = b_tile[(t14 + 448)];
    b_frag[1] = b_tile[(t14 + 449)];
    b_frag[2] = b_tile[(t14 + 450)];
    b_frag[3] = b_tile[(t14 + 451)];
    acc_tile[0] = (acc_tile[0] + (a_frag[0] * b_frag[0]));
    acc_tile[1] = (acc_tile[1] + (a_frag[0] * b_frag[1]));
    acc_tile[2] = (acc_tile[2] + (a_frag[0] * b_frag[2]));
    acc_tile[3] = (acc_tile[3] + (a_frag[0] * b_frag[3]));
    acc_tile[4] = (acc_tile[4] + (a_frag[1] * b_frag[0]));
    acc_tile[5] = (acc_tile[5] + (a_frag[1] * b_frag[1]));
    acc_tile[6] = (acc_tile[6] + (a_frag[1] * b_frag[2]));
    acc_tile[7] = (acc_tile[7] + (a_frag[1] * b_frag[3]));
    acc_tile[8] = (acc_tile[8] + (a_frag[2] * b_frag[0]));
    acc_tile[9] = (acc_tile[9] + (a_frag[2] * b_frag[1]));
    acc_tile[10] = (acc_tile[10] + (a_frag[2] * b_frag[2]));
    acc_tile[11] = (acc_tile[11] + (a_frag[2] * b_frag[3]));
    acc_tile[12] = (acc_tile[12] + (a_frag[3] * b_frag[0]));
    acc_tile[13] = (acc_tile[13] + (a_frag[3] * b_frag[1]));
    acc_tile[14] = (acc_tile[14] + (a_frag[3] * b_frag[2]));
    acc_tile[15] = (acc_tile[15] + (a_frag[3] * b_frag[3]));
    a_frag[0] = a_tile[(t13 + 512)];
    a_frag[1] = a_tile[(t13 + 513)];
    a_frag[2] = a_tile[(t13 + 514)];
    a_frag[3] = a_tile[(t13 + 515)];
    b_frag[0] = b_tile[(t14 + 512)];
    b_frag[1] = b_tile[(t14 + 513)];
    b_frag[2] = b_tile[(t14 + 514)];
    b_frag[3] = b_tile[(t14 + 515)];
    acc_tile[0] = (acc_tile[0] + (a_frag[0] * b_frag[0]));
    acc_tile[1] = (acc_tile[1] + (a_frag[0] * b_frag[1]));
    acc_tile[2] = (acc_tile[2] + (a_frag[0] * b_frag[2]));
    acc_tile[3] = (acc_tile[3] + (a_frag[0] * b_frag[3]));
    acc_tile[4] = (acc_tile[4] + (a_frag[1] * b_frag[0]));
    acc_tile[5] = (acc_tile[5] + (a_frag[1] * b_frag[1]));
    acc_tile[6] = (acc_tile[6] + (a_frag[1] * b_frag[2]));
    acc_tile[7] = (acc_tile[7] + (a_frag[1] * b_frag[3]));
    acc_tile[8] = (acc_tile[8] + (a_frag[2] * b_frag[0]));
    acc_tile[9] = (acc_tile[9] + (a_frag[2] * b_frag[1]));
    acc_tile[10] = (acc_tile[10] + (a_frag[2] * b_frag[2]));
    acc_tile[11] = (acc_tile[11] + (a_frag[2] * b_frag[3]));
    acc_tile[12] = (acc_tile[12] + (a_frag[3] * b_frag[0]));
    acc_tile[13] = (acc_tile[13] + (a_frag[3] * b_frag[1]));
    acc_tile[14] = (acc_tile[14] + (a_frag[3] * b_frag[2]));
    acc_tile[15] = (acc_tile[15] + (a_frag[3] * b_frag[3]));
    a_frag[0] = a_tile[(t13 + 576)];
    a_frag[1] = a_tile[(t13 + 577)];
    a_frag[2] = a_tile[(t13 + 578)];
    a_frag[3] = a_tile[(t13 + 579)];
    b_frag[0] = b_tile[(t14 + 576)];
    b_frag[1] = b_tile[(t14 + 577)];
    b_frag[2] = b_tile[(t14 + 578)];
    b_frag[3] = b_tile[(t14 + 579)];
    acc_tile[0] = (acc_tile[0] + (a_frag[0] * b_frag[0]));
    acc_tile[1] = (acc_tile[1] + (a_frag[0] * b_frag[1]));
    acc_tile[2] = (acc_tile[2] + (a_frag[0] * b_frag[2]));
    acc_tile[3] = (acc_tile[3] + (a_frag[0] * b_frag[3]));
    acc_tile[4] = (acc_tile[4] + (a_frag[1] * b_frag[0]));
    acc_tile[5] = (acc_tile[5] + (a_frag[1] * b_frag[1]));
    acc_tile[6] = (acc_tile[6] + (a_frag[1] * b_frag[2]));
    acc_tile[7] = (acc_tile[7] + (a_frag[1] * b_frag[3]));
    acc_tile[8] = (acc_tile[8] + (a_frag[2] * b_frag[0]));
    acc_tile[9] = (acc_tile[9] + (a_frag[2] * b_frag[1]));
    acc_tile[10] = (acc_tile[10] + (a_frag[2] * b_frag[2]));
    acc_tile[11] = (acc_tile[11] + (a_frag[2] * b_frag[3]));
    acc_tile[12] = (acc_tile[12] + (a_frag[3] * b_frag[0]));
    acc_tile[13] = (acc_tile[13] + (a_frag[3] * b_frag[1]));
    acc_tile[14] = (acc_tile[14] + (a_frag[3] * b_frag[2]));
    acc_tile[15] = (acc_tile[15] + (a_frag[3] * b_frag[3]));
    a_frag[0] = a_tile[(t13 + 640)];
    a_frag[1] = a_tile[(t13 + 641)];
    a_frag[2] = a_tile[(t13 + 642)];
    a_frag[3] = a_tile[(t13 + 643)];
    b_frag[0] = b_tile[(t14 + 640)];
    b_frag[1] = b_tile[(t14 + 641)];
    b_frag[2] = b_tile[(t14 + 642)];
    b_frag[3] = b_tile[(t14 + 643)];
    acc_tile[0] = (acc_tile[0] + (a_frag[0] * b_frag[0]));
    acc_tile[1] = (acc_tile[1] + (a_frag[0] * b_frag[1]));
    acc_tile[2] = (acc_tile[2] + (a_frag[0] * b_frag[2]));
    acc_tile[3] = (acc_tile[3] + (a_frag[0] * b_frag[3]));
    acc_tile[4] = (acc_tile[4] + (a_frag[1] * b_frag[0]));
    acc_tile[5] = (acc_tile[5] + (a_frag[1] * b_frag[1]));
    acc_tile[6] = (acc_tile[6] + (a_frag[1] * b_frag[2]));
    acc_tile[7] = (acc_tile[7] + (a_frag[1] * b_frag[3]));
    acc_tile[8] = (acc_tile[8] + (a_frag[2] * b_frag[0]));
    acc_tile[9] = (acc_tile[9] + (a_frag[2] * b_frag[1]));
    acc_tile[10] = (acc_tile[10] + (a_frag[2] * b_frag[2]));
    acc_tile[11] = (acc_tile[11] + (a_frag[2] * b_frag[3]));
    acc_tile[12] = (acc_tile[12] + (a_frag[3] * b_frag[0]));
    acc_tile[13] = (acc_tile[13] + (a_frag[3] * b_frag[1]));
    acc_tile[14] = (acc_tile[14] + (a_frag[3] * b_frag[2]));
    acc_tile[15] = (acc_tile[15] + (a_frag[3] * b_frag[3]));
    a_frag[0] = a_tile[(t13 + 704)];
    a_frag[1] = a_tile[(t13 + 705)];
    a_frag[2] = a_tile[(t13 + 706)];
    a_frag[3] = a_tile[(t13 + 707)];
    b_frag[0] = b_tile[(t14 + 704)];
    b_frag[1] = b_tile[(t14 + 705)];
    b_frag[2] = b_tile[(t14 + 706)];
    b_frag[3] = b_tile[(t14 + 707)];
    acc_tile[0] = (acc_tile[0] + (a_frag[0] * b_frag[0]));
    acc_tile[1] = (acc_tile[1] + (a_frag[0] * b_frag[1]));
    acc_tile[2] = (acc_tile[2] + (a_frag[0] * b_frag[2]));
    acc_tile[3] = (acc_tile[3] + (a_frag[0] * b_frag[3]));
    acc_tile[4] = (acc_tile[4] + (a_frag[1] * b_frag[0]));
    acc_tile[5] = (acc_tile[5] + (a_frag[1] * b_frag[1]));
    acc_tile[6] = (acc_tile[6] + (a_frag[1] * b_frag[2]));
    acc_tile[7] = (acc_tile[7] + (a_frag[1] * b_frag[3]));
    acc_tile[8] = (acc_tile[8] + (a_frag[2] * b_frag[0]));
    acc_tile[9] = (acc_tile[9] + (a_frag[2] * b_frag[1]));
    acc_tile[10] = (acc_tile[10] + (a_frag[2] * b_frag[2]));
    acc_tile[11] = (acc_tile[11] + (a_frag[2] * b_frag[3]));
    acc_tile[12] = (acc_tile[12] + (a_frag[3] * b_frag[0]));
    acc_tile[13] = (acc_tile[13] + (a_frag[3] * b_frag[1]));
    acc_tile[14] = (acc_tile[14] + (a_frag[3] * b_frag[2]));
    acc_tile[15] = (acc_tile[15] + (a_frag[3] * b_frag[3]));
    a_frag[0] = a_tile[(t13 + 768)];
    a_frag[1] = a_tile[(t13 + 769)];
    a_frag[2] = a_tile[(t13 + 770)];
    a_frag[3] = a_tile[(t13 + 771)];
    b_frag[0] = b_tile[(t14 + 768)];
    b_frag[1] = b_tile[(t14 + 769)];
    b_frag[2] = b_tile[(t14 + 770)];
    b_frag[3] = b_tile[(t14 + 771)];
    acc_tile[0] = (acc_tile[0] + (a_frag[0] * b_frag[0]));
    acc_tile[1] = (acc_tile[1] + (a_frag[0] * b_frag[1]));
    acc_tile[2] = (acc_tile[2] + (a_frag[0] * b_frag[2]));
    acc_tile[3] = (acc_tile[3] + (a_frag[0] * b_frag[3]));
    acc_tile[4] = (acc_tile[4] + (a_frag[1] * b_frag[0]));
    acc_tile[5] = (acc_tile[5] + (a_frag[1] * b_frag[1]));
    acc_tile[6] = (acc_tile[6] + (a_frag[1] * b_frag[2]));
    acc_tile[7] = (acc_tile[7] + (a_frag[1] * b_frag[3]));
    acc_tile[8] = (acc_tile[8] + (a_frag[2] * b_frag[0]));
    acc_tile[9] = (acc_tile[9] + (a_frag[2] * b_frag[1]));
    acc_tile[10] = (acc_tile[10] + (a_frag[2] * b_frag[2]));
    acc_tile[11] = (acc_tile[11] + (a_frag[2] * b_frag[3]));
    acc_tile[12] = (acc_tile[12] + (a_frag[3] * b_frag[0]));
    acc_tile[13] = (acc_tile[13] + (a_frag[3] * b_frag[1]));
    acc_tile[14] = (acc_tile[14] + (a_frag[3] * b_frag[2]));
    acc_tile[15] = (acc_tile[15] + (a_frag[3] * b_frag[3]));
    a_frag[0] = a_tile[(t13 + 832)];
    a_frag[1] = a_tile[(t13 + 833)];
    a_frag[2] = a_tile[(t13 + 834)];
    a_frag[3] = a_tile[(t13 + 835)];
    b_frag[0] = b_tile[(t14 + 832)];
    b_frag[1] = b_tile[(t14 + 833)];
    b_frag[2] = b_tile[(t14 + 834)];
    b_frag[3] = b_tile[(t14 + 835)];
    acc_tile[0] = (acc_tile[0] + (a_frag[0] * b_frag[0]));
    acc_tile[1] = (acc_tile[1] + (a_frag[0] * b_frag[1]));
    acc_tile[2] = (acc_tile[2] + (a_frag[0] * b_frag[2]));
    acc_tile[3] = (acc_tile[3] + (a_frag[0] * b_frag[3]));
    acc_tile[4] = (acc_tile[4] + (a_frag[1] * b_frag[0]));
    acc_tile[5] = (acc_tile[5] + (a_frag[1] * b_frag[1]));
    acc_tile[6] = (acc_tile[6] + (a_frag[1] * b_frag[2]));
    acc_tile[7] = (acc_tile[7] + (a_frag[1] * b_frag[3]));
    acc_tile[8] = (acc_tile[8] + (a_frag[2] * b_frag[0]));
    acc_tile[9] = (acc_tile[9] + (a_frag[2] * b_frag[1]));
    acc_tile[10] = (acc_tile[10] + (a_frag[2] * b_frag[2]));
    acc_tile[11] = (acc_tile[11] + (a_frag[2] * b_frag[3]));
    acc_tile[12] = (acc_tile[12] + (a_frag[3] * b_frag[0]));
    acc_tile[13] = (acc_tile[13] + (a_frag[3] * b_frag[1]));
    acc_tile[14] = (acc_tile[14] + (a_frag[3] * b_frag[2]));
    acc_tile[15] = (acc_tile[15] + (a_frag[3] * b_frag[3]));
    a_frag[0] = a_tile[(t13 + 896)];
    a_frag[1] = a_tile[(t13 + 897)];
    a_frag[2] = a_tile[(t13 + 898)];
    a_frag[3] = a_tile[(t13 + 899)];
    b_frag[0] = b_tile[(t14 + 896)];
    b_frag[1] = b_tile[(t14 + 897)];
    b_frag[2] = b_tile[(t14 + 898)];
    b_frag[3] = b_tile[(t14 + 899)];
    acc_tile[0] = (acc_tile[0] + (a_frag[0] * b_frag[0]));
    acc_tile[1] = (acc_tile[1] + (a_frag[0] * b_frag[1]));
    acc_tile[2] = (acc_tile[2] + (a_frag[0] * b_frag[2]));
    acc_tile[3] = (acc_tile[3] + (a_frag[0] * b_frag[3]));
    acc_tile[4] = (acc_tile[4] + (a_frag[1] * b_frag[0]));
    acc_tile[5] = (acc_tile[5] + (a_frag[1] * b_frag[1]));
    acc_tile[6] = (acc_tile[6] + (a_frag[1] * b_frag[2]));
    acc_tile[7] = (acc_tile[7] + (a_frag[1] * b_frag[3]));
    acc_tile[8] = (acc_tile[8] + (a_frag[2] * b_frag[0]));
    acc_tile[9] = (acc_tile[9] + (a_frag[2] * b_frag[1]));
    acc_tile[10] = (acc_tile[10] + (a_frag[2] * b_frag[2]));
    acc_tile[11] = (acc_tile[11] + (a_frag[2] * b_frag[3]));
    acc_tile[12] = (acc_tile[12] + (a_frag[3] * b_frag[0]));
    acc_tile[13] = (acc_tile[13] + (a_frag[3] * b_frag[1]));
    acc_tile[14] = (acc_tile[14] + (a_frag[3] * b_frag[2]));
    acc_tile[15] = (acc_tile[15] + (a_frag[3] * b_frag[3]));
    a_frag[0] = a_tile[(t13 + 960)];
    a_frag[1] = a_tile[(t13 + 961)];
    a_frag[2] = a_tile[(t13 + 962)];
    a_frag[3] = a_tile[(t13 + 963)];
    b_frag[0] = b_tile[(t14 + 960)];
    b_frag[1] = b_tile[(t14 + 961)];
    b_frag[2] = b_tile[(t14 + 962)];
    b_frag[3] = b_tile[(t14 + 963)];
    acc_tile[0] = (acc_tile[0] + (a_frag[0] * b_frag[0]));
    acc_tile[1] = (acc_tile[1] + (a_frag[0] * b_frag[1]));
    acc_tile[2] = (acc_tile[2] + (a_frag[0] * b_frag[2]));
    acc_tile[3] = (acc_tile[3] + (a_frag[0] * b_frag[3]));
    acc_tile[4] = (acc_tile[4] + (a_frag[1] * b_frag[0]));
    acc_tile[5] = (acc_tile[5] + (a_frag[1] * b_frag[1]));
    acc_tile[6] = (acc_tile[6] + (a_frag[1] * b_frag[2]));
    acc_tile[7] = (acc_tile[7] + (a_frag[1] * b_frag[3]));
    acc_tile[8] = (acc_tile[8] + (a_frag[2] * b_frag[0]));
    acc_tile[9] = (acc_tile[9] + (a_frag[2] * b_frag[1]));
    acc_tile[10] = (acc_tile[10] + (a_frag[2] * b_frag[2]));
    acc_tile[11] = (acc_tile[11] + (a_frag[2] * b_frag[3]));
    acc_tile[12] = (acc_tile[12] + (a_frag[3] * b_frag[0]));
    acc_tile[13] = (acc_tile[13] + (a_frag[3] * b_frag[1]));
    acc_tile[14] = (acc_tile[14] + (a_frag[3] * b_frag[2]));
    acc_tile[15] = (acc_tile[15] + (a_frag[3] * b_frag[3]));
    workgroupBarrier();
  }
  let t15: i32 = ((thread_m * 4) + (tile_m * 64));
  let ei_jj0_ii0: i32 = t15;
  let t16: i32 = ((thread_n * 4) + (tile_n * 64));
  let ej_jj0_ii0: i32 = t16;
  if (((ei_jj0_ii0 < 4) && (ej_jj0_ii0 < 6))) {
    let acc_jj0_ii0: f32 = acc_tile[0];
    arena[p2 + ((ei_jj0_ii0 * 6) + ej_jj0_ii0)] = bitcast<u32>(acc_jj0_ii0);
  }
  let ei_jj1_ii0: i32 = t15;
  let t17: i32 = (t16 + 1);
  let ej_jj1_ii0: i32 = t17;
  if (((ei_jj1_ii0 < 4) && (ej_jj1_ii0 < 6))) {
    let acc_jj1_ii0: f32 = acc_tile[1];
    arena[p2 + ((ei_jj1_ii0 * 6) + ej_jj1_ii0)] = bitcast<u32>(acc_jj1_ii0);
  }
  let ei_jj2_ii0: i32 = t15;
  let t18: i32 = (t16 + 2);
  let ej_jj2_ii0: i32 = t18;
  if (((ei_jj2_ii0 < 4) && (ej_jj2_ii0 < 6))) {
    let acc_jj2_ii0: f32 = acc_tile[2];
    arena[p2 + ((ei_jj2_ii0 * 6) + ej_jj2_ii0)] = bitcast<u32>(acc_jj2_ii0);
  }
  let ei_jj3_ii0: i32 = t15;
  let t19: i32 = (t16 + 3);
  let ej_jj3_ii0: i32 = t19;
  if (((ei_jj3_ii0 < 4) && (ej_jj3_ii0 < 6))) {
    let acc_jj3_ii0: f32 = acc_tile[3];
    arena[p2 + ((ei_jj3_ii0 * 6) + ej_jj3_ii0)] = bitcast<u32>(acc_jj3_ii0);
  }
  let t20: i32 = (t15 + 1);
  let ei_jj0_ii1: i32 = t20;
  let ej_jj0_ii1: i32 = t16;
  if (((ei_jj0_ii1 < 4) && (ej_jj0_ii1 < 6))) {
    let acc_jj0_ii1: f32 = acc_tile[4];
    arena[p2 + ((ei_jj0_ii1 * 6) + ej_jj0_ii1)] = bitcast<u32>(acc_jj0_ii1);
  }
  let ei_jj1_ii1: i32 = t20;
  let ej_jj1_ii1: i32 = t17;
  if (((ei_jj1_ii1 < 4) && (ej_jj1_ii1 < 6))) {
    let acc_jj1_ii1: f32 = acc_tile[5];
    arena[p2 + ((ei_jj1_ii1 * 6) + ej_jj1_ii1)] = bitcast<u32>(acc_jj1_ii1);
  }
  let ei_jj2_ii1: i32 = t20;
  let ej_jj2_ii1: i32 = t18;
  if (((ei_jj2_ii1 < 4) && (ej_jj2_ii1 < 6))) {
    let acc_jj2_ii1: f32 = acc_tile[6];
    arena[p2 + ((ei_jj2_ii1 * 6) + ej_jj2_ii1)] = bitcast<u32>(acc_jj2_ii1);
  }
  let ei_jj3_ii1: i32 = t20;
  let ej_jj3_ii1: i32 = t19;
  if (((ei_jj3_ii1 < 4) && (ej_jj3_ii1 < 6))) {
    let acc_jj3_ii1: f32 = acc_tile[7];
    arena[p2 + ((ei_jj3_ii1 * 6) + ej_jj3_ii1)] = bitcast<u32>(acc_jj3_ii1);
  }
  let t21: i32 = (t15 + 2);
  let ei_jj0_ii2: i32 = t21;
  let ej_jj0_ii2: i32 = t16;
  if (((ei_jj0_ii2 < 4) && (ej_jj0_ii2 < 6))) {
    let acc_jj0_ii2: f32 = acc_tile[8];
    arena[p2 + ((ei_jj0_ii2 * 6) + ej_jj0_ii2)] = bitcast<u32>(acc_jj0_ii2);
  }
  let ei_jj1_ii2: i32 = t21;
  let ej_jj1_ii2: i32 = t17;
  if (((ei_jj1_ii2 < 4) && (ej_jj1_ii2 < 6))) {
    let acc_jj1_ii2: f32 = acc_tile[9];
    arena[p2 + ((ei_jj1_ii2 * 6) + ej_jj1_ii2)] = bitcast<u32>(acc_jj1_ii2);
  }
  let ei_jj2_ii2: i32 = t21;
  let ej_jj2_ii2: i32 = t18;
  if (((ei_jj2_ii2 < 4) && (ej_jj2_ii2 < 6))) {
    let acc_jj2_ii2: f32 = acc_tile[10];
    arena[p2 + ((ei_jj2_ii2 * 6) + ej_jj2_ii2)] = bitcast<u32>(acc_jj2_ii2);
  }
  let ei_jj3_ii2: i32 = t21;
  let ej_jj3_ii2: i32 = t19;
  if (((ei_jj3_ii2 < 4) && (ej_jj3_ii2 < 6))) {
    let acc_jj3_ii2: f32 = acc_tile[11];
    arena[p2 + ((ei_jj3_ii2 * 6) + ej_jj3_ii2)] = bitcast<u32>(acc_jj3_ii2);
  }
  let t22: i32 = (t15 + 3);
  let ei_jj0_ii3: i32 = t22;
  let ej_jj0_ii3: i32 = t16;
  if (((ei_jj0_ii3 < 4) && (ej_jj0_ii3 < 6))) {
    let acc_jj0_ii3: f32 = acc_tile[12];
    arena[p2 + ((ei_jj0_ii3 * 6) + ej_jj0_ii3)] = bitcast<u32>(acc_jj0_ii3);
  }
  let ei_jj1_ii3: i32 = t22;
  let ej_jj1_ii3: i32 = t17;
  if (((ei_jj1_ii3 < 4) && (ej_jj1_ii3 < 6))) {
    let acc_jj1_ii3: f32 = acc_tile[13];
    arena[p2 + ((ei_jj1_ii3 * 6) + ej_jj1_ii3)] = bitcast<u32>(acc_jj1_ii3);
  }
  let ei_jj2_ii3: i32 = t22;
  let ej_jj2_ii3: i32 = t18;
  if (((ei_jj2_ii3 < 4) && (ej_jj2_ii3 < 6))) {
    let acc_jj2_ii3: f32 = acc_tile[14];
    arena[p2 + ((ei_jj2_ii3 * 6) + ej_jj2_ii3)] = bitcast<u32>(acc_jj2_ii3);
  }
  let ei_jj3_ii3: i32 = t22;
  let ej_jj3_ii3: i32 = t19;
  if (((ei_jj3_ii3 < 4) && (ej_jj3_ii3 < 6))) {
    let acc_jj3_ii3: f32 = acc_tile[15];
    arena[p2 + ((ei_jj3_ii3 * 6) + ej_jj3_ii3)] = bitcast<u32>(acc_jj3_ii3);
  }
}

// launch reduce_4x6_2: 1 × 256
// reduce_4x6_2: reduce: sum[1,6]

@group(0) @binding(0) var<storage, read_write> arena: array<u32>;
const p0: i32 = 3072; // buffer 2 (f32[24]), word offset
const p1: i32 = 4352; // buffer 4 (f32[6]), word offset
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) kiln_local: u32, @builtin(workgroup_id) kiln_group: vec3<u32>) {
  let tid: i32 = i32(kiln_local);
  let bid: i32 = i32(kiln_group.x);
  for (var g: i32 = ((bid * 256) + tid); g < 6; g += 256) {
    arena[p1 + g] = bitcast<u32>(0.00000000f);
    for (var i0: i32 = 0; i0 < 4; i0 += 1) {
      arena[p1 + g] = bitcast<u32>((bitcast<f32>(arena[p1 + g]) + bitcast<f32>(arena[p0 + (g + (i0 * 6))])));
    }
  }
}
