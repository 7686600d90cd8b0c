"""How close the OpenVINO backend runs to this machine's limits: where a pass of the model spends
its time, and what that comes to in arithmetic and memory traffic.

The embedded model is loaded as the review loads it (verified cache, int8 weights, the LATENCY
hint), then, on random token ids:

- prefill: one pass over N prompt positions (no past), the first pass untimed, then `--repeat`
  timed passes; its tokens per second and the arithmetic it implies (2 x the decoder's matrix
  weights per position: the multiply-adds of its matrix products, the larger part of the work);
- the same N positions in passes of 128 and of 512 (the backend's old and new PREFILL);
- one pass without OpenVINO's dynamic quantization of activations, and one in f32 (the runtime's
  two settings that change the arithmetic of a pass);
- decode: one position with a past of N, timed 3 x `--repeat` times; milliseconds per token and the
  weight bytes it reads per second (every int8 weight of the decoder and the output head once);
- OpenVINO's own per-node timings (PERF_COUNT) for one prefill pass and one decode pass, summed
  by node type, for the second pass of each kind: the share of the matrix products
  (FullyConnected) against the rest.

    .venv/bin/python bench/ov_limits.py [--tokens 850] [--repeat 3]

Run it on an idle machine: other work changes every figure.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tokens", type=int, default=850, help="prompt positions (default 850)")
    ap.add_argument("--repeat", type=int, default=3, help="timed passes of each kind (default 3)")
    args = ap.parse_args()

    import numpy as np
    import openvino as ov

    from reviewbot.backends import ov_cache
    from reviewbot.config import load

    cache = load({}, os.environ, None).cache
    verified = ov_cache.load(cache, lambda m: print(f"  {m}", flush=True))
    arch = json.loads(verified.text("arch.json"))
    core = ov.Core()
    model = core.read_model(
        verified.text("model.xml"), ov.Tensor(np.frombuffer(verified.files["model.bin"], dtype=np.uint8))
    )
    # the int8 matrix weights: the decoder's (multiplied by at every position) and the output
    # head's (vocab rows: at the scored positions only, the last one in a prefill)
    vocab = int(arch["vocab"])
    shapes = [
        tuple(op.get_output_shape(0))
        for op in model.get_ordered_ops()
        if op.get_type_name() == "Constant" and op.get_output_element_type(0) == ov.Type.i8
    ]
    head = sum(int(np.prod(s)) for s in shapes if s[0] == vocab)
    weights = sum(int(np.prod(s)) for s in shapes) - head
    q = np.load(io.BytesIO(verified.files["embed_q.npy"]), allow_pickle=False)
    scale = np.load(io.BytesIO(verified.files["embed_scale.npy"]), allow_pickle=False)
    layers, kv_heads = int(arch["layers"]), int(arch["kv_heads"])
    head_dim = int(arch["hidden"]) // int(arch["heads"])
    rng = np.random.default_rng(0)
    ids = rng.integers(1000, 50000, size=args.tokens)

    def inputs(positions: np.ndarray, past: int) -> dict:
        embeds = (q[positions].astype(np.float32) * scale[positions].astype(np.float32)).reshape(
            1, len(positions), -1
        )
        out = {"inputs_embeds": embeds, "targets": np.zeros(1, dtype=np.int64)}
        for i in range(layers):
            shape = (1, kv_heads, past, head_dim)
            out[f"past_key.{i}"] = np.zeros(shape, dtype=np.float32)
            out[f"past_value.{i}"] = np.zeros(shape, dtype=np.float32)
        return out

    def timed(request, feed: dict) -> float:
        t = time.perf_counter()
        request.infer(feed, share_inputs=True)  # as the backend passes them: read in place
        return time.perf_counter() - t

    def chunked(request, size: int) -> float:
        """The N positions in passes of `size`, each with the keys and values of those before."""
        t = time.perf_counter()
        done = 0
        while done < len(ids):
            end = min(done + size, len(ids))
            feed = inputs(ids[done:end], 0)
            for i in range(layers):
                if done:
                    feed[f"past_key.{i}"] = request.get_tensor(f"present_key.{i}").data.copy()
                    feed[f"past_value.{i}"] = request.get_tensor(f"present_value.{i}").data.copy()
            request.infer(feed, share_inputs=True)
            done = end
        return time.perf_counter() - t

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"OpenVINO {ov.__version__}, load average {os.getloadavg()[0]:.1f} at start, "
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC"
    )
    precision = core.get_property("CPU", "INFERENCE_PRECISION_HINT")
    print(
        f"model: {weights / 1e6:.0f} M int8 matrix weights in the decoder, "
        f"{head / 1e6:.0f} M in the output head; inference precision {precision}; "
        f"{args.tokens} prompt positions; {args.repeat} timed passes each"
    )
    compiled = core.compile_model(model, "CPU", {"PERFORMANCE_HINT": "LATENCY"})
    request = compiled.create_infer_request()

    timed(request, inputs(ids, 0))  # the first pass prepares the shapes: untimed
    prefill = sorted(timed(request, inputs(ids, 0)) for _ in range(args.repeat))[args.repeat // 2]
    rate = args.tokens / prefill
    print(
        f"prefill, one pass: median {prefill:.3f} s, {rate:.0f} tokens/s, "
        f"{2 * weights * rate / 1e9:.0f} GFLOP/s in the decoder's matrix products"
    )
    for size in (128, 512):
        chunked(request, size)
        t = sorted(chunked(request, size) for _ in range(args.repeat))[args.repeat // 2]
        print(f"prefill in passes of {size}: median {t:.3f} s, {args.tokens / t:.0f} tokens/s")

    for label, config in (
        ("without dynamic quantization of activations", {"DYNAMIC_QUANTIZATION_GROUP_SIZE": "0"}),
        ("in f32 instead of the default precision", {"INFERENCE_PRECISION_HINT": "f32"}),
    ):
        other = core.compile_model(model, "CPU", {"PERFORMANCE_HINT": "LATENCY", **config})
        r = other.create_infer_request()
        timed(r, inputs(ids, 0))
        t = sorted(timed(r, inputs(ids, 0)) for _ in range(args.repeat))[args.repeat // 2]
        print(f"prefill, one pass, {label}: median {t:.3f} s, {args.tokens / t:.0f} tokens/s")
        del r, other

    one = inputs(ids[:1], args.tokens)
    timed(request, one)
    step = sorted(timed(request, one) for _ in range(args.repeat * 3))[(args.repeat * 3) // 2]
    print(
        f"decode, one position after {args.tokens}: median {step * 1000:.1f} ms/token, "
        f"{(weights + head) / step / 1e9:.1f} GB/s of int8 weights read"
    )

    for name, feed in (("prefill", inputs(ids, 0)), ("decode", one)):
        # a model compiled for this kind of pass alone: its node timings are of this pass
        profiled = core.compile_model(model, "CPU", {"PERFORMANCE_HINT": "LATENCY", "PERF_COUNT": True})
        r = profiled.create_infer_request()
        r.infer(feed, share_inputs=True)
        r.infer(feed, share_inputs=True)
        by_type: Counter[str] = Counter()
        for info in r.get_profiling_info():
            by_type[info.node_type] += info.real_time.total_seconds()
        total = sum(by_type.values())
        top = ", ".join(f"{k} {v / total:.0%}" for k, v in by_type.most_common(4))
        print(f"{name}, the second pass: {total:.3f} s in OpenVINO's nodes: {top}")


if __name__ == "__main__":
    main()
