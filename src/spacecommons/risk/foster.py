"""2D Pc (Foster 1992 equivalent): the bivariate normal integrated over the hard-body circle.

In the principal axes of the 2x2 covariance (sigma_x >= sigma_y) the y-integral is analytic,

    Pc = int_{-R}^{R} N(x; x_m, sigma_x) [Phi((y_m + s)/sigma_y) - Phi((y_m - s)/sigma_y)] dx,  s = sqrt(R^2 - x^2),

and x = R sin(theta) removes the square-root singularity. Gauss-Legendre rules of increasing
order (64, 128, ..., 4096 nodes) are applied until two successive results agree to ``rtol`` (an
a-posteriori bound); where a sigma is small against R, a composite rule graded around the
narrow features is used instead. The result carries its error estimate. Unlike Chan's series, this does
not degrade at high covariance aspect ratios. Vectorised over events.

Speed (issue #18): the smooth case, which is nearly every screening event, runs in one compiled
kernel (numba, parallel over events) that diagonalises the 2x2 covariance in closed form and
integrates with the trapezoidal rule over the whole circle instead: with x = -R cos(phi),
s = R sin(phi) the integrand is smooth and 2 pi-periodic, where the trapezoidal rule converges
geometrically (Trefethen & Weideman 2014, SIAM Review 56(3), "The exponentially convergent
trapezoidal rule") and each halving of the step reuses every earlier node. Nodes phi and pi - phi
share the y-band, so it is evaluated once per pair. On the benchmark workload this needs about 12
integrand evaluations per event where the doubling Gauss-Legendre rules needed about 49.
``pc_circle_reference`` is the plain numpy Gauss-Legendre version; the two agree to 1e-10 relative
for Pc above 1e-290 (tests/test_pc_fast.py).
"""

from __future__ import annotations

import math
import threading
from functools import cache

import numba as nb
import numpy as np
from scipy.special import erfc

ORDERS = (32, 64, 128, 256, 512, 1024, 2048, 4096)  # pc_circle_reference
BLOCK = 32_768  # events per vectorised block: bounds the (events x nodes) temporaries


def legendre_nodes(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [-1, 1], ascending: Newton's method on the three-term
    recurrence from Tricomi's initial guesses (O(n^2); numpy's ``leggauss`` solves an n x n
    eigenproblem, O(n^3): 4096 nodes took 47 s on the loaded development machine)."""
    m = (n + 1) // 2
    i = np.arange(1, m + 1)
    x = np.cos(np.pi * (i - 0.25) / (n + 0.5))  # descending, positive half
    for _ in range(10):
        p0, p1 = np.ones_like(x), x.copy()
        for k in range(2, n + 1):
            p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
        dp = n * (x * p1 - p0) / (x * x - 1.0)
        step = p1 / dp
        x = x - step
        if np.max(np.abs(step)) <= 1e-15:
            break
    p0, p1 = np.ones_like(x), x.copy()
    for k in range(2, n + 1):
        p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
    dp = n * (x * p1 - p0) / (x * x - 1.0)
    w = 2.0 / ((1.0 - x * x) * dp * dp)
    if n % 2:
        x[-1] = 0.0
        nodes = np.concatenate([-x, x[-2::-1]])
        weights = np.concatenate([w, w[-2::-1]])
    else:
        nodes = np.concatenate([-x, x[::-1]])
        weights = np.concatenate([w, w[::-1]])
    return nodes, weights


@cache
def _gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = legendre_nodes(n)
    return x * (np.pi / 2.0), w * (np.pi / 2.0)  # nodes on [-pi/2, pi/2]


def principal_axes(miss: np.ndarray, cov: np.ndarray):
    """Rotate to the covariance's principal axes: (x_m, y_m, sigma_x, sigma_y, npd), sigma_x >= sigma_y.

    ``npd`` flags covariances that were not positive definite; their negative or zero
    eigenvalues are clipped to a tiny positive value (reported by the callers)."""
    cov = np.asarray(cov, float)
    cov = 0.5 * (cov + np.swapaxes(cov, -1, -2))
    w, V = np.linalg.eigh(cov)  # ascending
    npd = w[..., 0] <= 0.0
    floor = np.maximum(np.abs(w[..., 1:2]), 1e-300) * 1e-12
    w = np.maximum(w, floor)
    m = np.einsum("...ji,...j->...i", V, np.asarray(miss, float))  # coordinates on the eigenvectors
    return m[..., 1], m[..., 0], np.sqrt(w[..., 1]), np.sqrt(w[..., 0]), npd


def _integrand(theta, xm, ym, sx, sy, R):
    """The Pc integrand in theta (x = R sin theta), Jacobian included; the parameters broadcast
    against ``theta``."""
    x = R * np.sin(theta)
    s = R * np.cos(theta)
    gx = np.exp(-0.5 * ((x - xm) / sx) ** 2) / (np.sqrt(2.0 * np.pi) * sx)
    k = 1.0 / (np.sqrt(2.0) * sy)
    a = np.abs(ym)  # erfc of the far tail keeps precision where erf(a) == erf(b) == 1
    band = 0.5 * (erfc((a - s) * k) - erfc((a + s) * k))
    return gx * band * s


def _circle(xm, ym, sx, sy, R, n):
    t, w = _gauss_legendre(n)
    args = (a[..., None] for a in (xm, ym, sx, sy, R))
    return np.sum(w * _integrand(t, *args), axis=-1)


def _circle_graded(xm, ym, sx, sy, R, nodes=16, levels=14):
    """Composite Gauss-Legendre on panels graded geometrically around the integrand's features:
    the edges of the y-band (R cos(theta) = |y_m|, width ~ sigma_y) and the x-Gaussian's centre
    (width ~ sigma_x). For hard bodies large against a sigma, where one global rule cannot see a
    feature narrower than its node spacing."""
    half = np.pi / 2.0
    a = np.abs(ym)
    edge = np.arccos(np.clip(a / R, 0.0, 1.0))
    w_edge = np.clip(sy / (R * np.maximum(np.sin(edge), 1e-3)), 1e-14, 1.0)
    centre = np.arcsin(np.clip(xm / R, -1.0, 1.0))
    w_centre = np.clip(sx / (R * np.maximum(np.cos(centre), 1e-3)), 1e-14, 1.0)
    grade = 2.0 ** np.arange(levels)
    points = [np.full_like(R, -half)[:, None], np.full_like(R, half)[:, None]]
    for c, w in ((edge, w_edge), (-edge, w_edge), (centre, w_centre)):
        offs = w[:, None] * grade[None, :]
        points += [c[:, None], c[:, None] - offs, c[:, None] + offs]
    bp = np.sort(np.clip(np.concatenate(points, axis=1), -half, half), axis=1)
    lo, hi = bp[:, :-1], bp[:, 1:]
    t, w = np.polynomial.legendre.leggauss(nodes)
    mid, rad = 0.5 * (lo + hi), 0.5 * (hi - lo)
    theta = mid[..., None] + rad[..., None] * t  # (n, panels, nodes)
    weights = rad[..., None] * w
    args = (v[:, None, None] for v in (xm, ym, sx, sy, R))
    return np.sum(weights * _integrand(theta, *args), axis=(-1, -2))


def pc_circle_reference(miss, cov, hbr, rtol: float = 1e-9, atol: float = 1e-300):
    """Pc of a circular hard body of radius ``hbr`` (same length unit as miss and cov).

    miss: (..., 2); cov: (..., 2, 2); hbr: scalar or (...). Returns (pc, error_estimate, npd).
    Where both sigmas exceed R/4 the integrand is smooth across the circle and Gauss-Legendre
    rules of doubling order run until two agree to ``rtol``; otherwise (a hard body large
    against a sigma) a composite rule graded around the narrow features is used, checked
    against the same rule with twice the nodes per panel.

    The plain numpy version of ``pc_circle`` (eigh for the axes, Gauss-Legendre from 32 nodes):
    the independent check of the compiled kernel."""
    xm, ym, sx, sy, npd = principal_axes(miss, cov)
    R = np.broadcast_to(np.asarray(hbr, float), xm.shape).astype(float)
    xm, ym, sx, sy = (np.broadcast_to(a, R.shape).astype(float) for a in (xm, ym, sx, sy))
    pc = np.zeros(R.shape)
    err = np.zeros(R.shape)
    inf = np.isinf(R)
    pc[inf] = 1.0
    finite = (R > 0) & ~inf
    is_smooth = finite & (np.minimum(sx, sy) >= 0.25 * R)
    smooth = np.flatnonzero(is_smooth)
    for start in range(0, smooth.size, BLOCK):
        todo = smooth[start : start + BLOCK]
        prev = None
        for n in ORDERS:
            if todo.size == 0:
                break
            cur = _circle(xm.flat[todo], ym.flat[todo], sx.flat[todo], sy.flat[todo], R.flat[todo], n)
            pc.flat[todo] = np.clip(cur, 0.0, 1.0)
            if prev is not None:
                diff = np.abs(cur - prev)
                err.flat[todo] = diff
                done = diff <= np.maximum(rtol * np.abs(cur), atol)
                prev = cur[~done]
                todo = todo[~done]
            else:
                prev = cur
    sharp = np.flatnonzero(finite & ~is_smooth)
    for start in range(0, sharp.size, 20_000):
        idx = sharp[start : start + 20_000]
        args = (xm.flat[idx], ym.flat[idx], sx.flat[idx], sy.flat[idx], R.flat[idx])
        fine = _circle_graded(*args, nodes=32)
        pc.flat[idx] = np.clip(fine, 0.0, 1.0)
        err.flat[idx] = np.abs(fine - _circle_graded(*args, nodes=16))
    return pc, err, npd


TRAPEZOID_LEVELS = 11  # 4, 8, ..., 4096 panels over the half circle


@cache
def _trapezoid_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The nodes each halving of the trapezoid step adds, as phi in (0, pi/2] (phi and pi - phi
    share sin phi, so one y-band serves both): cos phi, sin phi, a weight (1 for a pair, 1/2 for
    phi = pi/2, which has no partner), and the offsets of each level."""
    phis, weights, offsets = [], [], [0]
    m = 4
    first = np.array([np.pi / 4, np.pi / 2])  # level 0: phi = pi j / 4, j = 1, 2 (3 is 1's partner)
    phis.append(first)
    weights.append(np.array([1.0, 0.5]))
    offsets.append(2)
    for _ in range(1, TRAPEZOID_LEVELS):
        new = np.pi * (2 * np.arange(m // 2) + 1) / (2 * m)  # the new nodes below pi/2
        phis.append(new)
        weights.append(np.ones(new.size))
        offsets.append(offsets[-1] + new.size)
        m *= 2
    phi = np.concatenate(phis)
    return np.cos(phi), np.sin(phi), np.concatenate(weights), np.array(offsets, np.int64)


_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@nb.njit(cache=True)
def _one_event(i, m, c, R, cos_p, sin_p, w_p, offsets, rtol, atol, out):  # pragma: no cover - compiled
    """Event ``i``: principal axes of the 2x2 covariance (closed form), then, where both sigmas are
    at least R/4, the trapezoidal rule over the circle with the step halved until two successive
    sums agree to rtol (or atol).

    With x = -R cos(phi), s = R sin(phi), phi in [0, 2 pi) the integrand is smooth and periodic
    and its second half-period mirrors the first (s and the y-band both change sign), so the
    integral over the half circle is pi / M times the sum over phi = pi j / M, j = 1 .. M - 1.

    out columns: xm, ym, sx, sy, npd, smooth, pc, err."""
    n_levels = offsets.size - 1
    a = c[i, 0, 0]
    b = 0.5 * (c[i, 0, 1] + c[i, 1, 0])
    d = c[i, 1, 1]
    half_diff = 0.5 * (a - d)
    r = math.hypot(half_diff, b)
    lam1 = 0.5 * (a + d) + r
    lam2 = (a * d - b * b) / lam1 if lam1 > 0.0 else 0.5 * (a + d) - r
    npd = lam2 <= 0.0
    floor = max(abs(lam1), 1e-300) * 1e-12
    lam1 = max(lam1, floor)
    lam2 = max(lam2, floor)
    phi = 0.5 * math.atan2(b, half_diff)  # angle of the major axis
    cp, sp = math.cos(phi), math.sin(phi)
    xm = cp * m[i, 0] + sp * m[i, 1]
    ym = -sp * m[i, 0] + cp * m[i, 1]
    sx, sy = math.sqrt(lam1), math.sqrt(lam2)
    out[i, 0], out[i, 1], out[i, 2], out[i, 3] = xm, ym, sx, sy
    out[i, 4] = 1.0 if npd else 0.0
    Ri = R[i]
    smooth = Ri > 0.0 and not math.isinf(Ri) and min(sx, sy) >= 0.25 * Ri
    out[i, 5] = 1.0 if smooth else 0.0
    if not smooth:
        return
    k = 1.0 / (math.sqrt(2.0) * sy)
    ay = abs(ym)
    inv = 1.0 / sx
    scale = _INV_SQRT_2PI * inv
    panels = 4.0
    cur = 0.0
    diff = 0.0
    for lev in range(n_levels):
        acc = 0.0
        for j in range(offsets[lev], offsets[lev + 1]):
            x = Ri * cos_p[j]
            s = Ri * sin_p[j]
            band = 0.5 * (math.erfc((ay - s) * k) - math.erfc((ay + s) * k))
            up = (x - xm) * inv
            dn = (x + xm) * inv
            acc += w_p[j] * band * s * (math.exp(-0.5 * up * up) + math.exp(-0.5 * dn * dn))
        if lev == 0:
            cur = math.pi / panels * acc * scale
            continue
        panels *= 2.0
        nxt = 0.5 * cur + math.pi / panels * acc * scale
        diff = abs(nxt - cur)
        cur = nxt
        if diff <= max(rtol * abs(cur), atol):
            break
    out[i, 6] = min(max(cur, 0.0), 1.0)
    out[i, 7] = diff


# Two kernels over the events: threads pay off only on large batches; one event (the scalar
# calls of maxpc, cdm_pc, avoidance) would pay the thread pool's start-up every call. Two
# functions, not two compilations of one: numba's on-disk cache keys a function by its name and
# signature, not its flags, and handed the serial code to the parallel dispatcher.
@nb.njit(cache=True, parallel=True)
def _kernel_parallel(m, c, R, cos_p, sin_p, w_p, offsets, rtol, atol, out):  # pragma: no cover - compiled
    for i in nb.prange(R.size):
        _one_event(i, m, c, R, cos_p, sin_p, w_p, offsets, rtol, atol, out)


@nb.njit(cache=True)
def _kernel_serial(m, c, R, cos_p, sin_p, w_p, offsets, rtol, atol, out):  # pragma: no cover - compiled
    for i in range(R.size):
        _one_event(i, m, c, R, cos_p, sin_p, w_p, offsets, rtol, atol, out)


PARALLEL_FROM = 2_000  # events
# numba's default threading layer here (workqueue) must not be entered by two threads at once (the
# service's job workers): a batch that finds it busy runs serially instead.
_PARALLEL = threading.Lock()


def _graded(xm, ym, sx, sy, R, pc, err, sharp):
    for start in range(0, sharp.size, 20_000):
        idx = sharp[start : start + 20_000]
        args = (xm[idx], ym[idx], sx[idx], sy[idx], R[idx])
        fine = _circle_graded(*args, nodes=32)
        pc[idx] = np.clip(fine, 0.0, 1.0)
        err[idx] = np.abs(fine - _circle_graded(*args, nodes=16))


def pc_circle(miss, cov, hbr, rtol: float = 1e-9, atol: float = 1e-300):
    """Pc of a circular hard body of radius ``hbr`` (same length unit as miss and cov).

    miss: (..., 2); cov: (..., 2, 2); hbr: scalar or (...). Returns (pc, error_estimate, npd).
    Where both sigmas exceed R/4 the integrand is smooth across the circle and the trapezoidal
    rule over the circle halves its step (4 to 4096 panels) until two sums agree to ``rtol``
    (compiled, parallel over events); otherwise (a hard body large against a sigma) a composite rule graded
    around the narrow features is used, checked against the same rule with twice the nodes per
    panel. Agrees with ``pc_circle_reference`` to ``rtol``; a single event gives the same value
    as the same event inside a batch (the kernel works event by event)."""
    miss = np.asarray(miss, float)
    cov = np.asarray(cov, float)
    shape = np.broadcast_shapes(miss.shape[:-1], cov.shape[:-2])
    R = np.broadcast_to(np.asarray(hbr, float), shape).astype(float).ravel()
    # writeable and contiguous: numba's dispatcher resolves read-only arrays (broadcast views) through
    # a slow path, ~30 ms per call
    m = np.require(np.broadcast_to(miss, shape + (2,)).reshape(-1, 2), float, ["C", "W"])
    c = np.require(np.broadcast_to(cov, shape + (2, 2)).reshape(-1, 2, 2), float, ["C", "W"])
    out = np.zeros((R.size, 8))
    args = (m, c, R, *_trapezoid_tables(), float(rtol), float(atol), out)
    if R.size >= PARALLEL_FROM and _PARALLEL.acquire(blocking=False):
        try:
            _kernel_parallel(*args)
        finally:
            _PARALLEL.release()
    else:
        _kernel_serial(*args)
    pc, err = out[:, 6].copy(), out[:, 7].copy()
    pc[np.isinf(R)] = 1.0
    sharp = np.flatnonzero((R > 0) & ~np.isinf(R) & (out[:, 5] == 0.0))
    if sharp.size:
        _graded(out[:, 0], out[:, 1], out[:, 2], out[:, 3], R, pc, err, sharp)
    return pc.reshape(shape), err.reshape(shape), (out[:, 4] != 0.0).reshape(shape)


def pc_square(miss, cov, half_side):
    """Pc of a square of side 2 * ``half_side`` aligned with the covariance's principal axes
    (separable: exact in closed form). For a hard body small against the covariance it is 4/pi
    times the circle's Pc; CSpOC reports this convention."""
    xm, ym, sx, sy, npd = principal_axes(miss, cov)
    a = np.asarray(half_side, float)

    def band(m, sigma):
        m = np.abs(m)
        return 0.5 * (erfc((m - a) / (np.sqrt(2.0) * sigma)) - erfc((m + a) / (np.sqrt(2.0) * sigma)))

    return np.clip(band(xm, sx) * band(ym, sy), 0.0, 1.0), npd
