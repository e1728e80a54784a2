"""Process-wide compute settings of the retrieval stages."""

from __future__ import annotations


def set_cpu_threads(n: int) -> None:
    """Intra-op threads of torch and faiss on CPU (0: leave the libraries' defaults).

    One thread is fastest for the sample's small batches on a shared 2-core machine: measured,
    MiniLM encodes 2.2x slower with 2 threads competing with other processes than with 1.
    """
    if n <= 0:
        return
    import faiss
    import torch

    torch.set_num_threads(n)
    faiss.omp_set_num_threads(n)
