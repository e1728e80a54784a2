"""Pinned CPU numerics: the same bytes from any x86-64 CPU with AVX2.

Each numeric library picks its kernels from the CPU it runs on: ATen (torch's CPU ops) takes
AVX-512 where it exists, oneDNN JITs for the widest ISA, MKL takes a vendor- and ISA-specific
branch, numpy dispatches its ufuncs (exp, log, sums) per ISA, OpenBLAS picks a core type. The
kernels round differently, so a model trained on an AVX-512 machine differs in its last bits from
one trained on an AVX2 machine, and so does everything downstream of it.

`pin_numerics` fixes every one of those choices through the environment variables that each
library reads when it loads, plus the thread count (reductions split per thread). It must run
before torch, numpy or faiss is imported: the stage runner (`kg_ml.cli`) calls it right after it
reads params.yaml, and stages import their heavy modules inside ``main``.

    numerics.cpu_isa: avx2     the pinned set below (the sample profile's default)
    numerics.cpu_isa: native   each library's own choice (fastest; bytes depend on the CPU)

MKL: the AVX2 branch. Intel guarantees its reproducibility on Intel CPUs; on AMD, MKL runs its
AVX2 kernels by default (checked on an AMD EPYC with AVX-512: the same bytes with and without
MKL_CBWR=AVX2). Intel documents only the COMPATIBLE (SSE2) branch as reproducible across vendors,
at 1.6x the time of a MiniLM training step here: an ``MKL_CBWR=COMPATIBLE`` already in the
environment is kept, for whom that guarantee matters more than speed.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Literal

from pydantic import Field

from kg_ml.qa.profiles import Profiled

log = logging.getLogger(__name__)

# The variables each library reads at load time, and the values that pin them to AVX2-level code.
PINNED_ENV: dict[str, str] = {
    "ATEN_CPU_CAPABILITY": "avx2",          # torch's CPU kernels (default/avx2/avx512)
    "ONEDNN_MAX_CPU_ISA": "AVX2",           # oneDNN's JIT (linear layers, convolutions)
    "DNNL_MAX_CPU_ISA": "AVX2",             # the same for oneDNN builds that read the old name
    "MKL_CBWR": "AVX2",                     # MKL's BLAS (torch's CPU matmuls)
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",  # numpy's AVX-512 ufunc targets
    "OPENBLAS_CORETYPE": "Haswell",         # numpy's and faiss's OpenBLAS (AVX2 kernels)
    "FAISS_OPT_LEVEL": "generic",           # faiss's SIMD build
}
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
WAIT_POLICY = "OMP_WAIT_POLICY"
# Libraries that read the variables above when they are first imported.
_READERS = ("torch", "numpy", "faiss")


class NumericsParams(Profiled):
    """params.yaml ``numerics``: how CPU kernels and threads are chosen (``full:`` replaces them;
    use `for_profile`)."""

    cpu_isa: Literal["avx2", "native"] = "avx2"
    cpu_threads: int = Field(2, ge=0)


def oversubscribed(threads: int) -> bool:
    """More OpenMP threads than cores across this machine's ranks (torchrun's LOCAL_WORLD_SIZE);
    ``threads`` 0: the libraries' default, one per core."""
    cores = len(os.sched_getaffinity(0))
    return int(os.environ.get("LOCAL_WORLD_SIZE", "1")) * (threads or cores) > cores


def pin_numerics(params: NumericsParams) -> bool:
    """Set the environment that pins ISA and threads; False if it came too late to take effect.

    Call before torch, numpy and faiss load: a library that is already loaded keeps the choices
    it made (a stage run in-process by a test, say); then nothing is set and a warning is logged.
    The e2e test checks that every stage of `dvc repro` pinned in time.
    """
    env: dict[str, str] = dict(PINNED_ENV) if params.cpu_isa == "avx2" else {}
    if env and os.environ.get("MKL_CBWR") == "COMPATIBLE":
        env["MKL_CBWR"] = "COMPATIBLE"  # the stricter, cross-vendor branch, chosen by the user
    if params.cpu_threads:
        env.update({name: str(params.cpu_threads) for name in THREAD_ENV})
    if WAIT_POLICY not in os.environ and oversubscribed(params.cpu_threads):
        # GNU OpenMP's idle threads spin; with more threads than cores they burn the cores that the
        # working ones wait for (CPU torchrun: a small-op training loop ran 6x slower). Sleeping
        # threads change no result, only who waits how.
        env[WAIT_POLICY] = "PASSIVE"
    loaded = [m for m in _READERS if m in sys.modules]
    stale = sorted(k for k, v in env.items() if os.environ.get(k) != v)
    if loaded and stale:
        # Leave the environment as the loaded libraries saw it: child processes (torchrun workers,
        # a test's subprocess) must compute the way this process does.
        log.warning("numerics not pinned: %s imported before the stage runner could set %s",
                    ", ".join(loaded), ", ".join(stale))
        return False
    os.environ.update(env)
    return True


def apply_thread_limit(params: NumericsParams) -> None:
    """torch's and faiss's intra-op thread counts (when loaded), after the stage imported them."""
    if not params.cpu_threads:
        return
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(params.cpu_threads)
    if "faiss" in sys.modules:
        sys.modules["faiss"].omp_set_num_threads(params.cpu_threads)
