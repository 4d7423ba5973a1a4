#!/usr/bin/env python3
"""PyTorch on the CPU beside kiln: the `kiln bench cpu` peer and the interop checks of test/torch-interop.test.ts.

One request per JSON object; the answer is one JSON line on stdout.
  python3 torch_cpu.py serve          requests as JSON lines on stdin, one answer line each (the bench peer)
  python3 torch_cpu.py run 'JSON'     one request (the tests)

Requests ("op"):
  describe                      torch version, the BLAS library actually loaded, threads, torch.compile availability
  measure {row, warmup, iters, variant: eager|compile, threads}
                                milliseconds of each timed run of one bench/rows.ts row
  forward {model, weights, inputs, out}
                                the AAADiT's output for a safetensors of weights and one of inputs, in f32
  train_grads {model, weights, inputs, out}
                                the flow-matching loss of spec section 2 (noise given) and every parameter's gradient, f32
  write_state_dict {model, seed, dtype, out}
                                a freshly initialised AAADiT's state dict as safetensors (what a PyTorch user would save)
  sample {model, weights, embeds, seed, timesteps, sigmas, cfg, out}
                                the reference's sampling loop: noise from torch.manual_seed(seed) in bf16, Euler steps
                                with classifier-free guidance, the final latents

"model" holds the AAADiT's sizes (bench/peers/aaa_dit_torch.py). Safetensors are read and written here
with the standard library and numpy only (no safetensors package).
"""
import json
import math
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from aaa_dit_torch import AAADiT, attention_heads  # noqa: E402

# --- safetensors -------------------------------------------------------------------------------------

NUMPY_OF = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "BF16": np.int16, "F16": np.float16}
SAFETENSORS_OF = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16", torch.float64: "F64", torch.int64: "I64"}


def read_safetensors(path):
    """Every tensor of a .safetensors file by name (BF16 comes back as torch.bfloat16)."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = info["dtype"]
        if dtype not in NUMPY_OF:
            raise ValueError(f"{path}: key '{name}' has dtype {dtype}; this reader handles {sorted(NUMPY_OF)}")
        start, end = info["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=NUMPY_OF[dtype]).copy().reshape(info["shape"])
        tensor = torch.from_numpy(array)
        tensors[name] = tensor.view(torch.bfloat16) if dtype == "BF16" else tensor
    return tensors


def write_safetensors(path, tensors, metadata=None):
    header, chunks, offset = {}, [], 0
    for name, tensor in tensors.items():
        tensor = tensor.detach().contiguous().cpu()
        raw = (tensor.view(torch.int16) if tensor.dtype == torch.bfloat16 else tensor).numpy().tobytes()
        header[name] = {"dtype": SAFETENSORS_OF[tensor.dtype], "shape": list(tensor.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for chunk in chunks:
            f.write(chunk)


# --- the model ---------------------------------------------------------------------------------------


def build_model(model):
    """An AAADiT of the sizes in `model` (keys as AAADiT's arguments), in f32."""
    return AAADiT(**model).float()


def load_model(model, weights_path):
    """The AAADiT with a safetensors state dict loaded strictly (a missing or extra key is an error), in f32."""
    dit = build_model(model)
    state = {name: tensor.float() for name, tensor in read_safetensors(weights_path).items()}
    dit.load_state_dict(state, strict=True)
    return dit


def flow_matching_loss_given_noise(dit, latents, prompt_embeds, sigma, timestep, weight, noise):
    """Spec section 2 with the noise given: x_t = (1 - s) x0 + s eps, MSE against eps - x0 per sample, weighted mean."""
    s = sigma.view(-1, 1, 1, 1)
    noisy = latents * (1 - s) + noise * s
    pred = dit(noisy, prompt_embeds, timestep)
    per_sample = (pred - (noise - latents)).square().mean(dim=(1, 2, 3))
    return (per_sample * weight).mean()


# --- the benchmark rows (bench/rows.ts) --------------------------------------------------------------


def dit_sizes(config):
    """bench/tiny-dit.ts's AaaDitConfig → AAADiT's arguments (the position grid is the latent grid there)."""
    return {
        "dim": config["dim"], "depth": config["depth"], "heads": config["heads"], "ff_dim": config["ffDim"],
        "latent_channels": config["latentChannels"], "text_dim": config["textFeatures"],
        "pos_height": config["latentHeight"], "pos_width": config["latentWidth"], "timestep_features": config["timestepFeatures"],
    }


def prepare_row(row, variant):
    """A function running the row once (its work complete when it returns)."""
    compiled = (lambda fn: torch.compile(fn)) if variant == "compile" else (lambda fn: fn)
    generator = torch.Generator().manual_seed(0)
    randn = lambda *shape: torch.randn(*shape, generator=generator)  # noqa: E731
    kind = row["kind"]
    if kind == "gemm":
        m, k, n = row["m"], row["k"], row["n"]
        a = randn(m, k)
        if row["transposeB"]:
            w = randn(n, k)
            fn = compiled(lambda: F.linear(a, w))
        else:
            b = randn(k, n)
            fn = compiled(lambda: torch.matmul(a, b))
    elif kind == "elementwise":
        x, a, b, c = (randn(row["size"]) for _ in range(4))
        fn = compiled(lambda: F.silu(x * a + b) * c)
    elif kind == "layer_norm":
        x, w, b = randn(row["rows"], row["cols"]), randn(row["cols"]), randn(row["cols"])
        fn = compiled(lambda: F.layer_norm(x, (row["cols"],), w, b, row["eps"]))
    elif kind == "softmax":
        x = randn(row["rows"], row["cols"])
        fn = compiled(lambda: torch.softmax(x, dim=-1))
    elif kind == "attention":
        batch, heads, seq, head_dim = row["batch"], row["heads"], row["seq"], row["headDim"]
        q, k, v = (randn(batch, seq, heads * head_dim) for _ in range(3))

        def attend():
            split = [t.view(batch, seq, heads, head_dim).transpose(1, 2) for t in (q, k, v)]
            return attention_heads(*split).transpose(1, 2).reshape(batch, seq, heads * head_dim)

        fn = compiled(attend)
    elif kind in ("dit_forward", "dit_train_step"):
        config, batch = row["config"], row["batch"]
        torch.manual_seed(1)
        dit = build_model(dit_sizes(config))
        latents = randn(batch, config["latentChannels"], config["latentHeight"], config["latentWidth"])
        prompt = randn(batch, config["textTokens"], config["textFeatures"])
        timestep = torch.rand(batch, generator=generator) * 1000
        if kind == "dit_forward":
            forward = compiled(dit)
            fn = lambda: forward(latents, prompt, timestep)  # noqa: E731
        else:
            target = randn(*latents.shape)
            optimizer = torch.optim.AdamW(dit.parameters(), lr=2e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
            loss_of = compiled(lambda: F.mse_loss(dit(latents, prompt, timestep), target))

            def fn():
                loss = loss_of()
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
    else:
        raise ValueError(f"unknown row kind '{kind}'")
    if kind in ("dit_train_step",):
        return fn

    def no_grad_fn():
        with torch.no_grad():
            fn()

    return no_grad_fn


def measure(request):
    variant = request.get("variant", "eager")
    if variant == "compile" and not hasattr(torch, "compile"):
        return {"skipped": f"torch.compile needs torch >= 2; this is torch {torch.__version__}"}
    if "threads" in request:
        torch.set_num_threads(int(request["threads"]))
    run = prepare_row(request["row"], variant)
    for _ in range(request["warmup"]):
        run()
    samples = []
    for _ in range(request["iters"]):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return {"samples_ms": samples}


# --- describing this torch ---------------------------------------------------------------------------


def loaded_blas():
    """The BLAS and OpenMP libraries mapped into this process after a matmul (what torch actually calls)."""
    torch.matmul(torch.ones(64, 64), torch.ones(64, 64))
    found = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            name = os.path.basename(path)
            if ("blas" in name or "mkl" in name or "lapack" in name) and path not in found:
                found.append(path)
    return [f"{path} -> {os.path.realpath(path)}" if os.path.realpath(path) != path else path for path in found]


def describe(_request):
    blas = loaded_blas()
    return {
        "torch": torch.__version__, "python": sys.version.split()[0], "threads": torch.get_num_threads(),
        "blas": blas, "blas_summary": ", ".join(sorted({p.split(" -> ")[-1] for p in blas if "lapack" not in os.path.basename(p)})) or "none found in the process",
        "compile": hasattr(torch, "compile"),
    }


# --- interop ------------------------------------------------------------------------------------------


def forward(request):
    dit = load_model(request["model"], request["weights"])
    inputs = read_safetensors(request["inputs"])
    with torch.no_grad():
        out = dit(inputs["latents"].float(), inputs["prompt_embeds"].float(), inputs["timestep"].float())
    write_safetensors(request["out"], {"output": out})
    return {"shape": list(out.shape)}


def train_grads(request):
    dit = load_model(request["model"], request["weights"])
    inputs = {name: tensor.float() for name, tensor in read_safetensors(request["inputs"]).items()}
    loss = flow_matching_loss_given_noise(dit, inputs["latents"], inputs["prompt_embeds"], inputs["sigma"], inputs["timestep"], inputs["weight"], inputs["noise"])
    loss.backward()
    grads = {name: p.grad for name, p in dit.named_parameters()}
    missing = [name for name, g in grads.items() if g is None]
    if missing:
        raise RuntimeError(f"no gradient for {missing}")
    write_safetensors(request["out"], grads)
    return {"loss": float(loss)}


def write_state_dict(request):
    torch.manual_seed(request["seed"])
    dit = build_model(request["model"])
    dtype = {"bf16": torch.bfloat16, "f32": torch.float32}[request["dtype"]]
    write_safetensors(request["out"], {name: t.to(dtype) for name, t in dit.state_dict().items()}, {"format": "pt"})
    return {"tensors": len(dit.state_dict())}


def sample(request):
    """The reference's loop (spec section 4): bf16 noise from torch.manual_seed per image, Euler steps, guidance."""
    dit = load_model(request["model"], request["weights"])
    embeds = read_safetensors(request["embeds"])["embeds"].float()
    channels, height, width = request["latent"]
    torch.manual_seed(request["seed"])
    latents = torch.randn((1, channels, height, width), dtype=torch.bfloat16).float()
    cfg, timesteps, sigmas = request["cfg"], request["timesteps"], request["sigmas"]
    guided = cfg != 1
    with torch.no_grad():
        for i, t in enumerate(timesteps):
            branch = torch.cat([latents, latents]) if guided else latents
            timestep = torch.tensor([t] * branch.shape[0], dtype=torch.bfloat16).float()  # the DiT sees the bf16 timestep
            v = dit(branch, embeds, timestep)
            if guided:
                positive, negative = v.chunk(2)
                v = negative + cfg * (positive - negative)
            following = sigmas[i + 1] if i + 1 < len(sigmas) else 0.0
            latents = latents + v * float(np.float32(following - sigmas[i]))
    write_safetensors(request["out"], {"latents": latents})
    return {"shape": list(latents.shape)}


OPS = {"describe": describe, "measure": measure, "forward": forward, "train_grads": train_grads, "write_state_dict": write_state_dict, "sample": sample}


def answer(request):
    op = request.get("op")
    if op not in OPS:
        return {"error": f"unknown op '{op}' (expected one of {', '.join(OPS)})"}
    try:
        return OPS[op](request)
    except Exception as error:  # the caller reports it with the request's row or file
        return {"error": f"{type(error).__name__}: {error}"}


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "serve":
        for line in sys.stdin:
            if line.strip():
                print(json.dumps(answer(json.loads(line))), flush=True)
    elif mode == "run" and len(sys.argv) == 3:
        print(json.dumps(answer(json.loads(sys.argv[2]))), flush=True)
    else:
        sys.exit("usage: torch_cpu.py serve | torch_cpu.py run 'JSON'")


if __name__ == "__main__":
    main()
