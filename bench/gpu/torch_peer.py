# The PyTorch peers of bench/gpu/smoke.ts, timed on the same GPU in the same run: torch.matmul (cuBLAS)
# for the GEMM shapes and scaled_dot_product_attention (flash) for the attention shape. Prints one JSON
# line {what: milliseconds}; a peer that fails is left out and reported on stderr.
import json
import sys

import torch
import torch.nn.functional as F


def time_ms(work, iterations=20):
    work()
    torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iterations):
        work()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / iterations


def main():
    spec = json.loads(sys.argv[1])
    results = {"torch": torch.__version__, "device": torch.cuda.get_device_name()}
    for gemm in spec["gemms"]:
        try:
            # kiln's "tn" layout: A [M, K] times a weight B [N, K], as in a Linear layer.
            a = torch.randn(gemm["m"], gemm["k"], device="cuda", dtype=torch.bfloat16)
            b = torch.randn(gemm["n"], gemm["k"], device="cuda", dtype=torch.bfloat16)
            results[gemm["what"]] = time_ms(lambda: torch.matmul(a, b.t()))
        except Exception as error:  # a missing peer must not hide the others
            print(f"gemm {gemm['what']}: {error}", file=sys.stderr)
    attention = spec.get("attention")
    if attention:
        try:
            shape = (attention["batch"], attention["heads"], attention["seqQ"], attention["headDim"])
            q, k, v = (torch.randn(shape, device="cuda", dtype=torch.bfloat16, requires_grad=True) for _ in range(3))
            forward_name, backward_name = attention["what"]
            results[forward_name] = time_ms(lambda: F.scaled_dot_product_attention(q, k, v))
            out = F.scaled_dot_product_attention(q, k, v)
            grad = torch.randn_like(out)
            results[backward_name] = time_ms(lambda: torch.autograd.grad(out, (q, k, v), grad, retain_graph=True), 10)
        except Exception as error:
            print(f"attention: {error}", file=sys.stderr)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
