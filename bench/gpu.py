"""GPU throughput of the local backend on a model with CodeGeeX4-ALL-9B's shapes (random weights).

Runs only where CUDA is present: otherwise it says so and exits 2 (0 with --allow-no-gpu), having
measured nothing. `--tiny --device cpu` runs every step on a 2-layer model on the CPU, to check
the script itself (its figures mean nothing).

The model: transformers' GLM-4 architecture (GlmForCausalLM, the layout of GLM-4-9B-chat-hf and
CodeGeeX4-ALL-9B): 40 layers, hidden 4096, 32 query heads, 2 KV heads (head dim 128), MLP 13696,
vocabulary 151552, random weights (speed does not depend on their values). A byte-level tokenizer
with GLM-4's chat template stands in for the real one (1 byte = 1 token), so prompt lengths are exact.

Measured, each after a warm-up:
- decode tokens/s at batch 1 and batch 8 (reviewbot's LocalBackend.generate and generate_batch,
  greedy), from a 1K-token prompt: (N - 1) new tokens / (time for N tokens - time for 1 token),
  so the prefill is not counted; batch 8 is the total over the 8 streams;
- prefill tokens/s at 4K and 16K-token prompts (one forward pass, logits of the last position);
- the route-choice overhead: choose() over the route labels, then generate() of the route's
  answer on the same prefix (the chosen label as an assistant turn plus the route's instructions),
  against generate() alone; with the prefix cache (only the new tokens prefilled) and without;
- in bf16 and in int4 (torchao's int4 weight-only kernel, group size 128; skipped with the reason
  when torchao is missing).

    python bench/gpu.py [--device cuda:0] [--dtypes bf16,int4] [--decode-tokens 128] [--json out.json]
    python bench/gpu.py --quality /models/Qwen2.5-Coder-7B-Instruct   # review quality (bench/gpu_quality.py)

Anchors (published figures): GLM-4-9B with plain transformers, batch 1, 1K input: 27.8 tok/s on an A100,
44.4 tok/s on an H100; vLLM: about 45 tok/s at batch 8 on an A100 claimed; about 500 tok/s total
at 8 streams with an 8B model on an A100. Target: 10x the 45 tok/s claim at batch 8 on an H100.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GLM_TEMPLATE = (
    "[gMASK]<sop>{% for item in messages %}{% if item['content'] %}<|{{ item['role'] }}|>\n"
    "{{ item['content'] }}{% endif %}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
SPECIALS = ["<|endoftext|>", "[gMASK]", "<sop>", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"]
LABELS = ["review", "interpreter", "search", "tools"]  # distinct first bytes (repo_qa would share r)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda", help="cuda, cuda:N, or cpu (only with --tiny)")
    ap.add_argument("--dtypes", default="bf16,int4", help="comma-separated: bf16, int4")
    ap.add_argument("--decode-tokens", type=int, default=128, help="new tokens per decode measurement")
    ap.add_argument("--prompt-tokens", type=int, default=1024, help="prompt length for decode and routing")
    ap.add_argument("--prefill", default="4096,16384", help="prompt lengths for the prefill measurement")
    ap.add_argument("--batch", type=int, default=8, help="streams for the batched decode")
    ap.add_argument(
        "--tiny", action="store_true", help="a 2-layer model: checks the script, measures nothing"
    )
    ap.add_argument("--allow-no-gpu", action="store_true", help="exit 0 instead of 2 when there is no CUDA")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument(
        "--quality",
        type=Path,
        metavar="MODEL_DIR",
        help="instead: review quality (reviewbot eval, both sets, both strategies) with the "
        "checkpoint in MODEL_DIR (bench/gpu_quality.py; nothing is downloaded)",
    )
    args = ap.parse_args(argv)
    dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
    bad = [d for d in dtypes if d not in ("bf16", "int4")]
    if bad or not dtypes:
        ap.error(f"--dtypes: unknown {', '.join(bad) or '(none given)'}; use bf16 and/or int4")
    try:
        args.prefill_lengths = [int(x) for x in args.prefill.split(",") if x.strip()]
    except ValueError:
        ap.error(f"--prefill must be comma-separated integers; got {args.prefill!r}")
    for name in ("decode_tokens", "prompt_tokens", "batch"):
        if getattr(args, name) < 2:
            ap.error(f"--{name.replace('_', '-')} must be at least 2")
    if args.device == "cpu" and not args.tiny:
        ap.error("--device cpu measures nothing useful for a 9B model: use it with --tiny only")
    args.dtypes = dtypes
    return args


def no_gpu_reason(torch, device: str) -> str | None:
    if device == "cpu":
        return None
    if torch.version.cuda is None:
        return f"torch {torch.__version__} is a CPU build"
    if not torch.cuda.is_available():
        return "torch sees no CUDA device"
    index = int(device.split(":")[1]) if ":" in device else 0
    if index >= torch.cuda.device_count():
        return f"there is no {device} (torch sees {torch.cuda.device_count()} device(s))"
    return None


def glm_config(tiny: bool):
    from transformers import GlmConfig

    if tiny:
        return GlmConfig(
            vocab_size=512,
            hidden_size=128,
            intermediate_size=256,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=32,
            pad_token_id=0,
            eos_token_id=[1],
            bos_token_id=None,
        )
    c = GlmConfig()  # GLM-4-9B: the defaults are its shapes
    assert (c.num_hidden_layers, c.hidden_size, c.num_attention_heads, c.num_key_value_heads) == (
        40,
        4096,
        32,
        2,
    )
    return c


def byte_tokenizer(vocab_size: int):
    """1 byte = 1 token, GLM-4's special tokens and chat template; padded to the model's vocabulary."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {ch: i for i, ch in enumerate(alphabet)}
    n_fill = vocab_size - len(vocab) - len(SPECIALS)
    vocab.update({f"<unused_{i}>": len(alphabet) + i for i in range(max(0, n_fill))})
    tk = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tk.decoder = decoders.ByteLevel()
    tk.add_special_tokens(SPECIALS)
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    tok.chat_template = GLM_TEMPLATE
    return tok


def build(torch, args, dtype_name: str):
    from transformers import GlmForCausalLM

    from reviewbot.backends.local import LocalBackend

    config = glm_config(args.tiny)
    torch.manual_seed(0)
    t0 = time.perf_counter()
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)  # never materialize 9B parameters in float32
    try:
        with torch.device(args.device):
            model = GlmForCausalLM(config)
    finally:
        torch.set_default_dtype(old)
    kernel = "bf16 (cuBLAS)" if args.device != "cpu" else "bf16 (CPU)"
    if dtype_name == "int4":
        try:
            from torchao.quantization import Int4WeightOnlyConfig, quantize_
        except ImportError:
            return None, "skipped: torchao is not installed (pip install torchao==0.18.0)"
        if args.device == "cpu":
            return None, "skipped: torchao's int4 weight-only kernel needs CUDA"
        quantize_(model, Int4WeightOnlyConfig(group_size=128))
        kernel = "int4 weight-only, group 128 (torchao)"
    model.eval()
    tok = byte_tokenizer(config.vocab_size)
    name = f"random GLM-4-9B shapes ({dtype_name})" if not args.tiny else f"tiny GLM ({dtype_name})"
    backend = LocalBackend.from_model(model, tok, model_id=name)
    return backend, f"{kernel}; built in {time.perf_counter() - t0:.1f} s"


def sync(torch, device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def prompt(b, n_tokens: int, seed: int = 0) -> list[dict[str, str]]:
    """A chat whose rendered prompt is exactly n_tokens tokens (the byte tokenizer: 1 byte, 1 token)."""
    system = {"role": "system", "content": "You review code."}
    overhead = len(b._prompt_ids([system, {"role": "user", "content": "x"}])[0]) - 1
    chars = "abcdefghijklmnopqrstuvwxyz0123456789 \n"
    text = "".join(chars[(i * 7 + seed) % len(chars)] for i in range(max(1, n_tokens - overhead)))
    return [system, {"role": "user", "content": text}]


def decode_rate(torch, b, args, batch: int) -> dict:
    msgs = [prompt(b, args.prompt_tokens, seed=i) for i in range(batch)]

    def run(n: int) -> tuple[float, int]:
        b._kv, b._kv_ids = None, []  # no prefix reuse between measurements
        sync(torch, args.device)
        t = time.perf_counter()
        if batch == 1:
            gens = [b.generate(msgs[0], max_tokens=n)]
        else:
            gens = b.generate_batch(msgs, max_tokens=n)
        sync(torch, args.device)
        return time.perf_counter() - t, sum(g.generated_tokens for g in gens)

    run(2)  # warm-up
    t1, _ = run(1)
    tn, produced = run(args.decode_tokens)
    steps = produced - batch  # every stream's first token belongs to the prefill
    rate = steps / max(tn - t1, 1e-9)
    return {
        "batch": batch,
        "prompt_tokens": len(b._prompt_ids(msgs[0])[0]),
        "new_tokens": args.decode_tokens,
        "produced": produced,
        "seconds_1": round(t1, 4),
        "seconds_n": round(tn, 4),
        "decode_tok_s": round(rate, 1),
    }


def prefill_rate(torch, b, args, length: int) -> dict:
    model = b._model
    ids = torch.randint(0, 256, (1, length), device=args.device)
    with torch.inference_mode():
        model(ids[:, :64], logits_to_keep=1)  # warm-up
        sync(torch, args.device)
        t = time.perf_counter()
        model(ids, logits_to_keep=1)
        sync(torch, args.device)
    seconds = time.perf_counter() - t
    return {"tokens": length, "seconds": round(seconds, 4), "prefill_tok_s": round(length / seconds, 1)}


def routing_overhead(torch, b, args) -> dict:
    base = prompt(b, args.prompt_tokens)
    route = [
        *base,
        {"role": "assistant", "content": "review"},
        {"role": "user", "content": "Now review the change. Answer in JSON."},
    ]
    n = max(2, args.decode_tokens // 2)

    def timed(f):
        sync(torch, args.device)
        t = time.perf_counter()
        out = f()
        sync(torch, args.device)
        return time.perf_counter() - t, out

    out: dict = {}
    b.generate(route, max_tokens=2)  # warm-up
    for cached in (True, False):
        b.prefix_cache = cached
        b._kv, b._kv_ids = None, []
        t_alone, g_alone = timed(lambda: b.generate(route, max_tokens=n))
        b._kv, b._kv_ids = None, []
        t_choose, c = timed(lambda: b.choose(base, LABELS))
        t_gen, g = timed(lambda: b.generate(route, max_tokens=n))
        key = "with_prefix_cache" if cached else "without_prefix_cache"
        out[key] = {
            "generate_alone_s": round(t_alone, 4),
            "choose_s": round(t_choose, 4),
            "generate_after_choose_s": round(t_gen, 4),
            "cached_tokens": g.cached_tokens,
            "route_prompt_tokens": g.prompt_tokens,
            "overhead_pct": round(100 * (t_choose + t_gen - t_alone) / t_alone, 1),
        }
    b.prefix_cache = True
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import torch
    except ImportError:
        print("bench/gpu.py: torch is not installed; nothing measured", file=sys.stderr)
        return 0 if args.allow_no_gpu else 2
    why = no_gpu_reason(torch, args.device)
    if why is not None:
        print(
            f"bench/gpu.py: no CUDA ({why}); this benchmark measures GPU throughput and runs only "
            "where a GPU is present. Nothing was measured.",
            file=sys.stderr,
        )
        return 0 if args.allow_no_gpu else 2
    if args.quality is not None:
        from gpu_quality import run as quality_run

        return quality_run(args.quality, args.device, out=args.json)
    if args.device.startswith("cuda"):
        torch.cuda.set_device(torch.device(args.device))
        gpu = torch.cuda.get_device_name()
    else:
        gpu = "none (CPU, --tiny)"
    import transformers

    report: dict = {
        "machine": {
            "gpu": gpu,
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "cuda": torch.version.cuda,
        },
        "model": "tiny GLM (2 layers, hidden 128)"
        if args.tiny
        else "GLM-4-9B shapes: 40 layers, hidden 4096, 32 q heads, 2 kv heads",
        "runs": {},
    }
    print(f"bench/gpu.py on {gpu}: {report['model']}")
    for dtype_name in args.dtypes:
        backend, note = build(torch, args, dtype_name)
        print(f"\n[{dtype_name}] {note}")
        if backend is None:
            report["runs"][dtype_name] = {"skipped": note}
            continue
        run: dict = {"kernel": note}
        for batch in (1, args.batch):
            r = decode_rate(torch, backend, args, batch)
            run[f"decode_batch{batch}"] = r
            print(
                f"  decode, batch {batch}: {r['decode_tok_s']} tok/s "
                f"({r['produced']} tokens; {r['seconds_n']} s for {args.decode_tokens} new, {r['seconds_1']} "
                "s for 1)"
            )
        for length in args.prefill_lengths:
            try:
                r = prefill_rate(torch, backend, args, length)
            except torch.OutOfMemoryError as exc:
                r = {"tokens": length, "skipped": f"out of memory: {str(exc).splitlines()[0]}"}
            run[f"prefill_{length}"] = r
            print(f"  prefill {length} tokens: {r.get('prefill_tok_s', r.get('skipped'))} tok/s")
        r = routing_overhead(torch, backend, args)
        run["routing"] = r
        for key, v in r.items():
            print(
                f"  route choice + generation vs generation alone, {key.replace('_', ' ')}: "
                f"{v['overhead_pct']:+.1f}% (choose {v['choose_s']} s, cached "
                f"{v['cached_tokens']}/{v['route_prompt_tokens']} prompt tokens)"
            )
        report["runs"][dtype_name] = run
        del backend
        if args.device.startswith("cuda"):
            torch.cuda.empty_cache()
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
        print(f"\nwritten: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
