"""Pinned CPU numerics: a training stage gives the same bytes whatever ISA the libraries would pick."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_kg_lm_toy import tiny_params, toy_world

from kg_ml.numerics import PINNED_ENV, NumericsParams, pin_numerics

REPO = Path(__file__).resolve().parents[1]
# What an AVX2-only machine picks by itself: the lower ISA, forced through each library's variable.
AVX2_MACHINE = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "DNNL_MAX_CPU_ISA": "AVX2",
                "MKL_CBWR": "AVX2", "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
                "OPENBLAS_CORETYPE": "Haswell"}


def _has_avx512() -> bool:
    return "avx512f" in Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else False


def _pretrain(tmp: Path, world, isa: str, env: dict[str, str], name: str) -> str:
    """Run stages/pretrain.py on the toy world; the sha256 of the weights it saved."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    tiny = tiny_params().model_dump(mode="json", exclude_unset=True)
    tiny["model"]["encoder_config"].update(hidden_size=64, intermediate_size=128)  # enough width for SIMD
    params["kg_lm"] = tiny
    params["numerics"] = {"cpu_isa": isa, "cpu_threads": 2}
    (tmp / f"{name}.yaml").write_text(yaml.safe_dump(params))
    out = tmp / name
    clean = {k: v for k, v in os.environ.items() if k not in PINNED_ENV}
    res = subprocess.run(
        [sys.executable, str(REPO / "stages" / "pretrain.py"), "--params", str(tmp / f"{name}.yaml"),
         "--grounded", str(world.grounded_corpus), "--graphs", str(world.graphs_corpus),
         "--embeddings", str(world.embeddings), "--out", str(out / "model"), "--checkpoints", str(out / "ckpt"),
         "--plots", str(out / "plots"), "--metrics", str(out / "metrics.json")],
        env={**clean, **env}, cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "numerics not pinned" not in res.stderr
    return hashlib.sha256((out / "model" / "model.safetensors").read_bytes()).hexdigest()


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/cpuinfo")
def test_pinned_training_matches_a_lower_isa_machine(tmp_path: Path) -> None:
    world = toy_world(tmp_path / "world")
    pinned = _pretrain(tmp_path, world, "avx2", {}, "pinned")
    # The same stage with the libraries' own (native) choice, on this CPU and on an emulated
    # AVX2-only one: the pinned run must equal the latter, whatever this machine has.
    avx2_machine = _pretrain(tmp_path, world, "native", AVX2_MACHINE, "avx2_machine")
    assert pinned == avx2_machine
    # An outer environment asking for other kernels is overridden by the pinning.
    assert _pretrain(tmp_path, world, "avx2", {"ATEN_CPU_CAPABILITY": "default"}, "overridden") == pinned
    if _has_avx512():
        # The test has teeth here: with AVX-512 present, native dispatch gives other bytes.
        assert _pretrain(tmp_path, world, "native", {}, "native") != pinned


def test_pinning_sets_every_variable_and_threads(monkeypatch) -> None:
    monkeypatch.setattr("kg_ml.numerics._READERS", ())  # as in a fresh stage process
    for name in [*PINNED_ENV, "OMP_NUM_THREADS"]:
        monkeypatch.delenv(name, raising=False)
    pin_numerics(NumericsParams(cpu_isa="avx2", cpu_threads=3))
    assert all(os.environ[k] == v for k, v in PINNED_ENV.items())
    assert os.environ["OMP_NUM_THREADS"] == "3"


@pytest.mark.parametrize(("ranks", "user", "expected"), [(1, None, None), (2, None, "PASSIVE"), (2, "ACTIVE", "ACTIVE")])
def test_idle_threads_sleep_when_ranks_oversubscribe_the_cores(monkeypatch, ranks, user, expected) -> None:
    monkeypatch.setattr("kg_ml.numerics._READERS", ())
    for name in [*PINNED_ENV, "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"]:
        monkeypatch.delenv(name, raising=False)  # restored after the test
    monkeypatch.setenv("LOCAL_WORLD_SIZE", str(ranks))
    if user is None:
        monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    else:
        monkeypatch.setenv("OMP_WAIT_POLICY", user)
    pin_numerics(NumericsParams(cpu_threads=len(os.sched_getaffinity(0))))
    assert os.environ.get("OMP_WAIT_POLICY") == expected


def test_a_users_compatible_mkl_branch_is_kept(monkeypatch) -> None:
    monkeypatch.setattr("kg_ml.numerics._READERS", ())
    monkeypatch.setenv("MKL_CBWR", "COMPATIBLE")
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "avx512")
    pin_numerics(NumericsParams())
    assert os.environ["MKL_CBWR"] == "COMPATIBLE" and os.environ["ATEN_CPU_CAPABILITY"] == "avx2"


def test_native_sets_nothing_and_full_profile_is_native(monkeypatch) -> None:
    for name in [*PINNED_ENV, "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"]:
        monkeypatch.delenv(name, raising=False)
    numerics = NumericsParams(full={"cpu_isa": "native", "cpu_threads": 0})
    assert numerics.for_profile("sample").cpu_isa == "avx2"
    pin_numerics(numerics.for_profile("full"))
    assert not any(k in os.environ for k in PINNED_ENV)
    assert "OMP_NUM_THREADS" not in os.environ


def test_late_pinning_is_reported(monkeypatch, caplog) -> None:
    import torch  # noqa: F401  (loaded before pinning, as in an in-process test)

    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "avx512")
    assert pin_numerics(NumericsParams()) is False
    assert "numerics not pinned" in caplog.text
    assert os.environ["ATEN_CPU_CAPABILITY"] == "avx512"  # children keep computing like this process
