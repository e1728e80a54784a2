"""Step metrics to DVCLive (rank 0 only) and to the log."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("kg_ml.training")


class Tracker:
    """Writes DVCLive rows under ``log_dir`` when enabled; never touches dvc.yaml or DVC experiments.

    Rows are keyed by the optimizer step. A run resumed at ``resume_step`` keeps the rows up to
    that step (if ``log_dir`` survived, i.e. is ``persist: true``) and drops the later ones, which the
    interrupted run logged after its last checkpoint and the resumed run logs again.
    """

    def __init__(self, log_dir: Path | None, *, enabled: bool, resume_step: int = 0) -> None:
        self.live = None
        if enabled and log_dir is not None:
            from dvclive import Live

            if resume_step:
                _drop_rows_after(log_dir, resume_step)
            self.live = Live(str(log_dir), resume=resume_step > 0, save_dvc_exp=False, dvcyaml=None)

    def log(self, step: int, metrics: dict[str, float]) -> None:
        if self.live is None:
            return
        self.live.step = step
        for name in sorted(metrics):
            self.live.log_metric(name, metrics[name])
        self.live.make_summary()

    def close(self) -> None:
        if self.live is not None:
            self.live.end()
            self.live = None


def _drop_rows_after(log_dir: Path, step: int) -> None:
    for tsv in sorted(log_dir.glob("plots/metrics/**/*.tsv")):
        header, *rows = tsv.read_text().splitlines()
        column = header.split("\t").index("step")
        kept = [row for row in rows if int(row.split("\t")[column]) <= step]
        if len(kept) < len(rows):
            tsv.write_text("\n".join([header, *kept]) + "\n")


def format_metrics(metrics: dict[str, float]) -> str:
    return " | ".join(f"{k} {v:.4g}" for k, v in sorted(metrics.items()))
