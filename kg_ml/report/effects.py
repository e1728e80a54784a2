"""The sample's acceptance bar: each system's effect over its baseline, read from metrics/*.json.

The sample is small and every training budget in it is cut to fit minutes on 2 cores; these are
the gaps that a cheaper config must keep (README, "Where things stand on the sample"):

- KG-LM MedQA at least 0.2 above the text-only model with the same encoder;
- KGT5 filtered hits@1 and KGQA hits@1 at least 5x their most-frequent baselines;
- KARD with knowledge above both ablations (no knowledge, answer only);
- HotpotQA F1 at least 2x the first-entity baseline;
- the joint model scored on all three tasks.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Effect:
    name: str
    value: float
    bar: float  # value must exceed (or, with at_least, reach) this
    rule: str
    at_least: bool = True

    @property
    def ok(self) -> bool:
        return self.value >= self.bar if self.at_least else self.value > self.bar


def sample_effects(metrics_dir: Path) -> list[Effect]:
    """Every effect of the sample's systems; a missing metrics file or key raises KeyError/OSError."""
    def read(name: str) -> dict:
        return json.loads((Path(metrics_dir) / f"{name}.json").read_text())

    kg, text = read("evaluate_kg_medqa"), read("evaluate_text_medqa")
    kgt5, kgqa, hotpot, kard, joint = read("kgt5"), read("kgqa"), read("hotpotqa"), read("kard"), read("joint")
    return [
        Effect("kg_lm_medqa", kg["test_accuracy"], text["test_accuracy"] + 0.2, "text-only + 0.2"),
        Effect("kgt5_hits@1", kgt5["hits@1"], 5 * kgt5["baseline_hits@1"], "5x most frequent tail"),
        Effect("kgqa_hits@1", kgqa["hits@1"], 5 * kgqa["baseline_most_frequent_hits@1"], "5x most frequent answer"),
        Effect("kard_vs_no_knowledge", kard["medqa"]["test_accuracy"],
               kard["medqa_no_knowledge"]["test_accuracy"], "above no knowledge", at_least=False),
        Effect("kard_vs_answer_only", kard["medqa"]["test_accuracy"],
               kard["medqa_answer_only"]["test_accuracy"], "above answer only", at_least=False),
        Effect("hotpotqa_f1", hotpot["f1"], 2 * hotpot["baseline_first_entity_f1"], "2x first entity"),
        Effect("joint_tasks", float(len(joint["joint"])), 3.0, "scored on medqa, hotpotqa, kgqa"),
    ]


def effects_json(effects: list[Effect]) -> dict:
    return {e.name: {**asdict(e), "ok": e.ok} for e in effects}
