"""The compiled 2D Pc (trapezoidal rule over the circle, issue #18) against the plain numpy
Gauss-Legendre version of the same integral (``pc_circle_reference``, an independent quadrature),
and the batch against one event at a time."""

from __future__ import annotations

import numpy as np
import pytest

from spacecommons.risk.foster import legendre_nodes, pc_circle, pc_circle_reference


def _workload(n: int, seed: int):
    """benchmarks/pc_vectorized.py's encounters: sigmas 10 m - 3 km, aspect up to ~30, random
    orientation, miss within ~2 sigma per axis, HBR 5-20 m; plus hard bodies large against a sigma
    (the graded-rule path)."""
    rng = np.random.default_rng(seed)
    sx = 10 ** rng.uniform(1, 3.5, n)
    sy = sx * 10 ** rng.uniform(0, 1.5, n)
    hbr = rng.uniform(5, 20, n)
    hbr[: n // 10] *= 200.0  # 10 % sharp: R up to 4 km against sigmas from 10 m
    miss = np.stack([rng.normal(0, 1, n) * sx * 2, rng.normal(0, 1, n) * sy * 2], axis=1)
    ang = rng.uniform(0, np.pi, n)
    c, s = np.cos(ang), np.sin(ang)
    rot = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)
    cov = rot @ (np.eye(2) * np.stack([sx * sx, sy * sy], -1)[:, None, :]) @ np.swapaxes(rot, -1, -2)
    return miss, cov, hbr


def test_legendre_nodes_match_numpy_and_integrate_polynomials_exactly():
    """Newton nodes and weights against numpy's eigenvalue-based leggauss, and the defining property:
    an n-node rule integrates x**(2k) over [-1, 1] to 2 / (2k + 1) exactly for 2k <= 2n - 1."""
    for n in (1, 2, 5, 8, 64, 201, 1000):
        x, w = legendre_nodes(n)
        ref_x, ref_w = np.polynomial.legendre.leggauss(n)
        assert np.allclose(x, ref_x, rtol=0, atol=1e-14)
        assert np.allclose(w, ref_w, rtol=1e-8, atol=0)  # numpy's own weights drift ~1e-8 at n = 1000
        for k in range(min(n, 6)):
            assert (w * x ** (2 * k)).sum() == pytest.approx(2.0 / (2 * k + 1), rel=1e-14, abs=0)


def test_compiled_pc_matches_the_numpy_gauss_legendre_reference():
    miss, cov, hbr = _workload(4000, seed=3)
    pc, err, npd = pc_circle(miss, cov, hbr)
    ref, ref_err, ref_npd = pc_circle_reference(miss, cov, hbr)
    assert (npd == ref_npd).all()
    big = ref > 1e-290  # below, the rtol test meets denormal numbers
    assert big.sum() > 2000
    assert np.allclose(pc[big], ref[big], rtol=1e-10, atol=0)
    assert np.allclose(pc[~big], ref[~big], rtol=0, atol=1e-290)
    converged = ref_err <= 1e-9 * ref
    assert (err[converged & big] <= 1e-9 * pc[converged & big]).mean() > 0.999


def test_one_event_equals_the_same_event_in_a_batch():
    miss, cov, hbr = _workload(300, seed=5)
    batch = pc_circle(miss, cov, hbr)[0]
    one = np.array([float(pc_circle(miss[i], cov[i], hbr[i])[0]) for i in range(300)])
    assert (one == batch).all()


@pytest.mark.parametrize("hbr", [0.0, -1.0, np.inf])
def test_degenerate_hard_bodies(hbr):
    pc, err, _ = pc_circle(np.array([1.0, 2.0]), np.eye(2), hbr)
    assert float(pc) == (1.0 if hbr == np.inf else 0.0)
    assert float(err) == 0.0


def test_non_positive_definite_is_flagged_like_the_reference():
    cov = np.array([[[4.0, 2.0], [2.0, 1.0]], [[1.0, 0.0], [0.0, -1e-3]], [[2.0, 0.5], [0.5, 1.0]]])
    miss = np.array([[0.5, 0.1], [0.2, 0.0], [1.0, 1.0]])
    assert (pc_circle(miss, cov, 0.3)[2] == pc_circle_reference(miss, cov, 0.3)[2]).all()
    assert list(pc_circle(miss, cov, 0.3)[2]) == [True, True, False]


def test_parallel_batch_equals_the_serial_kernel():
    """Batches from PARALLEL_FROM events run on numba threads; each event is computed alone, so the
    values are the serial kernel's bit for bit."""
    from spacecommons.risk import foster

    miss, cov, hbr = _workload(foster.PARALLEL_FROM + 500, seed=11)
    parallel = pc_circle(miss, cov, hbr)
    m, c = np.ascontiguousarray(miss), np.ascontiguousarray(cov)
    out = np.zeros((hbr.size, 8))
    foster._kernel_serial(m, c, hbr.copy(), *foster._trapezoid_tables(), 1e-9, 1e-300, out)
    smooth = out[:, 5] == 1.0
    assert smooth.sum() > 1000
    assert (parallel[0][smooth] == out[smooth, 6]).all() and (parallel[1][smooth] == out[smooth, 7]).all()
