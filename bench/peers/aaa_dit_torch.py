#!/usr/bin/env python3
"""PyTorch peer of kiln's GPU training benchmark (bench/gpu/train.ts), timed on the same card in the same run.

The AAADiT of the seed (/work/shared/seed/train_from_scratch.md; spec Appendix A), written here from the
seed's text, trained as the reference trains it (spec sections 2 and 8): parameters `.to(bfloat16)` (pure
bf16, so AdamW's moments are bf16 too), x_t = (1 - sigma) x0 + sigma eps with one sigma per sample, the
prediction against eps - x0 in f32, weighted per sample, backward, torch.optim.AdamW(lr 2e-4,
weight_decay 0.01, default betas and eps). Batch 32 of 16x16 latents with 128 channels (256x256 images)
and 128 prompt tokens of 1024 features. Also the fused-norm rows: RMSNorm (no affine, as in the blocks)
and LayerNorm (affine, as in the embedders) at [32*384, 1024] bf16, forward and forward + backward.

Each measurement runs in eager mode and under torch.compile (default mode; then
"max-autotune-no-cudagraphs" only if the time budget still allows it). Each variant runs in its own
process with a timeout, so a slow compile is killed and reported as skipped instead of overrunning the
GPU session: the whole script stays within --budget seconds.

Departures from the seed, each because the seed's code is written for a batch of one:
  - the seed views the timestep embedding as (1, 1, D); with one timestep per sample it is (B, 1, D);
  - the seed concatenates a batch-1 image position grid with a batch-B text part, which only works at
    B = 1; here the grid is broadcast over the batch (the same values for every sample).
einops is replaced by the equivalent view / transpose (the GPU machine has no package registry).
The model's sizes are arguments (the reference's by default), so the CPU peer (bench/peers/torch_cpu.py)
and the interop tests build small ones from the same code; RMSNorm and scaled_dot_product_attention fall
back to their definitions on torch 1.x, which has neither (Debian's python3-torch is 1.13).

Usage: python3 bench/peers/aaa_dit_torch.py --json [--budget 230] [--batch 32]
Prints one JSON line: {"torch", "device", "rows": {row: {variant: {"ms", ...} | {"skipped": why}}}, ...}.
"""
import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import time

STARTED = time.time()  # before importing torch, so the budget covers the import too

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

TRAIN_ROW = "aaadit_train_step"
NORM_ROWS = ("rmsnorm_fwd", "rmsnorm_fwd_bwd", "layernorm_fwd", "layernorm_fwd_bwd")
# Variant name -> torch.compile mode (None: eager).
VARIANTS = {"eager": None, "compile": "default", "compile_max_autotune": "max-autotune-no-cudagraphs"}
PARAMETERS = 128_824_448  # spec Appendix A
TENSORS = 156
LATENT = (128, 16, 16)
TEXT_TOKENS = 128
TEXT_DIM = 1024
LR = 2e-4
WEIGHT_DECAY = 0.01


# --- the model, from the seed ------------------------------------------------------------------------


class FallbackRMSNorm(torch.nn.Module):
    """torch.nn.RMSNorm without affine (torch >= 2.4 has it): x / sqrt(mean(x^2) + eps), eps None = finfo(dtype).eps."""

    def __init__(self, dim, eps=None, elementwise_affine=False):
        super().__init__()
        if elementwise_affine:
            raise ValueError("FallbackRMSNorm: only elementwise_affine=False is used by the AAADiT")
        self.eps = eps

    def forward(self, x):
        eps = torch.finfo(x.dtype).eps if self.eps is None else self.eps
        return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps)


RMSNorm = getattr(torch.nn, "RMSNorm", FallbackRMSNorm)


def attention_heads(q, k, v):
    """softmax(q k^T / sqrt(d)) v over [B, H, S, d]: F.scaled_dot_product_attention where torch has it (>= 2.0)."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v)
    scores = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
    return torch.matmul(torch.softmax(scores, dim=-1), v)


class AAAPositionalEmbedding(torch.nn.Module):
    def __init__(self, height=16, width=16, dim=1024):
        super().__init__()
        self.image_emb = torch.nn.Parameter(torch.randn((1, dim, height, width)))
        self.text_emb = torch.nn.Parameter(torch.randn((dim,)))

    def forward(self, image, text):
        height, width = image.shape[-2:]
        image_emb = self.image_emb.to(device=image.device, dtype=image.dtype)
        image_emb = F.interpolate(image_emb, size=(height, width), mode="bilinear")
        image_emb = image_emb.flatten(2).transpose(1, 2)  # "B C H W -> B (H W) C"
        image_emb = image_emb.expand(text.shape[0], -1, -1)  # the seed's batch of one, broadcast
        text_emb = self.text_emb.to(device=text.device, dtype=text.dtype)
        text_emb = text_emb.view(1, 1, -1).expand(text.shape[0], text.shape[1], -1)  # "C -> B L C"
        return torch.cat([image_emb, text_emb], dim=1)


class TimestepEmbeddings(torch.nn.Module):
    """Sinusoid of 256 features (f_i = 10000^(-i/128), flip_sin_to_cos: cosines first), then Linear-SiLU-Linear."""

    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.dim_in = dim_in
        self.timestep_embedder = torch.nn.Sequential(
            torch.nn.Linear(dim_in, dim_out),
            torch.nn.SiLU(),
            torch.nn.Linear(dim_out, dim_out),
        )

    def forward(self, timestep, dtype):
        half = self.dim_in // 2
        exponent = -math.log(10000) * torch.arange(half, dtype=torch.float32, device=timestep.device) / half
        angles = timestep.float()[:, None] * torch.exp(exponent)[None, :]
        emb = torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)
        return self.timestep_embedder(emb.to(dtype))


class AAABlock(torch.nn.Module):
    def __init__(self, dim=1024, num_heads=32, ff_dim=None):
        super().__init__()
        ff_dim = dim * 3 if ff_dim is None else ff_dim
        self.norm_attn = RMSNorm(dim, eps=None, elementwise_affine=False)
        self.to_q = torch.nn.Linear(dim, dim)
        self.to_k = torch.nn.Linear(dim, dim)
        self.to_v = torch.nn.Linear(dim, dim)
        self.to_out = torch.nn.Linear(dim, dim)
        self.norm_mlp = RMSNorm(dim, eps=None, elementwise_affine=False)
        self.ff = torch.nn.Sequential(
            torch.nn.Linear(dim, ff_dim),
            torch.nn.SiLU(),
            torch.nn.Linear(ff_dim, dim),
        )
        self.to_gate = torch.nn.Linear(dim, dim * 2)
        self.num_heads = num_heads

    def attention(self, emb, pos_emb):
        emb = self.norm_attn(emb + pos_emb)
        q, k, v = self.to_q(emb), self.to_k(emb), self.to_v(emb)
        b, s, _ = q.shape
        # "b s (n d)" with n heads: head h is the contiguous channel slice [h*d, (h+1)*d).
        q, k, v = [t.view(b, s, self.num_heads, -1).transpose(1, 2) for t in (q, k, v)]
        emb = attention_heads(q, k, v)
        emb = emb.transpose(1, 2).reshape(b, s, -1)
        return self.to_out(emb)

    def feed_forward(self, emb, pos_emb):
        emb = self.norm_mlp(emb + pos_emb)
        return self.ff(emb)

    def forward(self, emb, pos_emb, t_emb):
        gate_attn, gate_mlp = self.to_gate(t_emb).chunk(2, dim=-1)
        emb = emb + self.attention(emb, pos_emb) * (1 + gate_attn)
        emb = emb + self.feed_forward(emb, pos_emb) * (1 + gate_mlp)
        return emb


class AAADiT(torch.nn.Module):
    """The seed's AAADiT; the defaults are the reference's 0.1B sizes."""

    def __init__(self, dim=1024, depth=10, heads=32, ff_dim=None, latent_channels=128, text_dim=1024, pos_height=16, pos_width=16,
                 timestep_features=256):
        super().__init__()
        self.pos_embedder = AAAPositionalEmbedding(height=pos_height, width=pos_width, dim=dim)
        self.timestep_embedder = TimestepEmbeddings(timestep_features, dim)
        self.image_embedder = torch.nn.Sequential(torch.nn.Linear(latent_channels, dim), torch.nn.LayerNorm(dim))
        self.text_embedder = torch.nn.Sequential(torch.nn.Linear(text_dim, dim), torch.nn.LayerNorm(dim))
        self.blocks = torch.nn.ModuleList([AAABlock(dim, heads, ff_dim) for _ in range(depth)])
        self.proj_out = torch.nn.Linear(dim, latent_channels)

    def forward(self, latents, prompt_embeds, timestep):
        pos_emb = self.pos_embedder(latents, prompt_embeds)
        t_emb = self.timestep_embedder(timestep, dtype=latents.dtype).view(latents.shape[0], 1, -1)
        image = self.image_embedder(latents.flatten(2).transpose(1, 2))  # "B C H W -> B (H W) C"
        text = self.text_embedder(prompt_embeds)
        emb = torch.cat([image, text], dim=1)
        for block in self.blocks:
            emb = block(emb, pos_emb, t_emb)
        emb = emb[:, : latents.shape[-1] * latents.shape[-2]]
        emb = self.proj_out(emb)
        return emb.transpose(1, 2).reshape(latents.shape)  # "B (H W) C -> B C H W"


def flow_matching_loss(model, x0, prompt_embeds, sigma, timestep, weight):
    """Spec section 2 for a batch: noise from the device RNG, x_t per sample, MSE against eps - x0 in f32, weighted."""
    noise = torch.randn_like(x0)
    s = sigma.to(x0.dtype).view(-1, 1, 1, 1)  # bf16, so x_t stays bf16 as in the reference
    x_t = (1 - s) * x0 + s * noise
    target = noise - x0
    pred = model(x_t, prompt_embeds, timestep)
    per_sample = (pred.float() - target.float()).square().mean(dim=(1, 2, 3))
    return (per_sample * weight).mean()


# --- timing ------------------------------------------------------------------------------------------


def emit(record):
    """One result as a JSON line on stdout: the parent keeps whatever was printed before a timeout."""
    print(json.dumps(record), flush=True)


def time_each(work, warmup, iterations):
    """Milliseconds of each call of `work`, by CUDA events around it, after `warmup` untimed calls."""
    for _ in range(warmup):
        work()
    torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    samples = []
    for _ in range(iterations):
        start.record()
        work()
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end))
    return samples


def time_batched(work, iterations=50, repeats=7):
    """Milliseconds per call over `iterations` back-to-back calls (short kernels: no sync between calls), `repeats` times."""
    work()
    torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    samples = []
    for _ in range(repeats):
        start.record()
        for _ in range(iterations):
            work()
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end) / iterations)
    return samples


def summary(samples, **extra):
    return {"ms": statistics.median(samples), "samples_ms": [round(s, 4) for s in samples], **extra}


def wrap(fn, mode):
    return fn if mode is None else torch.compile(fn, mode=mode)


# --- the workers (one variant, one group of rows, in its own process) -----------------------------


def train_worker(variant, mode, batch, warmup, iterations):
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = AAADiT()
    model = model.to(dtype=torch.bfloat16)  # as the reference: pure bf16, no master copy
    tensors = dict(model.named_parameters())
    count = sum(p.numel() for p in tensors.values())
    if count != PARAMETERS or len(tensors) != TENSORS:
        raise RuntimeError(f"the model has {len(tensors)} tensors and {count} parameters; the seed's AAADiT has {TENSORS} and {PARAMETERS}")
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    x0 = torch.randn((batch, *LATENT), device="cuda", dtype=torch.bfloat16)
    prompt_embeds = torch.randn((batch, TEXT_TOKENS, TEXT_DIM), device="cuda", dtype=torch.bfloat16)
    sigma = torch.rand(batch, device="cuda")
    timestep = (sigma * 1000).to(torch.bfloat16)  # the model is fed the bf16-rounded timestep (spec 2.3)
    weight = torch.rand(batch, device="cuda") + 0.5
    loss_fn = wrap(lambda *inputs: flow_matching_loss(model, *inputs), mode)
    losses = []

    def step():
        loss = loss_fn(x0, prompt_embeds, sigma, timestep, weight)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.detach())

    started = time.time()
    step()  # the first call compiles (torch.compile) and allocates the optimizer's state
    torch.cuda.synchronize()
    first_call_s = time.time() - started
    samples = time_each(step, warmup, iterations)
    loss_values = [float(x) for x in (losses[0], losses[-1])]
    if not all(math.isfinite(x) for x in loss_values):
        raise RuntimeError(f"non-finite loss {loss_values}")
    emit({
        "row": TRAIN_ROW, "variant": variant,
        **summary(samples, first_call_s=round(first_call_s, 2), loss_first=loss_values[0], loss_last=loss_values[1],
                  steps=len(losses), peak_memory_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2)),
    })


def norm_worker(variant, mode, rows, dim):
    x = torch.randn((rows, dim), device="cuda", dtype=torch.bfloat16)
    cotangent = torch.randn_like(x)
    rms = torch.nn.RMSNorm(dim, eps=None, elementwise_affine=False, device="cuda", dtype=torch.bfloat16)  # eps None, as the blocks
    layer = torch.nn.LayerNorm(dim, device="cuda", dtype=torch.bfloat16)
    with torch.no_grad():  # non-trivial affine parameters, so nothing is optimised away
        layer.weight.uniform_(0.5, 1.5)
        layer.bias.uniform_(-0.5, 0.5)
    for name, norm, extra in (("rmsnorm", rms, ()), ("layernorm", layer, (layer.weight, layer.bias))):
        forward = wrap(lambda t, norm=norm: norm(t), mode)
        try:
            started = time.time()
            with torch.no_grad():
                samples = time_batched(lambda: forward(x))
            emit({"row": f"{name}_fwd", "variant": variant, **summary(samples, first_call_s=round(time.time() - started, 2))})
        except Exception as error:  # one row's failure must not hide the others
            emit({"row": f"{name}_fwd", "variant": variant, "error": f"{type(error).__name__}: {error}"})
        try:
            started = time.time()
            xg = x.detach().requires_grad_()
            inputs = (xg, *extra)
            samples = time_batched(lambda: torch.autograd.grad(forward(xg), inputs, cotangent))
            emit({"row": f"{name}_fwd_bwd", "variant": variant, **summary(samples, first_call_s=round(time.time() - started, 2))})
        except Exception as error:
            emit({"row": f"{name}_fwd_bwd", "variant": variant, "error": f"{type(error).__name__}: {error}"})


def worker(args):
    emit({"info": {"torch": torch.__version__, "device": torch.cuda.get_device_name(), "python": sys.version.split()[0]}})
    mode = VARIANTS[args.variant]
    if args.group == "norms":
        norm_worker(args.variant, mode, args.batch * (LATENT[1] * LATENT[2] + TEXT_TOKENS), 1024)
    else:
        try:
            train_worker(args.variant, mode, args.batch, args.warmup, args.iterations)
        except Exception as error:
            emit({"row": TRAIN_ROW, "variant": args.variant, "error": f"{type(error).__name__}: {error}"})


# --- the parent: runs the workers within the budget ---------------------------------------------------


def run_worker(args, variant, group, timeout_s, result):
    """Runs one worker in its own process group; on timeout kills the group (Inductor's compile workers too)."""
    rows = [TRAIN_ROW] if group == "train" else list(NORM_ROWS)
    if timeout_s < 5:
        for row in rows:
            result["rows"].setdefault(row, {})[variant] = {"skipped": "not started: the time budget was spent"}
        result["skipped"].append(f"{variant} {group}: no time left")
        return
    command = [sys.executable, os.path.abspath(__file__), "--worker", "--variant", variant, "--group", group,
               "--batch", str(args.batch), "--warmup", str(args.warmup), "--iterations", str(args.iterations)]
    started = time.time()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    timed_out = False
    try:
        out, err = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
    elapsed = time.time() - started
    for line in out.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "info" in record:
            result.update({k: v for k, v in record["info"].items() if k not in result})
        elif "row" in record:
            row, name = record.pop("row"), record.pop("variant")
            result["rows"].setdefault(row, {})[name] = record
    last_error = next((line for line in reversed(err.strip().splitlines()) if line.strip()), "no message")
    for row in rows:
        if variant in result["rows"].get(row, {}):
            continue
        if timed_out:
            why = f"killed after {timeout_s:.0f} s (time budget): {'torch.compile did not finish' if VARIANTS[variant] else 'did not finish'}"
            result["rows"].setdefault(row, {})[variant] = {"skipped": why}
        else:
            result["rows"].setdefault(row, {})[variant] = {"error": f"worker exited with {process.returncode}: {last_error}"}
    if err.strip() and not timed_out and process.returncode != 0:
        result.setdefault("worker_errors", []).append({"variant": variant, "group": group, "stderr_tail": err.strip()[-2000:]})
    result["workers"].append({"variant": variant, "group": group, "seconds": round(elapsed, 1), "timed_out": timed_out, "exit": process.returncode})
    print(f"  {variant:>22} {group:<6} {elapsed:6.1f} s{' (timed out)' if timed_out else ''}", file=sys.stderr, flush=True)


def parent(args):
    deadline = STARTED + args.budget

    def remaining():
        return deadline - time.time()

    result = {"budget_s": args.budget, "batch": args.batch, "rows": {}, "workers": [], "skipped": [], "notes": [
        "parameters and AdamW moments bf16 (pure bf16, as the reference); AdamW is torch's default (foreach) implementation, eager in every variant",
        "torch.compile wraps the loss (noise, forward, loss; backward through AOTAutograd); optimizer step eager",
        "train step: median of per-step CUDA-event times (sync after each step); norms: median over repeats of the mean of 50 back-to-back calls",
    ]}
    # Eager first (cheap, always wanted); then the compiled norms (small graphs); then the compiled training
    # step with what is left but a reserve; max-autotune only when a generous slice remains.
    run_worker(args, "eager", "norms", min(remaining() - 5, 60), result)
    run_worker(args, "eager", "train", min(remaining() - 5, 90), result)
    run_worker(args, "compile", "norms", min(remaining() - 90, 60), result)
    run_worker(args, "compile", "train", remaining() - 5, result)
    if remaining() >= args.autotune_min:
        run_worker(args, "compile_max_autotune", "train", remaining() - 5, result)
    else:
        reason = f"{max(remaining(), 0):.0f} s left of the {args.budget:.0f} s budget, {args.autotune_min:.0f} s needed"
        result["rows"].setdefault(TRAIN_ROW, {})["compile_max_autotune"] = {"skipped": reason}
        result["skipped"].append(f"compile_max_autotune train: {reason}")
    result["elapsed_s"] = round(time.time() - STARTED, 1)
    if args.json:
        print(json.dumps(result))
        return
    for row, variants in result["rows"].items():
        cells = "  ".join(f"{v}: {r['ms']:.3f} ms" if "ms" in r else f"{v}: {r.get('skipped') or r.get('error')}" for v, r in variants.items())
        print(f"{row:<20} {cells}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON line with the results")
    parser.add_argument("--budget", type=float, default=230.0, help="seconds for everything (default 230)")
    parser.add_argument("--autotune-min", type=float, default=120.0, help="seconds that must remain to try max-autotune-no-cudagraphs")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="eager", help=argparse.SUPPRESS)
    parser.add_argument("--group", choices=("train", "norms"), default="train", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
