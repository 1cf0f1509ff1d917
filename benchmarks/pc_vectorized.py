"""Benchmark: 2D Pc (Foster, circle) for one million conjunctions (issue #3: < 10 s; issue #18:
<= 2 s), against, in the same run, the per-event scalar loop and the plain numpy Gauss-Legendre
version (``pc_circle_reference``, what ``pc_circle`` was before issue #18) and its scalar loop.

Workload: random but realistic encounter planes (sigmas 10 m - 3 km, aspect ratios up to 30,
random orientation, miss within ~2 sigma, HBR 5-20 m), seed 0. The compiled kernel is called
on 5,000 events and on one before timing (numba compiles it, or loads it from its cache, on first use;
that time is printed separately). The baselines are timed on the first events and scaled to the
full count (a full scalar run takes minutes): numpy vectorised on --reference-sample, the scalar
loops on --scalar-sample events.

    python benchmarks/pc_vectorized.py [--events 1000000]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from spacecommons.risk.foster import pc_circle, pc_circle_reference


def workload(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    sx = 10 ** rng.uniform(1, 3.5, n)
    sy = sx * 10 ** rng.uniform(0, 1.5, n)
    hbr = rng.uniform(5, 20, n)
    miss = np.stack([rng.normal(0, 1, n) * sx * 2, rng.normal(0, 1, n) * sy * 2], axis=1)
    ang = rng.uniform(0, np.pi, n)
    c, s = np.cos(ang), np.sin(ang)
    rot = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)
    cov = rot @ (np.eye(2) * np.stack([sx * sx, sy * sy], -1)[:, None, :]) @ np.swapaxes(rot, -1, -2)
    return miss, cov, hbr


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--scalar-sample", type=int, default=5_000)
    ap.add_argument("--reference-sample", type=int, default=100_000)
    args = ap.parse_args()
    n = args.events
    miss, cov, hbr = workload(n)
    clock = time.perf_counter()
    pc_circle(miss[:5000], cov[:5000], hbr[:5000])  # both compilations: serial below 2,000 events, parallel
    pc_circle(miss[0], cov[0], hbr[0])
    warm_s = time.perf_counter() - clock
    clock = time.perf_counter()
    pc, err, _ = pc_circle(miss, cov, hbr)
    vector_s = time.perf_counter() - clock

    def scaled(fn, k):
        clock = time.perf_counter()
        out = fn(k)
        return out, (time.perf_counter() - clock) * n / k

    k, kr = min(args.scalar_sample, n), min(args.reference_sample, n)
    scalar, scalar_s = scaled(lambda k: np.array([float(pc_circle(miss[i], cov[i], hbr[i])[0]) for i in range(k)]), k)
    ref, ref_s = scaled(lambda k: pc_circle_reference(miss[:k], cov[:k], hbr[:k])[0], kr)
    ks = min(k, 1000)
    ref_scalar, ref_scalar_s = scaled(
        lambda k: np.array([float(pc_circle_reference(miss[i], cov[i], hbr[i])[0]) for i in range(k)]), ks
    )
    assert (scalar == pc[:k]).all(), "vectorised and scalar results differ"
    big = ref > 1e-290
    rel = np.abs(pc[:kr][big] - ref[big]) / ref[big]
    assert rel.max() <= 1e-10, f"compiled and numpy reference differ by {rel.max():.1e}"
    assert np.allclose(ref_scalar, ref[:ks], rtol=1e-9, atol=1e-300)
    print(
        f"load average (1 min) at the end: {os.getloadavg()[0]:.1f}; first call (compile or cache load): {warm_s:.1f} s"
    )
    print("| workload | compiled (s) | its scalar loop (s) | numpy vectorised (s) | numpy scalar loop (s) |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| {n:,} encounters, 2D Pc circle | {vector_s:.2f} | {scalar_s:.1f} (from {k:,}) | {ref_s:.1f} "
        f"(from {kr:,}) | {ref_scalar_s:.0f} (from {ks:,}) |"
    )
    print(
        f"compiled vs numpy vectorised: {ref_s / vector_s:.1f}x; largest relative difference {rel.max():.1e} "
        f"over {big.sum():,} events with Pc > 1e-290; compiled scalar loop == batch exactly"
    )
    print(
        f"events whose error estimate exceeds 1e-9 of their Pc: {(err > 1e-9 * pc).sum()}, of which with Pc > 1e-290: "
        f"{((err > 1e-9 * pc) & (pc > 1e-290)).sum()} (largest absolute error estimate {err.max():.1e})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
