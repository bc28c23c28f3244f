"""Ship a training checkpoint: strip it into the package assets, record command and log in results/.

Usage: .venv/bin/python benchmarks/ship_supernet.py SCALE  (from the repository root)
"""

import datetime
from pathlib import Path
import platform
import re
import sys

import torch

from optuna_srprune.supernet import strip_checkpoint

scale = int(sys.argv[1])
run = Path(f"srprune_runs/x{scale}")
ckpt_path = run / f"supernet_x{scale}.pt"
asset = Path(f"optuna_srprune/supernet/assets/supernet_x{scale}.pt")
strip_checkpoint(ckpt_path, asset)
ckpt = torch.load(asset, weights_only=True)
command = re.sub(r"\\\n\s*", "", (run / "cmd.sh").read_text().split("exec ", 1)[1]).strip()
log_lines = re.findall(
    r"step \d+: Set5[^\r\n]*?\([0-9.]+ min\)", (run / "train.log").read_text(errors="replace")
)
results = Path("benchmarks/results")
(results / f"supernet_training_x{scale}.log").write_text("\n".join(log_lines) + "\n")
settings = ckpt["train"]
rows = [
    f"| {h['step']} | {h['elapsed_s'] / 3600:.2f} | {h['psnr_largest']:.2f} | {h['psnr_smallest']:.2f} |"
    for h in ckpt["history"]
]
shipped_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
text = (
    f"""# Supernet training, x{scale}

- command (run from the repository root; `--resume` continues after an interruption):
  `{command}`
- machine: {platform.node()} {platform.machine()}, torch {torch.__version__}, CPU only, 2 cores shared
  with other jobs (the run was paused at times by latency measurements; elapsed time includes pauses)
- shipped: {shipped_at}, step {ckpt["step"]} of
  {settings["steps"]}, {ckpt["elapsed_s"] / 3600:.2f} h of training steps
- shipped file: `{asset}` ({asset.stat().st_size / 1e6:.2f} MB, weights only), made with
  `strip_checkpoint("{ckpt_path}", "{asset}")` (benchmarks/ship_supernet.py)
- settings: {settings}
- full log: `{run / "train.log"}` (tqdm bar + validation lines); the validation lines are in
  `supernet_training_x{scale}.log` here

Set5 PSNR (dB, Y, inherited weights) during training:

| step | hours | largest | smallest |
|---|---|---|---|
"""
    + "\n".join(rows)
    + "\n"
)
(results / f"supernet_training_x{scale}.md").write_text(text)
print(text)
