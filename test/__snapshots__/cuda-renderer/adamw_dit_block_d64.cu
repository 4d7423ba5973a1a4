// 1 kernels, 1 launches, workspace 0 bytes
// launch multi_14_0 <<<48x1x1, 256x1x1, 0>>> (p0=b0, p1=b1, p2=b2, p3=b3, p4=b4, p5=b5, p6=b6, p7=b7, p8=b8, p9=b9, p10=b10, p11=b11, p12=b12, p13=b13, p14=b14, p15=b15, p16=b16, p17=b17, p18=b18, p19=b19, p20=b20, p21=b21, p22=b22, p23=b23, p24=b24, p25=b25, p26=b26, p27=b27, p28=b28, p29=b29, p30=b30, p31=b31, p32=b32, p33=b33, p34=b34, p35=b35, p36=b36, p37=b37, p38=b38, p39=b39, p40=b40, p41=b41, p42=b42, p43=b43, p44=b44, p45=b45, p46=b46, p47=b47, p48=b48, p49=b49, p50=b50, p51=b51, p52=b52, p53=b53, p54=b54, p55=b55, p56=b56, p57=b57, p58=b58, p59=b59, p60=b60, p61=b61, p62=b62, p63=b63, p64=b64, p65=b65, p66=b66, p67=b67, p68=b68, p69=b69, p70=b70, p71=b71, p72=b72, p73=b73, p74=b74, p75=b75, p76=b76, p77=b77, p78=b78, p79=b79, p80=b80, p81=b81, p82=b82, p83=b83, p84=b84, p85=b85, p86=b86, p87=b87, p88=b88, p89=b89, p90=b90, p91=b91, p92=b92, p93=b93, p94=b94, p95=b95, p96=b96, p97=b97, p98=b98, p99=b99)

// multi_14_0: multi: add[64,64], add[64,64], add[64,64], add[64], add[64], add[64], add[64,64], add[64,64], add[64,64], add[64], add[64], add[64], add[64,64], add[64,64], add[64,64], add[64], add[64], add[64], add[64,64], add[64,64], add[64,64], add[64], add[64], add[64], add[192,64], add[192,64], add[192,64], add[192], add[192], add[192], add[64,192], add[64,192], add[64,192], add[64], add[64], add[64], add[128,64], add[128,64], add[128,64], add[128], add[128], add[128]
// parameters: p0 = buffer 0 (f32[1]), p1 = buffer 1 (f32[1]), p2 = buffer 2 (f32[4096]), p3 = buffer 3 (bf16[4096]), p4 = buffer 4 (f32[4096]), p5 = buffer 5 (f32[4096]), p6 = buffer 6 (f32[64]), p7 = buffer 7 (bf16[64]), p8 = buffer 8 (f32[64]), p9 = buffer 9 (f32[64]), p10 = buffer 10 (f32[4096]), p11 = buffer 11 (bf16[4096]), p12 = buffer 12 (f32[4096]), p13 = buffer 13 (f32[4096]), p14 = buffer 14 (f32[64]), p15 = buffer 15 (bf16[64]), p16 = buffer 16 (f32[64]), p17 = buffer 17 (f32[64]), p18 = buffer 18 (f32[4096]), p19 = buffer 19 (bf16[4096]), p20 = buffer 20 (f32[4096]), p21 = buffer 21 (f32[4096]), p22 = buffer 22 (f32[64]), p23 = buffer 23 (bf16[64]), p24 = buffer 24 (f32[64]), p25 = buffer 25 (f32[64]), p26 = buffer 26 (f32[4096]), p27 = buffer 27 (bf16[4096]), p28 = buffer 28 (f32[4096]), p29 = buffer 29 (f32[4096]), p30 = buffer 30 (f32[64]), p31 = buffer 31 (bf16[64]), p32 = buffer 32 (f32[64]), p33 = buffer 33 (f32[64]), p34 = buffer 34 (f32[12288]), p35 = buffer 35 (bf16[12288]), p36 = buffer 36 (f32[12288]), p37 = buffer 37 (f32[12288]), p38 = buffer 38 (f32[192]), p39 = buffer 39 (bf16[192]), p40 = buffer 40 (f32[192]), p41 = buffer 41 (f32[192]), p42 = buffer 42 (f32[12288]), p43 = buffer 43 (bf16[12288]), p44 = buffer 44 (f32[12288]), p45 = buffer 45 (f32[12288]), p46 = buffer 46 (f32[64]), p47 = buffer 47 (bf16[64]), p48 = buffer 48 (f32[64]), p49 = buffer 49 (f32[64]), p50 = buffer 50 (f32[8192]), p51 = buffer 51 (bf16[8192]), p52 = buffer 52 (f32[8192]), p53 = buffer 53 (f32[8192]), p54 = buffer 54 (f32[128]), p55 = buffer 55 (bf16[128]), p56 = buffer 56 (f32[128]), p57 = buffer 57 (f32[128]), p58 = buffer 58 (f32[4096]), p59 = buffer 59 (f32[4096]), p60 = buffer 60 (f32[4096]), p61 = buffer 61 (f32[64]), p62 = buffer 62 (f32[64]), p63 = buffer 63 (f32[64]), p64 = buffer 64 (f32[4096]), p65 = buffer 65 (f32[4096]), p66 = buffer 66 (f32[4096]), p67 = buffer 67 (f32[64]), p68 = buffer 68 (f32[64]), p69 = buffer 69 (f32[64]), p70 = buffer 70 (f32[4096]), p71 = buffer 71 (f32[4096]), p72 = buffer 72 (f32[4096]), p73 = buffer 73 (f32[64]), p74 = buffer 74 (f32[64]), p75 = buffer 75 (f32[64]), p76 = buffer 76 (f32[4096]), p77 = buffer 77 (f32[4096]), p78 = buffer 78 (f32[4096]), p79 = buffer 79 (f32[64]), p80 = buffer 80 (f32[64]), p81 = buffer 81 (f32[64]), p82 = buffer 82 (f32[12288]), p83 = buffer 83 (f32[12288]), p84 = buffer 84 (f32[12288]), p85 = buffer 85 (f32[192]), p86 = buffer 86 (f32[192]), p87 = buffer 87 (f32[192]), p88 = buffer 88 (f32[12288]), p89 = buffer 89 (f32[12288]), p90 = buffer 90 (f32[12288]), p91 = buffer 91 (f32[64]), p92 = buffer 92 (f32[64]), p93 = buffer 93 (f32[64]), p94 = buffer 94 (f32[8192]), p95 = buffer 95 (f32[8192]), p96 = buffer 96 (f32[8192]), p97 = buffer 97 (f32[128]), p98 = buffer 98 (f32[128]), p99 = buffer 99 (f32[128])
extern "C" __global__ void __launch_bounds__(256) multi_14_0(const float* __restrict__ p0, const float* __restrict__ p1, const float* __restrict__ p2, const bf16_t* __restrict__ p3, const float* __restrict__ p4, const float* __restrict__ p5, const float* __restrict__ p6, const bf16_t* __restrict__ p7, const float* __restrict__ p8, const float* __restrict__ p9, const float* __restrict__ p10, const bf16_t* __restrict__ p11, const float* __restrict__ p12, const float* __restrict__ p13, const float* __restrict__ p14, const bf16_t* __restrict__ p15, const float* __restrict__ p16, const float* __restrict__ p17, const float* __restrict__ p18, const bf16_t* __restrict__ p19, const float* __restrict__ p20, const float* __restrict__ p21, const float* __restrict__ p22, const bf16_t* __restrict__ p23, const float* __restrict__ p24, const float* __restrict__ p25, const float* __restrict__ p26, const bf16_t* __restrict__ p27, const float* __restrict__ p28, const float* __restrict__ p29, const float* __restrict__ p30, const bf16_t* __restrict__ p31, const float* __restrict__ p32, const float* __restrict__ p33, const float* __restrict__ p34, const bf16_t* __restrict__ p35, const float* __restrict__ p36, const float* __restrict__ p37, const float* __restrict__ p38, const bf16_t* __restrict__ p39, const float* __restrict__ p40, const float* __restrict__ p41, const float* __restrict__ p42, const bf16_t* __restrict__ p43, const float* __restrict__ p44, const float* __restrict__ p45, const float* __restrict__ p46, const bf16_t* __restrict__ p47, const float* __restrict__ p48, const float* __restrict__ p49, const float* __restrict__ p50, const bf16_t* __restrict__ p51, const float* __restrict__ p52, const float* __restrict__ p53, const float* __restrict__ p54, const bf16_t* __restrict__ p55, const float* __restrict__ p56, const float* __restrict__ p57, float* __restrict__ p58, float* __restrict__ p59, float* __restrict__ p60, float* __restrict__ p61, float* __restrict__ p62, float* __restrict__ p63, float* __restrict__ p64, float* __restrict__ p65, float* __restrict__ p66, float* __restrict__ p67, float* __restrict__ p68, float* __restrict__ p69, float* __restrict__ p70, float* __restrict__ p71, float* __restrict__ p72, float* __restrict__ p73, float* __restrict__ p74, float* __restrict__ p75, float* __restrict__ p76, float* __restrict__ p77, float* __restrict__ p78, float* __restrict__ p79, float* __restrict__ p80, float* __restrict__ p81, float* __restrict__ p82, float* __restrict__ p83, float* __restrict__ p84, float* __restrict__ p85, float* __restrict__ p86, float* __restrict__ p87, float* __restrict__ p88, float* __restrict__ p89, float* __restrict__ p90, float* __restrict__ p91, float* __restrict__ p92, float* __restrict__ p93, float* __restrict__ p94, float* __restrict__ p95, float* __restrict__ p96, float* __restrict__ p97, float* __restrict__ p98, float* __restrict__ p99) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  const int t0 = ((bid * 256) + tid);
  for (int g0 = t0; g0 < 4096; g0 += 12288) {
    const float t1 = p1[0];
    const float t2 = kiln_bf16_to_f32(p3[g0]);
    const float t3 = ((p4[g0] * 0.899999976f) + (t2 * 0.100000001f));
    const float t4 = ((p5[g0] * 0.999000013f) + ((t2 * t2) * 0.00100000005f));
    const float t5 = p0[0];
    p58[g0] = ((p2[g0] * (1.00000000f + (-(t1 * 0.00999999978f)))) + (-((t3 * (1.0f / ((sqrtf(t4) * (1.0f / sqrtf((1.00000000f + (-exp2f((t5 * -0.00144341681f))))))) + 9.99999994e-9f))) * (t1 * (1.0f / (1.00000000f + (-exp2f((t5 * -0.152003095f)))))))));
    p59[g0] = t3;
    p60[g0] = t4;
  }
  for (int g1 = t0; g1 < 64; g1 += 12288) {
    const float t6 = p1[0];
    const float t7 = kiln_bf16_to_f32(p7[g1]);
    const float t8 = ((p8[g1] * 0.899999976f) + (t7 * 0.100000001f));
    const float t9 = ((p9[g1] * 0.999000013f) + ((t7 * t7) * 0.00100000005f));
    const float t10 = p0[0];
    p61[g1] = ((p6[g1] * (1.00000000f + (-(t6 * 0.00999999978f)))) + (-((t8 * (1.0f / ((sqrtf(t9) * (1.0f / sqrtf((1.00000000f + (-exp2f((t10 * -0.00144341681f))))))) + 9.99999994e-9f))) * (t6 * (1.0f / (1.00000000f + (-exp2f((t10 * -0.152003095f)))))))));
    p62[g1] = t8;
    p63[g1] = t9;
  }
  for (int g2 = t0; g2 < 4096; g2 += 12288) {
    const float t11 = p1[0];
    const float t12 = kiln_bf16_to_f32(p11[g2]);
    const float t13 = ((p12[g2] * 0.899999976f) + (t12 * 0.100000001f));
    const float t14 = ((p13[g2] * 0.999000013f) + ((t12 * t12) * 0.00100000005f));
    const float t15 = p0[0];
    p64[g2] = ((p10[g2] * (1.00000000f + (-(t11 * 0.00999999978f)))) + (-((t13 * (1.0f / ((sqrtf(t14) * (1.0f / sqrtf((1.00000000f + (-exp2f((t15 * -0.00144341681f))))))) + 9.99999994e-9f))) * (t11 * (1.0f / (1.00000000f + (-exp2f((t15 * -0.152003095f)))))))));
    p65[g2] = t13;
    p66[g2] = t14;
  }
  for (int g3 = t0; g3 < 64; g3 += 12288) {
    const float t16 = p1[0];
    const float t17 = kiln_bf16_to_f32(p15[g3]);
    const float t18 = ((p16[g3] * 0.899999976f) + (t17 * 0.100000001f));
    const float t19 = ((p17[g3] * 0.999000013f) + ((t17 * t17) * 0.00100000005f));
    const float t20 = p0[0];
    p67[g3] = ((p14[g3] * (1.00000000f + (-(t16 * 0.00999999978f)))) + (-((t18 * (1.0f / ((sqrtf(t19) * (1.0f / sqrtf((1.00000000f + (-exp2f((t20 * -0.00144341681f))))))) + 9.99999994e-9f))) * (t16 * (1.0f / (1.00000000f + (-exp2f((t20 * -0.152003095f)))))))));
    p68[g3] = t18;
    p69[g3] = t19;
  }
  for (int g4 = t0; g4 < 4096; g4 += 12288) {
    const float t21 = p1[0];
    const float t22 = kiln_bf16_to_f32(p19[g4]);
    const float t23 = ((p20[g4] * 0.899999976f) + (t22 * 0.100000001f));
    const float t24 = ((p21[g4] * 0.999000013f) + ((t22 * t22) * 0.00100000005f));
    const float t25 = p0[0];
    p70[g4] = ((p18[g4] * (1.00000000f + (-(t21 * 0.00999999978f)))) + (-((t23 * (1.0f / ((sqrtf(t24) * (1.0f / sqrtf((1.00000000f + (-exp2f((t25 * -0.00144341681f))))))) + 9.99999994e-9f))) * (t21 * (1.0f / (1.00000000f + (-exp2f((t25 * -0.152003095f)))))))));
    p71[g4] = t23;
    p72[g4] = t24;
  }
  for (int g5 = t0; g5 < 64; g5 += 12288) {
    const float t26 = p1[0];
    const float t27 = kiln_bf16_to_f32(p23[g5]);
    const float t28 = ((p24[g5] * 0.899999976f) + (t27 * 0.100000001f));
    const float t29 = ((p25[g5] * 0.999000013f) + ((t27 * t27) * 0.00100000005f));
    const float t30 = p0[0];
    p73[g5] = ((p22[g5] * (1.00000000f + (-(t26 * 0.00999999978f)))) + (-((t28 * (1.0f / ((sqrtf(t29) * (1.0f / sqrtf((1.00000000f + (-exp2f((t30 * -0.00144341681f))))))) + 9.99999994e-9f))) * (t26 * (1.0f / (1.00000000f + (-exp2f((t30 * -0.152003095f)))))))));
    p74[g5] = t28;
    p75[g5] = t29;
  }
  for (int g6 = t0; g6 < 4096; g6 += 12288) {
    const float t31 = p1[0];
    const float t32 = kiln_bf16_to_f32(p27[g6]);
    const float t33 = ((p28[g6] * 0.899999976f) + (t32 * 0.100000001f));
    const float t34 = ((p29[g6] * 0.999000013f) + ((t32 * t32) * 0.00100000005f));
    const float t35 = p0[0];
    p76[g6] = ((p26[g6] * (1.00000000f + (-(t31 * 0.00999999978f)))) + (-((t33 * (1.0f / ((sqrtf(t34) * (1.0f / sqrtf((1.00000000f + (-exp2f((t35 * -0.00144341681f))))))) + 9.99999994e-9f))) * (t31 * (1.0f / (1.00000000f + (-exp2f((t35 * -0.152003095f)))))))));
    p77[g6] = t33;
    p78[g6] = t34;
  }
  for (int g7 = t0; g7 < 64; g7 += 12288) {
    const float t36 = p1[0];
    const float t37 = kiln_bf16_to_f32(p31[g7]);
    const float t38 = ((p32[g7] * 0.899999976f) + (t37 * 0.100000001f));
    const float t39 = ((p33[g7] * 0.999000013f) + ((t37 * t37) * 0.00100000005f));
    const float t40 = p0[0];
    p79[g7] = ((p30[g7] * (1.00000000f + (-(t36 * 0.00999999978f)))) + (-((t38 * (1.0f / ((sqrtf(t39) * (1.0f / sqrtf((1.00000000f + (-exp2f((t40 * -0.00144341681f))))))) + 9.99999994e-9f))) * (t36 * (1.0f / (1.00000000f + (-exp2f((t40 * -0.152003095f)))))))));
    p80[g7] = t38;
    p81[g7] = t39;
  }
  for (int g8 = t0; g8 < 12288; g8 += 12288) {
    const float t41 = p1[0];
    const float t42 = kiln_bf16_to_f32(p35[g8]);
    const float t43 = ((p36[g8] * 0.899999976f) + (t42 * 0.100000001f));
    const float t44 = ((p37[g8] * 0.999000013f) + ((t42 * t42) * 0.00100000005f));
    const float t45 = p0[0];
    p82[g8] = ((p34[g8] * (1.00000000f + (-(t41 * 0.00999999978f)))) + (-((t43 * (1.0f / ((sqrtf(t44) * (1.0f / sqrtf((1.00000000f + (-exp2f((t45 * -0.00144341681f))))))) + 9.99999994e-9f))) * (t41 * (1.0f / (1.00000000f + (-exp2f((t45 * -0.152003095f)))))))));
    p83[g8] = t43;
    p84[g8] = t44;
  }
  for (int g9 = t0; g9 < 192; g9 += 12288) {
    const float t46 = p1[0];
    const float t47 = kiln_bf16_to_f32(p39[g9]);
    const float t48 = ((p40[g9] * 0.899999976f) + (t47 * 0.100000001f));
    const float t49 = ((p41[g9] * 0.999000013f) + ((t47 * t47) * 0.00100000005f));
    const float t50 = p0[0];
    p85[g9] = ((p38[g9] * (1.00000000f + (-(t46 * 0.00999999978f)))) + (-((t48 * (1.0f / ((sqrtf(t49) * (1.0f / sqrtf((1.00000000f + (-exp2f((t50 * -0.00144341681f))))))) + 9.99999994e-9f))) * (t46 * (1.0f / (1.00000000f + (-exp2f((t50 * -0.152003095f)))))))));
    p86[g9] = t48;
    p87[g9] = t49;
  }
  for (int g10 = t0; g10 < 12288; g10 += 12288) {
    const float t51 = p1[0];
    const float t52 = kiln_bf16_to_f32(p43[g10]);
    const float t53 = ((p44[g10] * 0.899999976f) + (t52 * 0.100000001f));
    const float t54 = ((p45[g10] * 0.999000013f) + ((t52 * t52) * 0.00100000005f));
    const float t55 = p0[0];
    p88[g10] = ((p42[g10] * (1.00000000f + (-(t51 * 0.00999999978f)))) + (-((t53 * (1.0f / ((sqrtf(t54) * (1.0f / sqrtf((1.00000000f + (-exp2f((t55 * -0.00144341681f))))))) + 9.99999994e-9f))) * (t51 * (1.0f / (1.00000000f + (-exp2f((t55 * -0.152003095f)))))))));
    p89[g10] = t53;
    p90[g10] = t54;
  }
  for (int g11 = t0; g11 < 64; g11 += 12288) {
    const float t56 = p1[0];
    const float t57 = kiln_bf16_to_f32(p47[g11]);
    const float t58 = ((p48[g11] * 0.899999976f) + (t57 * 0.100000001f));
    const float t59 = ((p49[g11] * 0.999000013f) + ((t57 * t57) * 0.00100000005f));
    const float t60 = p0[0];
    p91[g11] = ((p46[g11] * (1.00000000f + (-(t56 * 0.00999999978f)))) + (-((t58 * (1.0f / ((sqrtf(t59) * (1.0f / sqrtf((1.00000000f + (-exp2f((t60 * -0.00144341681f))))))) + 9.99999994e-9f))) * (t56 * (1.0f / (1.00000000f + (-exp2f((t60 * -0.152003095f)))))))));
    p92[g11] = t58;
    p93[g11] = t59;
  }
  for (int g12 = t0; g12 < 8192; g12 += 12288) {
    const float t61 = p1[0];
    const float t62 = kiln_bf16_to_f32(p51[g12]);
    const float t63 = ((p52[g12] * 0.899999976f) + (t62 * 0.100000001f));
    const float t64 = ((p53[g12] * 0.999000013f) + ((t62 * t62) * 0.00100000005f));
    const float t65 = p0[0];
    p94[g12] = ((p50[g12] * (1.00000000f + (-(t61 * 0.00999999978f)))) + (-((t63 * (1.0f / ((sqrtf(t64) * (1.0f / sqrtf((1.00000000f + (-exp2f((t65 * -0.00144341681f))))))) + 9.99999994e-9f))) * (t61 * (1.0f / (1.00000000f + (-exp2f((t65 * -0.152003095f)))))))));
    p95[g12] = t63;
    p96[g12] = t64;
  }
  for (int g13 = t0; g13 < 128; g13 += 12288) {
    const float t66 = p1[0];
    const float t67 = kiln_bf16_to_f32(p55[g13]);
    const float t68 = ((p56[g13] * 0.899999976f) + (t67 * 0.100000001f));
    const float t69 = ((p57[g13] * 0.999000013f) + ((t67 * t67) * 0.00100000005f));
    const float t70 = p0[0];
    p97[g13] = ((p54[g13] * (1.00000000f + (-(t66 * 0.00999999978f)))) + (-((t68 * (1.0f / ((sqrtf(t69) * (1.0f / sqrtf((1.00000000f + (-exp2f((t70 * -0.00144341681f))))))) + 9.99999994e-9f))) * (t66 * (1.0f / (1.00000000f + (-exp2f((t70 * -0.152003095f)))))))));
    p98[g13] = t68;
    p99[g13] = t69;
  }
}
