"""The stage runner: what every stage CLI repeats, done once.

A stage script defines ``parser()`` (built on `stage_parser`) and ``main(args, params)``, which
imports its heavy modules (torch, numpy, faiss) inside, does the work and returns its metrics.
`run` then owns the rest, in this order:

1. parse the arguments (filling ``{arg}`` fields of path defaults) and set up logging;
2. read and validate params.yaml (torch-free);
3. pin the CPU numerics and thread count for the active profile (`kg_ml.numerics`), which must
   happen before torch, numpy or faiss loads;
4. under ``torchrun``, join the process group (gloo on CPU, NCCL on GPU), so that the training
   loop finds it joined and ranks stay known after it returns;
5. call ``main``; write the metrics it returns to ``--metrics`` (unless ``-``) on rank 0 only;
6. leave the process group. A `KgMlError` prints one line and exits 1.

A stage script ends with ``end_process(run(main, parser()))``: the exit skips the interpreter's
teardown, which only frees memory.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from kg_ml import paths
from kg_ml.errors import KgMlError
from kg_ml.numerics import pin_numerics

if TYPE_CHECKING:
    from kg_ml.config import Params

StageMain = Callable[[argparse.Namespace, "Params"], Mapping[str, Any] | None]


def stage_parser(description: str, *, metrics: str | Path | None = None) -> argparse.ArgumentParser:
    """An argument parser with the options every stage shares; ``metrics``: the default
    ``--metrics`` file of a stage that writes one."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--params", default="params.yaml", help="params file (default: %(default)s)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    if metrics is not None:
        parser.add_argument("--metrics", default=str(metrics),
                            help="metrics JSON ('-' for none; default: %(default)s)")
    return parser


def add_training_outputs(parser: argparse.ArgumentParser, name: str, *, plots: str | None = None) -> None:
    """``--out``, ``--checkpoints``, ``--plots`` of a training stage: its best model, resumable
    checkpoints (``persist: true`` in dvc.yaml) and DVCLive curves, by default under ``name``
    (``plots``: another name for the curves)."""
    parser.add_argument("--out", default=paths.model(name), help="model directory (default: %(default)s)")
    parser.add_argument("--checkpoints", default=paths.checkpoints(name),
                        help="resumable checkpoints (default: %(default)s)")
    parser.add_argument("--plots", default=paths.plots(plots or name), help="DVCLive step metrics (default: %(default)s)")


def _fill_defaults(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Defaults may name other arguments, ``paths.model("finetune_medqa/{variant}")``: fill them in."""
    values = vars(args)
    for key, value in values.items():
        if isinstance(value, str | Path) and value == parser.get_default(key) and "{" in str(value):
            setattr(args, key, str(value).format(**values))


def is_rank_zero() -> bool:
    """True in a single process and on rank 0 under torchrun (read from its env: no torch needed)."""
    return int(os.environ.get("RANK", "0")) == 0


@contextmanager
def _process_group() -> Iterator[None]:
    """torchrun's process group for the whole stage, or nothing in a single process."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        yield
        return
    from kg_ml.training.distributed import process_group  # loads torch: only under torchrun
    with process_group():
        yield


def run(main: StageMain, parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> int:
    """Run a stage (steps in the module docstring); returns the exit code."""
    args = parser.parse_args(argv)
    _fill_defaults(parser, args)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    try:
        from kg_ml.config import load_params
        params = load_params(args.params)
        pin_numerics(params.numerics.for_profile(params.profile))
        with _process_group():
            metrics = main(args, params)
            target = getattr(args, "metrics", "-")
            if metrics is not None and target != "-" and is_rank_zero():
                from kg_ml.io import write_json
                write_json(target, dict(metrics))
    except KgMlError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 0


def end_process(code: int) -> NoReturn:
    """Exit a stage process with ``code`` without the interpreter's teardown.

    Tearing down torch's, transformers' and PyG's modules frees memory and nothing else, yet takes
    0.3-0.9 s per process (``bench/sample_budget.py``: 42 s of the sample's 463 s repro). By the time
    `run` returns, every output is written and closed (`kg_ml.io` writes atomically) and training
    has left its process group. What a normal exit would still do runs here first, in this order:
    the atexit callbacks (e.g. `kg_ml.import_log`), logging's flush and close, stdio's flush.
    """
    atexit._run_exitfuncs()  # CPython's own exit path calls the same function
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)
