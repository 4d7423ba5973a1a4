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
  for (var z: i32 = 0; z < 16; z += 1) {
    acc_tile[z] = 0.00000000f;
  }
  for (var kt: i32 = 0; kt < 19; kt += 1) {
    for (var a_copy: i32 = 0; a_copy < 4; a_copy += 1) {
      let t0: i32 = (tid / 16);
      let t1: i32 = (tid % 16);
      let t2: i32 = (a_copy * 16);
      let t3: i32 = (kt * 16);
      a_tile[((t0 + (t1 * 64)) + t2)] = select(0.00000000f, bitcast<f32>(arena[p0 + (((((t0 * 300) + t1) + (tile_m * 19200)) + (a_copy * 4800)) + t3)]), ((((tile_m * 64) + (t0 + t2)) < 4) && ((t3 + t1) < 300)));
    }
    for (var b_copy: i32 = 0; b_copy < 4; b_copy += 1) {
      let t4: i32 = (tid / 16);
      let t5: i32 = (tid % 16);
      let t6: i32 = (b_copy * 16);
      let t7: i32 = (kt * 16);
      b_tile[((t4 + (t5 * 64)) + t6)] = select(0.00000000f, bitcast<f32>(arena[p1 + (((((t4 * 300) + t5) + (tile_n * 19200)) + (b_copy * 4800)) + t7)]), ((((tile_n * 64) + (t4 + t6)) < 6) && ((t7 + t5) < 300)));
    }
    workgroupBarrier();
    for (var kk: i32 = 0; kk < 16; kk += 1) {
      for (var ii: i32 = 0; ii < 4; ii += 1) {
        a_frag[ii] = a_tile[(((thread_m * 4) + ii) + (kk * 64))];
      }
      for (var jj: i32 = 0; jj < 4; jj += 1) {
        b_frag[jj] = b_tile[(((thread_n * 4) + jj) + (kk * 64))];
      }
      for (var ii: i32 = 0; ii < 4; ii += 1) {
        for (var jj: i32 = 0; jj < 4; jj += 1) {
          let t8: i32 = ((ii * 4) + jj);
          acc_tile[t8] = (acc_tile[t8] + (a_frag[ii] * b_frag[jj]));
        }
      }
    }
    workgroupBarrier();
  }
  for (var ii: i32 = 0; ii < 4; ii += 1) {
    for (var jj: i32 = 0; jj < 4; jj += 1) {
      let ei: i32 = (((thread_m * 4) + (tile_m * 64)) + ii);
      let ej: i32 = (((thread_n * 4) + (tile_n * 64)) + jj);
      if (((ei < 4) && (ej < 6))) {
        let acc: f32 = acc_tile[((ii * 4) + jj)];
        arena[p2 + ((ei * 6) + ej)] = bitcast<u32>(acc);
      }
    }
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
