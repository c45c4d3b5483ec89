"""Throughput of gkd.ops primitives in GB/s beside the machine's memory-copy bandwidth.

Each primitive is timed on both gkd backends (plain torch and torch-scatter, when it is
installed) and beside PyG's ``torch_geometric.utils.scatter`` and raw torch-scatter calls.
GB/s counts the bytes a primitive must at least move once: its inputs read and its output
written. The memory copy (read + write of a large buffer) is the physical ceiling.

    python benchmarks/ops.py [--output benchmarks/results/ops/ops.json] [--threads 2]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch_geometric.utils import scatter as pyg_scatter

from gkd.experiment import environment, hardware_line
from gkd.io import write_json
from gkd.ops import (
    CSRGraph,
    available_backends,
    k_hop_subgraph,
    propagate,
    random_walk,
    scatter,
    segment,
    use_backend,
)

MB = 1 << 20


def median_seconds(fn, repeats: int = 20, warmup: int = 5) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="benchmarks/results/ops/ops.json")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--rows", type=int, default=4_000_000, help="scattered rows E")
    parser.add_argument("--width", type=int, default=16, help="feature width F")
    parser.add_argument("--targets", type=int, default=100_000, help="output rows N")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    E, F, N = args.rows, args.width, args.targets

    buffer = torch.empty(256 * MB // 4)
    target = torch.empty_like(buffer)
    copy_gbs = 2 * buffer.numel() * 4 / median_seconds(lambda: target.copy_(buffer)) / 1e9

    src = torch.randn(E, F, generator=gen)
    index = torch.randint(N, (E,), generator=gen)
    sorted_index, order = index.sort()
    sorted_src = src[order].contiguous()
    ptr = torch.cat([torch.zeros(1, dtype=torch.long),
                     torch.bincount(sorted_index, minlength=N).cumsum(0)])
    scatter_bytes = E * F * 4 + E * 8 + N * F * 4
    segment_bytes = E * F * 4 + (N + 1) * 8 + N * F * 4

    rows = []

    def measure(primitive: str, implementation: str, fn, moved: int) -> None:
        seconds = median_seconds(fn)
        rows.append({"primitive": primitive, "implementation": implementation,
                     "ms": seconds * 1e3, "gb_per_s": moved / seconds / 1e9,
                     "share_of_copy": moved / seconds / 1e9 / copy_gbs})

    backends = available_backends()
    for reduce in ("sum", "mean", "max"):
        for backend in backends:
            with use_backend(backend):
                measure(f"scatter {reduce}", f"gkd ({backend})",
                        lambda: scatter(src, index, N, reduce), scatter_bytes)
                measure(f"segment {reduce}", f"gkd ({backend})",
                        lambda: segment(sorted_src, ptr, reduce), segment_bytes)
        measure(f"scatter {reduce}", "torch_geometric.utils.scatter",
                lambda: pyg_scatter(src, index, 0, dim_size=N, reduce=reduce), scatter_bytes)
        if "torch_scatter" in backends:
            import torch_scatter

            measure(f"scatter {reduce}", "torch_scatter.scatter",
                    lambda: torch_scatter.scatter(src, index, 0, dim_size=N, reduce=reduce),
                    scatter_bytes)
    measure("scatter sum", "torch index_add_ (no dispatch)",
            lambda: torch.zeros(N, F).index_add_(0, index, src), scatter_bytes)

    # a graph of N nodes with E / N in-neighbours each
    edge_index = torch.stack([torch.randint(N, (E,), generator=gen), index])
    start = time.perf_counter()
    graph = CSRGraph.from_edge_index(edge_index, N)
    csr_seconds = time.perf_counter() - start
    rows.append({"primitive": "CSR construction", "implementation": "gkd (torch)",
                 "ms": csr_seconds * 1e3, "gb_per_s": None, "share_of_copy": None,
                 "note": f"{E:,} edges, one run"})
    x = torch.randn(N, F, generator=gen)
    weight = torch.rand(E, generator=gen)
    # gathered rows read + weights + col + rowptr + output
    propagate_bytes = E * F * 4 + E * 4 + E * 8 + (N + 1) * 8 + N * F * 4
    for backend in backends:
        with use_backend(backend):
            measure("propagate (weighted)", f"gkd ({backend})",
                    lambda: propagate(graph, x, weight), propagate_bytes)
    seeds = torch.randint(N, (10,), generator=gen)
    seconds = median_seconds(lambda: k_hop_subgraph(graph, seeds, 2))
    rows.append({"primitive": "2-hop gather, 10 seeds", "implementation": "gkd (torch)",
                 "ms": seconds * 1e3, "gb_per_s": None, "share_of_copy": None})
    starts = torch.arange(N)
    seconds = median_seconds(lambda: random_walk(graph, starts, 10, gen))
    rows.append({"primitive": "random walks, N x 10 steps", "implementation": "gkd (torch)",
                 "ms": seconds * 1e3, "gb_per_s": None, "share_of_copy": None,
                 "note": f"{N * 10 / seconds / 1e6:.1f} M steps/s"})

    env = environment()
    print(hardware_line(env))
    print(f"memory copy: {copy_gbs:.2f} GB/s (256 MiB buffer, read + write)")
    print(f"E={E:,} rows x F={F} into N={N:,} targets")
    for row in rows:
        rate = "" if row["gb_per_s"] is None else (
            f"{row['gb_per_s']:7.2f} GB/s  {100 * row['share_of_copy']:5.1f}% of copy")
        print(f"{row['primitive']:<28} {row['implementation']:<34} {row['ms']:9.2f} ms  {rate}"
              f"  {row.get('note', '')}".rstrip())
    write_json(args.output, {"env": env, "copy_gb_per_s": copy_gbs,
                             "sizes": {"rows": E, "width": F, "targets": N}, "rows": rows})
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
