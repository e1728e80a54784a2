"""What pinned CPU numerics cost: the same training and inference work with each library's native
kernels and with the pinned (AVX2-level) set of `kg_ml.numerics`, each in a fresh
process (the libraries read the pinning when they load).

    python bench/numerics_cost.py [--quick] [--threads N]

Work per process: a BERT encoder of the sample profile's KG-LM width and MiniLM's (the sample's
inference encoder), a few AdamW training steps and a batch of forward passes, timed after a
warm-up step. Prints progress, then as the last stdout line one JSON object: seconds per mode and
task, the pinned / native ratio, the ISA that torch used in each mode, and ``ok``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# name: (hidden, layers, heads, intermediate, batch, seq) -- the sample KG-LM and MiniLM sizes
SHAPES = {"kg_lm_sample": (128, 2, 2, 512, 16, 64), "minilm": (384, 6, 12, 1536, 32, 128)}

_CHILD = r"""
import json, sys, time, torch
from transformers import BertConfig, BertModel
hidden, layers, heads, inter, batch, seq, steps = json.loads(sys.argv[1])
torch.manual_seed(0)
model = BertModel(BertConfig(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                             intermediate_size=inter, vocab_size=30522))
x = torch.randint(0, 30522, (batch, seq))
opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
def train_step():
    loss = model(x).last_hidden_state.pow(2).mean(); loss.backward(); opt.step(); opt.zero_grad()
train_step()
t = time.perf_counter()
for _ in range(steps): train_step()
train_s = (time.perf_counter() - t) / steps
model.eval()
with torch.no_grad():
    model(x); t = time.perf_counter()
    for _ in range(steps): model(x)
infer_s = (time.perf_counter() - t) / steps
print(json.dumps({"train_step_s": train_s, "forward_s": infer_s, "isa": torch.backends.cpu.get_cpu_capability()}))
"""


def run_child(shape: tuple, steps: int, isa: str, threads: int) -> dict:
    from kg_ml.numerics import PINNED_ENV, THREAD_ENV

    env = {k: v for k, v in os.environ.items() if k not in PINNED_ENV}
    env.update({name: str(threads) for name in THREAD_ENV})
    if isa == "avx2":
        env.update(PINNED_ENV)
    res = subprocess.run([sys.executable, "-c", _CHILD, json.dumps([*shape, steps])], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the small shape, 2 steps")
    ap.add_argument("--threads", type=int, default=2, help="threads per process (default: %(default)s)")
    args = ap.parse_args()
    shapes = {"kg_lm_sample": SHAPES["kg_lm_sample"]} if args.quick else SHAPES
    steps = 2 if args.quick else 10
    result: dict = {"threads": args.threads, "steps": steps, "shapes": {}}
    for name, shape in shapes.items():
        row = {}
        for isa in ("native", "avx2"):
            row[isa] = run_child(shape, steps, isa, args.threads)
            print(f"{name} {isa}: train step {row[isa]['train_step_s'] * 1e3:.1f} ms, "
                  f"forward {row[isa]['forward_s'] * 1e3:.1f} ms ({row[isa]['isa']})", flush=True)
        row["train_ratio"] = round(row["avx2"]["train_step_s"] / row["native"]["train_step_s"], 3)
        row["forward_ratio"] = round(row["avx2"]["forward_s"] / row["native"]["forward_s"], 3)
        result["shapes"][name] = row
    result["ok"] = all(r["avx2"]["isa"] == "AVX2" for r in result["shapes"].values())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
