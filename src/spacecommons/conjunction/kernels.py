"""Compiled kernels: Bezier-box broad phase on a spatial hash, Bernstein minimum finding.

Each object's trajectory over a segment [t_k, t_k + h] is the cubic Hermite interpolant of
its SGP4 states at both ends, written in the segment's unit time s in [0, 1]:
``x(s) = a0 + a1 s + a2 s**2 + a3 s**3``. A cubic lies inside the convex hull of its four
Bezier control points, so the axis-aligned box of those points, grown by the object's pad,
contains the padded trajectory: two objects can only come within the threshold where their
boxes overlap. That is the conservative broad phase; the narrow phase then finds every local
minimum of the squared distance, a degree-6 polynomial, by Bernstein subdivision (Descartes'
rule of signs on the Bernstein coefficients of its derivative isolates each root).
"""

from __future__ import annotations

import numba as nb
import numpy as np
from llvmlite import ir
from llvmlite.binding import llvm_version_info
from numba.core import cgutils, types
from numba.cpython.unsafe.numbers import trailing_zeros
from numba.extending import intrinsic

_H1, _H2, _H3 = 73856093, 19349663, 83492791  # spatial-hash primes (Teschner et al. 2003)
_OFF = 1 << 20
_MAX_DEPTH = 60


@nb.njit(cache=True, inline="always")
def _axis_coeffs(p0, v0, p1, v1, h):
    """One axis of a segment's cubic (Hermite in power form, s in [0, 1]): a0, a1, a2, a3 from the node
    positions ``p0``, ``p1`` and velocities ``v0``, ``v1`` over a step ``h``, on scalars."""
    hv0 = h * v0
    hv1 = h * v1
    return p0, hv0, 3.0 * (p1 - p0) - 2.0 * hv0 - hv1, 2.0 * (p0 - p1) + hv0 + hv1


@nb.njit(cache=True, inline="always")
def _axis_at(a0, a1, a2, a3, s):
    """One axis of the cubic ``a0 + a1 s + a2 s**2 + a3 s**3`` (:func:`_axis_coeffs`) at ``s``: its value
    and its derivative per unit s (Horner), on scalars."""
    return a0 + s * (a1 + s * (a2 + s * a3)), a1 + s * (2.0 * a2 + 3.0 * s * a3)


@nb.njit(cache=True, inline="always")
def _coeffs(p0, v0, p1, v1, h, a):
    """The cubic's coefficients of every axis into ``a`` ((4, 3)): :func:`_axis_coeffs` per axis."""
    for c in range(3):
        a[0, c], a[1, c], a[2, c], a[3, c] = _axis_coeffs(p0[c], v0[c], p1[c], v1[c], h)


@nb.njit(cache=True)
def _grow(arr, need):
    if need <= arr.shape[0]:
        return arr
    out = np.empty(max(need, 2 * arr.shape[0]), dtype=arr.dtype)
    out[: arr.shape[0]] = arr
    return out


@nb.njit(cache=True, inline="always")
def _cell_key(ix, iy, iz):
    return ((ix + _OFF) << 42) | ((iy + _OFF) << 21) | (iz + _OFF)


@nb.njit(cache=True, inline="always")
def _hull_difference(X, D, q, ds3, oi, oj, c):
    """Coordinate ``c`` of the four Bezier control points of ``oj``'s sub-segment ``q`` minus ``oi``'s."""
    a0 = X[oi, q, c]
    a3 = X[oi, q + 1, c]
    b0 = X[oj, q, c]
    b3 = X[oj, q + 1, c]
    return (
        b0 - a0,
        (b0 + ds3 * D[oj, q, c]) - (a0 + ds3 * D[oi, q, c]),
        (b3 - ds3 * D[oj, q + 1, c]) - (a3 - ds3 * D[oi, q + 1, c]),
        b3 - a3,
    )


@nb.njit(cache=True, inline="always")
def _separated(X, D, q, ds3, oi, oj, reach):
    """True when the Bezier hull of the pair's relative motion stays beyond ``reach`` of zero.

    The difference of two cubic Beziers is the cubic Bezier of the differences of their
    control points; project those onto the direction of their mean (a separating axis).
    The control points live in registers: this runs for every overlapping pair of boxes, and a
    heap array per call cost more than the test itself.
    """
    x0, x1, x2, x3 = _hull_difference(X, D, q, ds3, oi, oj, 0)
    y0, y1, y2, y3 = _hull_difference(X, D, q, ds3, oi, oj, 1)
    z0, z1, z2, z3 = _hull_difference(X, D, q, ds3, oi, oj, 2)
    return _beyond_on_mean(x0, x1, x2, x3, y0, y1, y2, y3, z0, z1, z2, z3, reach)


@nb.njit(cache=True, inline="always")
def _beyond_on_mean(x0, x1, x2, x3, y0, y1, y2, y3, z0, z1, z2, z3, reach):
    """True when the four control points (x, y, z) of a relative-motion hull all project beyond
    ``reach`` on the unit direction of their mean (a separating axis; False when the mean is zero)."""
    ux = x0 + x1 + x2 + x3
    uy = y0 + y1 + y2 + y3
    uz = z0 + z1 + z2 + z3
    norm = np.sqrt(ux * ux + uy * uy + uz * uz)
    if norm == 0.0:
        return False
    ux /= norm
    uy /= norm
    uz /= norm
    if x0 * ux + y0 * uy + z0 * uz <= reach:
        return False
    if x1 * ux + y1 * uy + z1 * uz <= reach:
        return False
    if x2 * ux + y2 * uy + z2 * uz <= reach:
        return False
    return x3 * ux + y3 * uy + z3 * uz > reach


@nb.njit(cache=True, inline="always")
def _boxes_meet_in_cell(lo, hi, shell_lo, shell_hi, oi, oj, key, inv):
    """The pair test of both broad-phase kernels (so the k x n kernel finds exactly the all-vs-all
    candidates of its pairs; the all-vs-all kernel makes it on copies, :func:`_bucket_pairs`):
    the radial shells of ``oi`` and ``oj`` overlap, their
    boxes overlap, and the overlap's low corner lies in cell ``key`` (each pair reported once)."""
    if shell_lo[oi] > shell_hi[oj] or shell_lo[oj] > shell_hi[oi]:
        return False
    for c in range(3):
        lo_c = max(lo[oi, c], lo[oj, c])
        if lo_c > min(hi[oi, c], hi[oj, c]):
            return False
        if int(np.floor(lo_c * inv)) + _OFF != (key >> (42 - 21 * c)) & 0x1FFFFF:
            return False
    return True


@nb.njit(cache=True)
def broad_phase(P, V, ok, h, m, pad, cell, primary, use_primary):
    """:func:`broad_phase_shells` without the radial-shell filter."""
    n = P.shape[0]
    return broad_phase_shells(P, V, ok, h, m, pad, cell, primary, use_primary, np.full(n, -np.inf), np.full(n, np.inf))


@nb.njit(cache=True)
def broad_phase_shells(P, V, ok, h, m, pad, cell, primary, use_primary, shell_lo, shell_hi):
    """Candidate (i, j, segment) triples, i < j, whose padded sub-segment hulls may meet.

    P, V: (n, K+1, 3) SGP4 states at the nodes; ok: (n, K+1) state valid; h: node step (s);
    m: sub-segments per segment; pad: (n,) km; cell: hash cell size (km). Boxes go into a
    spatial hash (counting sort on a Fibonacci hash of the packed cell key); a pair whose
    boxes overlap is kept unless its radial shells (:func:`radial_shells`) do not overlap or a
    separating axis of its relative-motion hull rules it out.
    """
    return _broad_phase_segments(P, V, ok, h, m, pad, cell, primary, use_primary, shell_lo, shell_hi, 0, P.shape[1] - 1)


@nb.njit(cache=True, inline="always")
def _sub_controls(a0, a1, a2, a3, s0, s1, ds3):
    """One coordinate of the four Bezier control points of the cubic ``a0 + a1 s + a2 s**2 + a3 s**3``
    (:func:`_coeffs`) over the sub-segment [s0, s1] (ds3: (s1 - s0) / 3), from its values and
    derivatives at both ends: the arithmetic of :func:`_sub_nodes` and of the all-vs-all kernel's
    boxes and hull test, on scalars."""
    c0, d0 = _axis_at(a0, a1, a2, a3, s0)
    c3, d3 = _axis_at(a0, a1, a2, a3, s1)
    return c0, c0 + ds3 * d0, c3 - ds3 * d3, c3


@nb.njit(cache=True)
def _broad_phase_segments(P, V, ok, h, m, pad, cell, primary, use_primary, shell_lo, shell_hi, k_first, k_end):
    """:func:`broad_phase_shells` on the segments ``k_first <= k < k_end`` only (segments are
    independent: each is hashed on its own, so splitting the range splits the triples).

    The objects are taken in the order of their shells' lower radius (``rank``: position -> object;
    every scratch array is indexed by position). Entries go into the hash in that order and the
    counting sort is stable, so each bucket lists its entries by increasing shell floor: once an
    entry's shell floor is above entry ``u``'s shell ceiling, so is every later one's, and the scan of
    ``u``'s partners stops there (those pairs fail the shell test anyway; about half of all pair
    tests on the 2022 catalog). Per segment each object's cubic coefficients are computed once
    (``coef``, by position, 96 bytes each); per sub-step its control points and box are computed from
    them into buffers of that sub-step only (``ctrl``, ``box``: they stay in cache while the hash is
    filled and scanned), not kept for every sub-step of the segment.

    The work runs in the helpers below, which take every array as an argument and bind none to a new
    name in their loops: in compiled code each such binding (a view, an inlined helper's array
    argument, a buffer that may be reassigned) costs a pair of atomic reference-count updates. Buffers
    grow here, between their calls. The pair tests are the same comparisons on the same numbers, so
    the triples are the same set (their order differs)."""
    n = P.shape[0]
    # a NaN shell bound never fails the shell test, nor does -inf / +inf in its place (which sorts)
    floor = np.where(np.isnan(shell_lo), -np.inf, shell_lo)
    ceiling = np.where(np.isnan(shell_hi), np.inf, shell_hi)
    rank = np.argsort(floor, kind="mergesort")
    pos = np.empty(n, dtype=np.int64)  # object -> position
    pos[rank] = np.arange(n)
    s_lo = floor[rank]
    s_hi = ceiling[rank]
    pad_p = pad[rank]
    prim_p = primary[rank]
    coef = np.empty((n, 12))  # per position: a0, a1, a2, a3 of x, then of y, then of z
    ctrl = np.empty((n, 12))  # per position, in the current sub-step: its 4 control points' x, then y, z
    valid = np.empty(n, dtype=np.bool_)
    box = np.empty((n, 6))  # per position, in the current sub-step: lo x, y, z, hi x, y, z
    cells = np.empty((n, 6), dtype=np.int64)  # per box: first and last cell index on x, y, z
    cap = 1 << 16
    srt_obj = np.empty(cap, dtype=np.int32)
    srt_key = np.empty(cap, dtype=np.int64)
    srt_box = np.empty((cap, 8))  # per sorted entry: its box (lo, hi) and radial shell, one cache line
    counts = np.zeros(2, dtype=np.int32)
    out = np.empty((1 << 16, 3), dtype=np.int64)
    n_out = 0
    inv = 1.0 / cell
    for k in range(k_first, k_end):
        _segment_coeffs(P, V, ok, h, k, pos, coef, valid)
        for q in range(m):
            n_ent = _sub_boxes(coef, valid, q, m, pad_p, inv, ctrl, box, cells)
            if n_ent > srt_obj.shape[0]:
                size = max(n_ent, 2 * srt_obj.shape[0])
                srt_obj = np.empty(size, dtype=np.int32)
                srt_key = np.empty(size, dtype=np.int64)
                srt_box = np.empty((size, 8))
            bits = 1
            # load <= 1: a shared bucket costs a key comparison, a bigger table a longer prefix sum
            while (1 << bits) < n_ent:
                bits += 1
            if counts.shape[0] < (1 << bits) + 1:
                counts = np.zeros((1 << bits) + 1, dtype=np.int32)
            _hash_entries(box, valid, cells, s_lo, s_hi, bits, counts, srt_obj, srt_key, srt_box)
            args = (srt_obj, srt_key, srt_box, bits, counts, ctrl, pad_p, prim_p, use_primary, rank, inv, k)
            got = _bucket_pairs(*args, out, n_out)
            if got > out.shape[0]:  # the buffer was too small: grow it and scan again
                out2 = np.empty((2 * got, 3), dtype=np.int64)
                out2[:n_out] = out[:n_out]
                out = out2
                got = _bucket_pairs(*args, out, n_out)
            n_out = got
    return out[:n_out, 0].copy(), out[:n_out, 1].copy(), out[:n_out, 2].copy()


@nb.njit(cache=True)
def _segment_coeffs(P, V, ok, h, k, pos, coef, valid):
    """For each object ``i`` (at position ``pos[i]``): whether its states at both ends of segment ``k``
    are valid (``valid``) and, if so, its cubic's coefficients (``coef[pos[i]]``: the arithmetic of
    :func:`_axis_coeffs`). Taken in object order, so the node states are read in memory order
    (in position order each object's read touched a new page) and only the small ``coef`` is written
    out of order."""
    k1 = k + 1
    for i in range(pos.shape[0]):
        p = pos[i]
        if not (ok[i, k] and ok[i, k1]):
            valid[p] = False
            continue
        valid[p] = True
        for c in range(3):
            coef[p, 4 * c], coef[p, 4 * c + 1], coef[p, 4 * c + 2], coef[p, 4 * c + 3] = _axis_coeffs(
                P[i, k, c], V[i, k, c], P[i, k1, c], V[i, k1, c], h
            )


@nb.njit(cache=True)
def _sub_boxes(coef, valid, q, m, pad_p, inv, ctrl, box, cells):
    """Every valid position's control points in sub-step ``q`` (:func:`_sub_controls`, into
    ``ctrl[p]``: x0..x3, y0..y3, z0..z3), their box grown by ``pad_p[p]`` (into ``box[p]``) and the
    first and last cell index of that box on each axis (``cells[p]``); returns the number of
    (position, cell) entries they make."""
    s0 = q / m
    s1 = (q + 1) / m
    ds3 = 1.0 / (3.0 * m)
    n_ent = 0
    for p in range(valid.shape[0]):
        if not valid[p]:
            continue
        pp = pad_p[p]
        n_cells = 1
        for c in range(3):
            c0, c1, c2, c3 = _sub_controls(
                coef[p, 4 * c], coef[p, 4 * c + 1], coef[p, 4 * c + 2], coef[p, 4 * c + 3], s0, s1, ds3
            )
            ctrl[p, 4 * c] = c0
            ctrl[p, 4 * c + 1] = c1
            ctrl[p, 4 * c + 2] = c2
            ctrl[p, 4 * c + 3] = c3
            lo = min(min(c0, c1), min(c2, c3)) - pp
            hi = max(max(c0, c1), max(c2, c3)) + pp
            box[p, c] = lo
            box[p, 3 + c] = hi
            first = int(np.floor(lo * inv))
            last = int(np.floor(hi * inv))
            cells[p, c] = first
            cells[p, 3 + c] = last
            n_cells *= last - first + 1
        n_ent += n_cells
    return n_ent


@nb.njit(cache=True)
def _hash_entries(box, valid, cells, s_lo, s_hi, bits, counts, srt_obj, srt_key, srt_box):
    """The (position, cell) entries of the boxes ``box`` (cell ranges ``cells``) counting-sorted into
    ``2**bits`` buckets (a Fibonacci hash of the packed cell key), into ``srt_obj``, ``srt_key`` and
    ``srt_box`` (the position's box and radial shell, one cache line per entry); on return bucket
    ``b`` holds the entries ``counts[b - 1]`` (0 for b = 0) to ``counts[b]``. Two passes over the boxes
    (count, then place), the keys computed in each, so no entry is stored twice. The sort is stable
    and positions are entered in shell-floor order, so a bucket keeps that order."""
    T = 1 << bits
    for b in range(T + 1):
        counts[b] = 0
    fib = np.uint64(11400714819323198485)
    shift = np.uint64(64 - bits)
    for p in range(valid.shape[0]):
        if not valid[p]:
            continue
        for ix in range(cells[p, 0], cells[p, 3] + 1):
            for iy in range(cells[p, 1], cells[p, 4] + 1):
                for iz in range(cells[p, 2], cells[p, 5] + 1):
                    counts[np.int64((np.uint64(_cell_key(ix, iy, iz)) * fib) >> shift) + 1] += 1
    for b in range(T):
        counts[b + 1] += counts[b]
    for p in range(valid.shape[0]):  # in shell-floor order
        if not valid[p]:
            continue
        for ix in range(cells[p, 0], cells[p, 3] + 1):
            for iy in range(cells[p, 1], cells[p, 4] + 1):
                for iz in range(cells[p, 2], cells[p, 5] + 1):
                    key = _cell_key(ix, iy, iz)
                    b = np.int64((np.uint64(key) * fib) >> shift)
                    dst = counts[b]
                    srt_obj[dst] = p
                    srt_key[dst] = key
                    for c in range(6):
                        srt_box[dst, c] = box[p, c]
                    srt_box[dst, 6] = s_lo[p]
                    srt_box[dst, 7] = s_hi[p]
                    counts[b] = dst + 1


@nb.njit(cache=True)
def _bucket_pairs(srt_obj, srt_key, srt_box, bits, counts, ctrl, pad_p, prim_p, use_primary, rank, inv, k, out, n_out):
    """The candidate triples of one sub-step of segment ``k`` from its sorted hash entries, written
    into ``out`` ((capacity, 3): i, j, k) from row ``n_out``; returns the new count, which exceeds the
    capacity when ``out`` was too small (the caller grows it and scans again).

    Two entries of a bucket make a candidate when they are of different objects, in the same cell,
    (with ``use_primary``) one of them a primary, their radial shells overlap, their boxes overlap with
    the overlap's low corner in that cell (each pair reported once), and the separating axis of
    :func:`_separated` does not rule them out. These are the comparisons of :func:`_boxes_meet_in_cell`
    and the arithmetic of :func:`_separated`, written out on scalars: the boxes read from the entries'
    copies (one cache line per entry instead of four arrays indexed by object), the control points
    from the sub-step's ``ctrl``. Bucket ``b`` holds the entries ``counts[b - 1]`` (0 for b = 0) to
    ``counts[b]`` (:func:`_hash_entries`)."""
    cap = out.shape[0]
    g1 = 0
    for b in range(1 << bits):
        g0 = g1
        g1 = counts[b]
        for u in range(g0, g1 - 1):
            pu = srt_obj[u]
            key = srt_key[u]
            ulx = srt_box[u, 0]
            uly = srt_box[u, 1]
            ulz = srt_box[u, 2]
            uhx = srt_box[u, 3]
            uhy = srt_box[u, 4]
            uhz = srt_box[u, 5]
            floor_u = srt_box[u, 6]
            ceiling_u = srt_box[u, 7]
            for w in range(u + 1, g1):
                # and so are the rest of the bucket's floors (the shell test's other half)
                if srt_box[w, 6] > ceiling_u:
                    break
                pw = srt_obj[w]
                if pu == pw or srt_key[w] != key:
                    continue
                if use_primary and not (prim_p[pu] or prim_p[pw]):
                    continue
                if floor_u > srt_box[w, 7]:
                    continue
                # the three overlaps without short-circuit branches (their outcome is unpredictable)
                lo_x = max(ulx, srt_box[w, 0])
                lo_y = max(uly, srt_box[w, 1])
                lo_z = max(ulz, srt_box[w, 2])
                if (
                    (lo_x > min(uhx, srt_box[w, 3]))
                    | (lo_y > min(uhy, srt_box[w, 4]))
                    | (lo_z > min(uhz, srt_box[w, 5]))
                ):
                    continue
                if (
                    (int(np.floor(lo_x * inv)) + _OFF != (key >> 42) & 0x1FFFFF)
                    | (int(np.floor(lo_y * inv)) + _OFF != (key >> 21) & 0x1FFFFF)
                    | (int(np.floor(lo_z * inv)) + _OFF != key & 0x1FFFFF)
                ):
                    continue
                # the control points of the pair's relative motion: pw's minus pu's (as _hull_difference)
                x0 = ctrl[pw, 0] - ctrl[pu, 0]
                x1 = ctrl[pw, 1] - ctrl[pu, 1]
                x2 = ctrl[pw, 2] - ctrl[pu, 2]
                x3 = ctrl[pw, 3] - ctrl[pu, 3]
                y0 = ctrl[pw, 4] - ctrl[pu, 4]
                y1 = ctrl[pw, 5] - ctrl[pu, 5]
                y2 = ctrl[pw, 6] - ctrl[pu, 6]
                y3 = ctrl[pw, 7] - ctrl[pu, 7]
                z0 = ctrl[pw, 8] - ctrl[pu, 8]
                z1 = ctrl[pw, 9] - ctrl[pu, 9]
                z2 = ctrl[pw, 10] - ctrl[pu, 10]
                z3 = ctrl[pw, 11] - ctrl[pu, 11]
                if _beyond_on_mean(x0, x1, x2, x3, y0, y1, y2, y3, z0, z1, z2, z3, pad_p[pu] + pad_p[pw]):
                    continue
                if n_out < cap:
                    oi = rank[pu]
                    oj = rank[pw]
                    out[n_out, 0] = min(oi, oj)
                    out[n_out, 1] = max(oi, oj)
                    out[n_out, 2] = k
                n_out += 1
    return n_out


@nb.njit(cache=True)
def radial_shells(P, V, ok, h, m, margin):
    """Per object, the radial shell [lo, hi] (km) holding its interpolated trajectory over the
    chunk, widened by ``margin`` (the object's interpolation-error bound + threshold/2).

    The radius f = |x| of each cubic segment is sampled at its m + 1 sub-nodes; between two
    sub-nodes Delta s = 1/m apart it cannot dip more than U Delta s**2 / 8 below the lower sample
    (f'' <= U) nor rise more than D Delta s**2 / 8 above the higher one (f'' >= -D), with
    f'' = (|x'|**2 + x.x'')/|x| - (x.x')**2/|x|**3, so U = |x'|**2/|x| + |x''| and D = |x''|,
    bounded on the segment from its coefficients: |x'| <= |a1| + 2|a2| + 3|a3|,
    |x''| <= 2|a2| + 6|a3|, |x| >= |a0| - max|x'|. Two objects whose shells do not overlap stay
    farther apart than threshold + both bounds on the interpolant, so the narrow phase could not
    find a minimum for them: skipping the pair loses nothing (Hoots et al. 1984, apogee/perigee
    filter, here on the sampled trajectory instead of the mean elements).

    The loop reads the node states as scalars and keeps the coefficients and the running bounds in
    locals (:func:`_axis_coeffs`; no array view per (object, segment)), and the sub-nodes' unit times
    q / m are divided once, not per segment (those divisions were a quarter of its time), and the
    samples' radii are compared squared (one square root each way per segment, not one per sample).
    The coefficients are :func:`_coeffs`'s, operation for operation, so the shells are the same bits
    as from per-sample radii.
    """
    n = P.shape[0]
    K = P.shape[1] - 1
    lo = np.empty(n)
    hi = np.empty(n)
    inv8m2 = 1.0 / (8.0 * m * m)
    sub = np.empty(m + 1)  # the sub-nodes' unit times q / m, divided once
    for q in range(m + 1):
        sub[q] = q / m
    for i in range(n):
        lo_i = np.inf
        hi_i = -np.inf
        for k in range(K):
            k1 = k + 1
            if not (ok[i, k] and ok[i, k1]):
                continue
            x0, x1, x2, x3 = _axis_coeffs(P[i, k, 0], V[i, k, 0], P[i, k1, 0], V[i, k1, 0], h)
            y0, y1, y2, y3 = _axis_coeffs(P[i, k, 1], V[i, k, 1], P[i, k1, 1], V[i, k1, 1], h)
            z0, z1, z2, z3 = _axis_coeffs(P[i, k, 2], V[i, k, 2], P[i, k1, 2], V[i, k1, 2], h)
            n0 = np.sqrt(x0**2 + y0**2 + z0**2)
            n1 = np.sqrt(x1**2 + y1**2 + z1**2)
            n2 = np.sqrt(x2**2 + y2**2 + z2**2)
            n3 = np.sqrt(x3**2 + y3**2 + z3**2)
            speed = n1 + 2.0 * n2 + 3.0 * n3
            acc = 2.0 * n2 + 6.0 * n3
            floor = n0 - speed
            if floor <= 1.0:  # a segment reaching near the centre: no radial information
                lo_i = -np.inf
                hi_i = np.inf
                continue
            dip = (speed * speed / floor + acc) * inv8m2
            rise = acc * inv8m2
            # the extreme squared radius of the m + 1 samples, then one square root each way: rounded
            # sqrt and +- a constant are monotone, so these are the bits of the extreme of the
            # per-sample radii minus dip (plus rise), with m - 2 fewer square roots per segment
            sq_lo = x0**2 + y0**2 + z0**2
            sq_hi = sq_lo
            for q in range(1, m + 1):
                s = sub[q]
                x = x0 + s * (x1 + s * (x2 + s * x3))
                y = y0 + s * (y1 + s * (y2 + s * y3))
                z = z0 + s * (z1 + s * (z2 + s * z3))
                sq = x * x + y * y + z * z
                sq_lo = min(sq_lo, sq)
                sq_hi = max(sq_hi, sq)
            lo_i = min(lo_i, np.sqrt(sq_lo) - dip)
            hi_i = max(hi_i, np.sqrt(sq_hi) + rise)
        lo[i] = lo_i - margin[i]
        hi[i] = hi_i + margin[i]
    return lo, hi


@nb.njit(cache=True)
def _hash_boxes(members, cells):
    """Spatial hash of the boxes of ``members`` (their cell ranges in ``cells``): entries sorted by
    bucket (counting sort on a Fibonacci hash of the packed cell key, load <= 1/2). Bucket b holds
    entries ends[b] .. ends[b + 1]; returns (objects, keys, ends, shift)."""
    n_ent = 0
    for u in range(members.shape[0]):
        i = members[u]
        n_ent += (cells[i, 3] - cells[i, 0] + 1) * (cells[i, 4] - cells[i, 1] + 1) * (cells[i, 5] - cells[i, 2] + 1)
    bits = 1
    while (1 << bits) < 2 * n_ent:
        bits += 1
    T = 1 << bits
    shift = np.uint64(64 - bits)
    fib = np.uint64(11400714819323198485)
    ends = np.zeros(T + 1, dtype=np.int64)
    ent_obj = np.empty(n_ent, dtype=np.int64)
    ent_key = np.empty(n_ent, dtype=np.int64)
    ent_b = np.empty(n_ent, dtype=np.int64)
    e = 0
    for u in range(members.shape[0]):
        i = members[u]
        for ix in range(cells[i, 0], cells[i, 3] + 1):
            for iy in range(cells[i, 1], cells[i, 4] + 1):
                for iz in range(cells[i, 2], cells[i, 5] + 1):
                    key = _cell_key(ix, iy, iz)
                    b = np.int64((np.uint64(key) * fib) >> shift)
                    ent_obj[e] = i
                    ent_key[e] = key
                    ent_b[e] = b
                    ends[b + 1] += 1
                    e += 1
    for b in range(T):
        ends[b + 1] += ends[b]
    fill = ends[:T].copy()
    srt_obj = np.empty(n_ent, dtype=np.int64)
    srt_key = np.empty(n_ent, dtype=np.int64)
    for e2 in range(n_ent):
        b = ent_b[e2]
        srt_obj[fill[b]] = ent_obj[e2]
        srt_key[fill[b]] = ent_key[e2]
        fill[b] += 1
    return srt_obj, srt_key, ends, shift


@nb.njit(cache=True, inline="always")
def _bucket(key, shift):
    return np.int64((np.uint64(key) * np.uint64(11400714819323198485)) >> shift)


@nb.njit(cache=True)
def broad_phase_primaries(P, V, ok, h, m, pad, cell, prim, shell_lo, shell_hi):
    """The triples of :func:`broad_phase_shells` that involve a primary (indices ``prim``), in
    k x n work instead of n x n (incremental re-screening, issue #18).

    Per segment, each object's whole-segment box (its Bezier control points, which hold every
    sub-segment's box: de Casteljau subdivision takes convex combinations) is looked up in a
    coarse hash of the primaries' segment boxes; only objects that meet one go on. Per
    sub-segment only the primaries' boxes go into the spatial hash and those objects look up the
    cells their box covers. The tests on a pair (shells, box overlap reported in the cell of the
    overlap's low corner, separating axis) are those of the all-vs-all kernel, so the triples are
    exactly its triples for pairs with a primary.
    """
    n = P.shape[0]
    K = P.shape[1] - 1
    a = np.empty((4, 3))
    X = np.empty((n, m + 1, 3))
    D = np.empty((n, m + 1, 3))
    valid = np.empty(n, dtype=np.bool_)
    lo = np.empty((n, 3))
    hi = np.empty((n, 3))
    cells = np.empty((n, 6), dtype=np.int64)
    is_prim = np.zeros(n, dtype=np.bool_)
    for u in range(prim.shape[0]):
        is_prim[prim[u]] = True
    near = np.empty(n, dtype=np.int64)
    out_i = np.empty(1 << 12, dtype=np.int64)
    out_j = np.empty(1 << 12, dtype=np.int64)
    out_k = np.empty(1 << 12, dtype=np.int64)
    n_out = 0
    inv = 1.0 / cell
    inv_seg = 3.0 / (cell * m)  # a segment box spans about m/3 sub-segment cells
    h3 = h / 3.0
    slack = 1e-3  # km: rounding of the sub-segment control points, far below any pad
    for k in range(K):
        n_vp = 0
        for i in range(n):
            valid[i] = ok[i, k] and ok[i, k + 1]
            if not valid[i]:
                continue
            for c in range(3):
                c0 = P[i, k, c]
                c1 = c0 + h3 * V[i, k, c]
                c3 = P[i, k + 1, c]
                c2 = c3 - h3 * V[i, k + 1, c]
                lo[i, c] = min(min(c0, c1), min(c2, c3)) - pad[i] - slack
                hi[i, c] = max(max(c0, c1), max(c2, c3)) + pad[i] + slack
                cells[i, c] = int(np.floor(lo[i, c] * inv_seg))
                cells[i, 3 + c] = int(np.floor(hi[i, c] * inv_seg))
            if is_prim[i]:
                n_vp += 1
        if n_vp == 0:
            continue
        vp = np.empty(n_vp, dtype=np.int64)
        u = 0
        for i in range(n):
            if valid[i] and is_prim[i]:
                vp[u] = i
                u += 1
        s_obj, s_key, ends, shift = _hash_boxes(vp, cells)
        n_near = 0
        for oj in range(n):
            if not valid[oj]:
                continue
            hit = False
            for ix in range(cells[oj, 0], cells[oj, 3] + 1):
                for iy in range(cells[oj, 1], cells[oj, 4] + 1):
                    for iz in range(cells[oj, 2], cells[oj, 5] + 1):
                        key = _cell_key(ix, iy, iz)
                        b = _bucket(key, shift)
                        for w in range(ends[b], ends[b + 1]):
                            oi = s_obj[w]
                            if oi == oj or s_key[w] != key or hit:
                                continue
                            if shell_lo[oi] > shell_hi[oj] or shell_lo[oj] > shell_hi[oi]:
                                continue
                            inside = True
                            for c in range(3):
                                if max(lo[oi, c], lo[oj, c]) > min(hi[oi, c], hi[oj, c]):
                                    inside = False
                                    break
                            hit = inside
            if hit:
                near[n_near] = oj
                n_near += 1
        if n_near == 0:
            continue
        # sub-segment points of the near objects and the primaries
        for u in range(n_near + n_vp):
            i = near[u] if u < n_near else vp[u - n_near]
            _coeffs(P[i, k], V[i, k], P[i, k + 1], V[i, k + 1], h, a)
            for q in range(m + 1):
                s = q / m
                for c in range(3):
                    X[i, q, c], D[i, q, c] = _axis_at(a[0, c], a[1, c], a[2, c], a[3, c], s)
        ds3 = 1.0 / (3.0 * m)
        for q in range(m):
            for u in range(n_near + n_vp):
                i = near[u] if u < n_near else vp[u - n_near]
                for c in range(3):
                    c0 = X[i, q, c]
                    c1 = c0 + ds3 * D[i, q, c]
                    c3 = X[i, q + 1, c]
                    c2 = c3 - ds3 * D[i, q + 1, c]
                    lo[i, c] = min(min(c0, c1), min(c2, c3)) - pad[i]
                    hi[i, c] = max(max(c0, c1), max(c2, c3)) + pad[i]
                    cells[i, c] = int(np.floor(lo[i, c] * inv))
                    cells[i, 3 + c] = int(np.floor(hi[i, c] * inv))
            s_obj, s_key, ends, shift = _hash_boxes(vp, cells)
            for u in range(n_near):
                oj = near[u]
                for ix in range(cells[oj, 0], cells[oj, 3] + 1):
                    for iy in range(cells[oj, 1], cells[oj, 4] + 1):
                        for iz in range(cells[oj, 2], cells[oj, 5] + 1):
                            key = _cell_key(ix, iy, iz)
                            b = _bucket(key, shift)
                            for w in range(ends[b], ends[b + 1]):
                                oi = s_obj[w]
                                if oi == oj or s_key[w] != key:
                                    continue
                                if not _boxes_meet_in_cell(lo, hi, shell_lo, shell_hi, oi, oj, key, inv):
                                    continue
                                p1 = min(oi, oj)
                                p2 = max(oi, oj)
                                if _separated(X, D, q, ds3, p1, p2, pad[p1] + pad[p2]):
                                    continue
                                if n_out >= out_i.shape[0]:
                                    out_i = _grow(out_i, n_out + 1)
                                    out_j = _grow(out_j, n_out + 1)
                                    out_k = _grow(out_k, n_out + 1)
                                out_i[n_out] = p1
                                out_j[n_out] = p2
                                out_k[n_out] = k
                                n_out += 1
    return out_i[:n_out], out_j[:n_out], out_k[:n_out]


@nb.njit(cache=True, nogil=True)
def screen_broad_phase(P, V, ok, h, m, pad, cell, prim, use_primary, shell_lo, shell_hi, k_first=0, k_end=-1):
    """The screening engine's broad phase in one compiled entry point (a worker process loads one
    cached function for both kernels): the k x n kernel for the primaries ``prim`` when ``use_primary`` (all
    segments; ``k_first``, ``k_end`` unused), else the all-vs-all kernel on the segments
    ``k_first <= k < k_end``. ``shell_lo``, ``shell_hi``: (n,) each object's radial shell over the
    whole chunk (:func:`radial_shells`; -inf / +inf or NaN: no shell, no radial filter), computed
    once by the caller for every call on the chunk. It releases the GIL, so threads can run it on
    disjoint segment ranges of one chunk (``screen.screen_chunk``); the shells do not depend on the
    range, so neither do the triples. ``k_end`` < 0: to the last segment."""
    n = P.shape[0]
    if k_end < 0:
        k_end = P.shape[1] - 1
    if use_primary:
        return broad_phase_primaries(P, V, ok, h, m, pad, cell, prim, shell_lo, shell_hi)
    primary = np.zeros(n, dtype=np.bool_)
    return _broad_phase_segments(P, V, ok, h, m, pad, cell, primary, False, shell_lo, shell_hi, k_first, k_end)


def _bernstein_matrix(nd: int) -> np.ndarray:
    """Power -> Bernstein basis on [0, 1]: b_i = sum_{j<=i} C(i,j)/C(nd,j) c_j."""
    from math import comb

    m = np.zeros((nd + 1, nd + 1))
    for i in range(nd + 1):
        for j in range(i + 1):
            m[i, j] = comb(i, j) / comb(nd, j)
    return m


_B6 = _bernstein_matrix(6)
_B5 = _bernstein_matrix(5)


@nb.njit(cache=True, inline="always")
def _to_bernstein(c, nd, out):
    M = _B6 if nd == 6 else _B5
    for i in range(nd + 1):
        acc = 0.0
        for j in range(i + 1):
            acc += M[i, j] * c[j]
        out[i] = acc


@nb.njit(cache=True, inline="always")
def _split(b, nd, left, right, tmp):
    # de Casteljau at 1/2 (tmp: scratch of at least nd + 1)
    for i in range(nd + 1):
        tmp[i] = b[i]
    left[0] = tmp[0]
    right[nd] = tmp[nd]
    for r in range(1, nd + 1):
        for i in range(nd - r + 1):
            tmp[i] = 0.5 * (tmp[i] + tmp[i + 1])
        left[r] = tmp[0]
        right[nd - r] = tmp[nd - r]


@nb.njit(cache=True, inline="always")
def _horner(c, nd, s):
    acc = c[nd]
    for i in range(nd - 1, -1, -1):
        acc = acc * s + c[i]
    return acc


@nb.njit(cache=True, nogil=True)
def local_minima(P, V, h, ci, cj, ck, limit_km):
    """Local minima of the interpolated distance below ``limit_km`` per candidate triple.

    Returns (candidate index, s in [0, 1), distance km) for each minimum found; s is the
    fraction of segment ``ck``.
    """
    nc = ci.shape[0]
    ai = np.empty((4, 3))
    aj = np.empty((4, 3))
    A = np.empty((4, 3))
    g = np.empty(7)
    dg = np.empty(6)
    stack_g = np.empty((_MAX_DEPTH + 2, 7))
    stack_d = np.empty((_MAX_DEPTH + 2, 6))
    stack_s = np.empty((_MAX_DEPTH + 2, 2))
    stack_depth = np.empty(_MAX_DEPTH + 2, dtype=np.int64)
    lg = np.empty(7)
    rg = np.empty(7)
    ld = np.empty(6)
    rd = np.empty(6)
    # per-candidate and per-node scratch, allocated once (a heap array per node cost more than its work)
    pc = np.empty(7)
    dc = np.empty(6)
    gb = np.empty(7)
    db = np.empty(6)
    tmp = np.empty(7)
    out_c = np.empty(max(16, nc), dtype=np.int64)
    out_s = np.empty(max(16, nc))
    out_d = np.empty(max(16, nc))
    n_out = 0
    for q in range(nc):
        i, j, k = ci[q], cj[q], ck[q]
        _coeffs(P[i, k], V[i, k], P[i, k + 1], V[i, k + 1], h, ai)
        _coeffs(P[j, k], V[j, k], P[j, k + 1], V[j, k + 1], h, aj)
        for r in range(4):
            for c in range(3):
                A[r, c] = aj[r, c] - ai[r, c]
        pc[:] = 0.0
        for r in range(4):
            for t in range(4):
                pc[r + t] += A[r, 0] * A[t, 0] + A[r, 1] * A[t, 1] + A[r, 2] * A[t, 2]
        for r in range(6):
            dc[r] = (r + 1) * pc[r + 1]
        lim2 = limit_km[q] * limit_km[q]
        _to_bernstein(pc, 6, g)
        _to_bernstein(dc, 5, dg)
        top = 0
        stack_g[0, :] = g
        stack_d[0, :] = dg
        stack_s[0, 0] = 0.0
        stack_s[0, 1] = 1.0
        stack_depth[0] = 0
        top = 1
        while top > 0:
            top -= 1
            gb[:] = stack_g[top]
            db[:] = stack_d[top]
            s0 = stack_s[top, 0]
            s1 = stack_s[top, 1]
            depth = stack_depth[top]
            if gb.min() > lim2:
                continue
            changes = 0
            for r in range(5):
                if (db[r] < 0.0) != (db[r + 1] < 0.0):
                    changes += 1
            if changes == 0:
                continue
            if changes == 1 or depth >= _MAX_DEPTH:
                if not (db[0] < 0.0 and db[5] >= 0.0):
                    continue  # a maximum, or no minimum inside
                lo_s, hi_s = s0, s1
                for _ in range(80):
                    mid = 0.5 * (lo_s + hi_s)
                    if _horner(dc, 5, mid) < 0.0:
                        lo_s = mid
                    else:
                        hi_s = mid
                    if hi_s - lo_s < 1e-13:
                        break
                sr = 0.5 * (lo_s + hi_s)
                if sr >= 1.0:
                    continue  # belongs to the next segment
                d2 = _horner(pc, 6, sr)
                if d2 <= lim2:
                    if n_out >= out_c.shape[0]:
                        out_c = _grow(out_c, n_out + 1)
                        out_s = _grow(out_s, n_out + 1)
                        out_d = _grow(out_d, n_out + 1)
                    out_c[n_out] = q
                    out_s[n_out] = sr
                    out_d[n_out] = np.sqrt(max(d2, 0.0))
                    n_out += 1
                continue
            _split(gb, 6, lg, rg, tmp)
            _split(db, 5, ld, rd, tmp)
            sm = 0.5 * (s0 + s1)
            stack_g[top, :] = rg
            stack_d[top, :] = rd
            stack_s[top, 0] = sm
            stack_s[top, 1] = s1
            stack_depth[top] = depth + 1
            top += 1
            stack_g[top, :] = lg
            stack_d[top, :] = ld
            stack_s[top, 0] = s0
            stack_s[top, 1] = sm
            stack_depth[top] = depth + 1
            top += 1
    return out_c[:n_out], out_s[:n_out], out_d[:n_out]


@nb.njit(cache=True, inline="always")
def _sub_nodes(P, V, i, k, h, m, a, X, D):
    """Object ``i``'s interpolant and its derivative (per unit s) at the m + 1 sub-nodes of segment
    ``k``, into ``X``, ``D`` ((m + 1, 3)): the arithmetic of the all-vs-all kernel."""
    _coeffs(P[i, k], V[i, k], P[i, k + 1], V[i, k + 1], h, a)
    for q in range(m + 1):
        s = q / m
        for c in range(3):
            X[q, c], D[q, c] = _axis_at(a[0, c], a[1, c], a[2, c], a[3, c], s)


@nb.njit(cache=True, inline="always")
def _diff4(XA, DA, XB, DB, q, ds3, c):
    """Coordinate ``c`` of the four Bezier control points of B's sub-segment ``q`` minus A's (the
    arithmetic of :func:`_hull_difference`)."""
    return (
        XB[q, c] - XA[q, c],
        (XB[q, c] + ds3 * DB[q, c]) - (XA[q, c] + ds3 * DA[q, c]),
        (XB[q + 1, c] - ds3 * DB[q + 1, c]) - (XA[q + 1, c] - ds3 * DA[q + 1, c]),
        XB[q + 1, c] - XA[q + 1, c],
    )


@nb.njit(cache=True, inline="always")
def _sub_boxes_meet(XA, DA, pa, XB, DB, pb, m):
    """True when, in some sub-segment, the sub-segment boxes of two objects (their sub-node points
    ``XA``, ``DA`` and ``XB``, ``DB``, pads ``pa``, ``pb``) overlap and the separating-axis test on
    their Bezier hulls does not separate them: the tests of the all-vs-all kernel on the same
    numbers, without its radial shells and without its one-cell-per-pair reporting."""
    ds3 = 1.0 / (3.0 * m)
    reach = pa + pb
    for q in range(m):
        meet = True
        for c in range(3):
            a0 = XA[q, c]
            a1 = a0 + ds3 * DA[q, c]
            a3 = XA[q + 1, c]
            a2 = a3 - ds3 * DA[q + 1, c]
            b0 = XB[q, c]
            b1 = b0 + ds3 * DB[q, c]
            b3 = XB[q + 1, c]
            b2 = b3 - ds3 * DB[q + 1, c]
            lo_a = min(min(a0, a1), min(a2, a3)) - pa
            hi_a = max(max(a0, a1), max(a2, a3)) + pa
            lo_b = min(min(b0, b1), min(b2, b3)) - pb
            hi_b = max(max(b0, b1), max(b2, b3)) + pb
            if max(lo_a, lo_b) > min(hi_a, hi_b):
                meet = False
                break
        if not meet:
            continue
        # separating axis: the mean direction of the control-point differences (as ``_separated``)
        x0, x1, x2, x3 = _diff4(XA, DA, XB, DB, q, ds3, 0)
        y0, y1, y2, y3 = _diff4(XA, DA, XB, DB, q, ds3, 1)
        z0, z1, z2, z3 = _diff4(XA, DA, XB, DB, q, ds3, 2)
        if not _beyond_on_mean(x0, x1, x2, x3, y0, y1, y2, y3, z0, z1, z2, z3, reach):
            return True
    return False


@nb.njit(cache=True, inline="always")
def _beyond(x0, x1, x2, x3, y0, y1, y2, y3, z0, z1, z2, z3, ux, uy, uz, reach):
    """True when the four points (x, y, z) project beyond ``reach`` on the direction (ux, uy, uz)."""
    norm = np.sqrt(ux * ux + uy * uy + uz * uz)
    if norm == 0.0:
        return False
    r = reach * norm
    return (
        x0 * ux + y0 * uy + z0 * uz > r
        and x1 * ux + y1 * uy + z1 * uz > r
        and x2 * ux + y2 * uy + z2 * uz > r
        and x3 * ux + y3 * uy + z3 * uz > r
    )


@nb.njit(cache=True, inline="always")
def _control_points(P, V, i, k, h3, pad, slack, cp, box):
    """Object ``i``'s four Bezier control points over segment ``k`` into ``cp`` ((4, 3)) and their box
    grown by ``pad + slack`` into ``box`` (lo, hi). The boxes hold every sub-segment's box: de Casteljau
    subdivision takes convex combinations."""
    for c in range(3):
        cp[0, c], cp[1, c], cp[2, c], cp[3, c], box[c], box[3 + c] = _axis_box(
            P[i, k, c], V[i, k, c], P[i, k + 1, c], V[i, k + 1, c], h3, pad, slack
        )


# segments whose control points ``broad_phase_changed`` gathers per pass over the objects
_BLOCK = 8

# km: rounding of the control points and projections in ``broad_phase_changed``, far below any pad
_SLACK_KM = 1e-3

# half-width (km) of the axis slabs of ``broad_phase_changed`` (beyond it slab indices are clamped), and
# their largest count (1.5 MB of bit sets for 256 primaries)
_SLAB_RANGE_KM = 50000.0
_SLABS = 1024

# an object with at most this many shell partners among the primaries tests them directly in each
# segment instead of reading the slabs of its box (measured in benchmarks/README.md: section VI with
# cells, section X with slabs, where 4 to 8 are equal)
_DIRECT_MAX = 8


@nb.njit(cache=True, inline="always")
def _slab(x, inv, off, top):
    """The slab (of ``1 / inv`` km, slab ``off`` from 0 km on, clamped to [0, ``top``]) of coordinate
    ``x``; a NaN gives 0. Monotone in ``x``, which is all the slab reads need (scaling by a positive
    number, adding a number and clamping are monotone in floating point, and so is truncation of a
    number >= 0), and cheaper than flooring before the shift: no rounding instruction, a clamp in
    floating point."""
    return int(min(top, max(0.0, x * inv + off)))


@nb.njit(cache=True, inline="always")
def _axis_box(p0, v0, p1, v1, h3, pad, slack):
    """One axis of a segment's four Bezier control points (node positions ``p0``, ``p1``, velocities
    ``v0``, ``v1``) and of their box grown by ``pad + slack`` (:func:`_control_points` per axis)."""
    c0 = p0
    c1 = c0 + h3 * v0
    c3 = p1
    c2 = c3 - h3 * v1
    lo = min(min(c0, c1), min(c2, c3)) - pad - slack
    hi = max(max(c0, c1), max(c2, c3)) + pad + slack
    return c0, c1, c2, c3, lo, hi


# the intrinsic's name carries its pointer type: opaque pointers from LLVM 15 on, i8* before (numba >= 0.59
# ships LLVM 14)
_PREFETCH_NAME = "llvm.prefetch.p0" if llvm_version_info[0] >= 15 else "llvm.prefetch.p0i8"


@intrinsic
def _prefetch(typingctx, arr, index):
    """Ask the processor to bring the cache line of element ``index`` of the C-contiguous array ``arr``
    (flat index) into its caches, without waiting for it (LLVM's ``llvm.prefetch``: a hint, which never
    faults and changes no value). Compiled in place: no reference count is touched."""

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), _PREFETCH_NAME
        )
        # read access, high temporal locality, data cache
        builder.call(fn, [builder.bitcast(builder.gep(data, [args[1]]), i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(arr, types.intp), codegen


# pairs with overlapping boxes whose hull test :func:`_hull_tests` runs together: 13 rows of this many float64
# (27 kB) stay in the 48 kB L1 cache (measured in benchmarks/README.md, section XI: 64 and 1,024 are slower)
_BATCH = 256


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _hull_tests(P, V, h, m, pad, prim, k, bd, bo, bk, bu, nb, chord, XP, DP, have_p, a, XO, DO, out, n_out):
    """The last tests of :func:`_objects_in_block` for its ``nb`` buffered pairs whose segment boxes
    overlap: for pair ``e``, ``bd[:12, e]`` the differences of the four control points (object minus
    primary: x0..x3, y0..y3, z0..z3), ``bd[12, e]`` the reach (the pads and a slack for the rounding of
    the projections), the object ``bo[e]``, segment ``bk[e]`` (of the block from ``k``) and primary
    ``bu[e]``. Triples into ``out`` from row ``n_out``; returns the new count (as
    :func:`_objects_in_block`).

    The hull test: when the Bezier hull of the pair's relative motion over the segment (the four
    differences) projects beyond the reach on the direction of its chord's point nearest to zero, or on
    its mean direction, so does every sub-segment's hull (de Casteljau control points are convex
    combinations of the segment's) and the interpolated distance: no minimum below the reach in the
    segment. The chord's direction rejects nearly every pair (99.98 % in the 2022 catalog, the mean
    direction 63 %), so it runs first, for every buffered pair, in a loop without a branch (``t``'s
    clamp and the zero norm as selections, the four comparisons ANDed as values): a fixed trip count,
    which the compiler turns into vector operations, where pairs taken one at a time wait on their
    division and square root in turn. The same operations on the same numbers as a test per pair, so
    the same outcomes. The few pairs it keeps get the mean direction, then the all-vs-all kernel's
    sub-segment tests (:func:`_sub_boxes_meet`). ``error_model="numpy"``: the division is by a number
    selected nonzero, so it needs no check for zero (which would be a branch in the loop)."""
    cap = out.shape[0]
    for e in range(nb):
        x0 = bd[0, e]
        x1 = bd[1, e]
        x2 = bd[2, e]
        x3 = bd[3, e]
        y0 = bd[4, e]
        y1 = bd[5, e]
        y2 = bd[6, e]
        y3 = bd[7, e]
        z0 = bd[8, e]
        z1 = bd[9, e]
        z2 = bd[10, e]
        z3 = bd[11, e]
        cx = x3 - x0
        cy = y3 - y0
        cz = z3 - z0
        cc = cx * cx + cy * cy + cz * cz
        pos = cc > 0.0
        t = min(1.0, max(0.0, -(x0 * cx + y0 * cy + z0 * cz) / (cc if pos else 1.0)))
        t = t if pos else 0.0
        ux = x0 + t * cx
        uy = y0 + t * cy
        uz = z0 + t * cz
        norm = np.sqrt(ux * ux + uy * uy + uz * uz)
        r = bd[12, e] * norm
        chord[e] = (
            (norm != 0.0)
            & (x0 * ux + y0 * uy + z0 * uz > r)
            & (x1 * ux + y1 * uy + z1 * uz > r)
            & (x2 * ux + y2 * uy + z2 * uz > r)
            & (x3 * ux + y3 * uy + z3 * uz > r)
        )
    for e in range(nb):
        if chord[e]:
            continue
        x0 = bd[0, e]
        x1 = bd[1, e]
        x2 = bd[2, e]
        x3 = bd[3, e]
        y0 = bd[4, e]
        y1 = bd[5, e]
        y2 = bd[6, e]
        y3 = bd[7, e]
        z0 = bd[8, e]
        z1 = bd[9, e]
        z2 = bd[10, e]
        z3 = bd[11, e]
        mx = x0 + x1 + x2 + x3
        my = y0 + y1 + y2 + y3
        mz = z0 + z1 + z2 + z3
        if _beyond(x0, x1, x2, x3, y0, y1, y2, y3, z0, z1, z2, z3, mx, my, mz, bd[12, e]):
            continue
        o = bo[e]
        kk = bk[e]
        u = bu[e]
        j = kk - k
        i = prim[u]
        _sub_nodes(P, V, o, kk, h, m, a, XO, DO)
        if not have_p[j, u]:  # the primary's sub-nodes, once per segment and only where needed
            _sub_nodes(P, V, i, kk, h, m, a, XP[j, u], DP[j, u])
            have_p[j, u] = True
        if not _sub_boxes_meet(XP[j, u], DP[j, u], pad[i], XO, DO, pad[o], m):
            continue
        if n_out < cap:
            out[n_out, 0] = min(i, o)
            out[n_out, 1] = max(i, o)
            out[n_out, 2] = kk
        n_out += 1
    return n_out


@nb.njit(cache=True, nogil=True)
def _objects_in_block(
    P,
    V,
    ok,
    h,
    m,
    pad,
    prim,
    k,
    kb,
    count,
    first,
    partner,
    shells,
    pval,
    pbox,
    pcp,
    XP,
    DP,
    have_p,
    slabs,
    cell,
    out,
    n_out,
):
    """The object pass of :func:`broad_phase_changed` over the segments ``k <= kk < kb`` (one block):
    its triples written into ``out`` ((capacity, 3)) from row ``n_out``; returns the new count, which
    exceeds the capacity when ``out`` was too small (the caller grows it and runs the block again).

    Written out in scalars, with no array handed to a helper on the paths taken per (object, segment)
    or per candidate pair: in a compiled loop every array bound to a new name (a view, an inlined
    function's argument, a buffer that may be reassigned) costs two atomic reference-count updates,
    which were most of this kernel's time. The arithmetic is that of :func:`_control_points`, operation
    for operation. The pairs whose boxes overlap are buffered (the differences of their control points)
    and tested :data:`_BATCH` at a time (:func:`_hull_tests`). A box's candidates are six
    reads of the slabs' bit sets whatever its size, and whether two boxes overlap (an unpredictable
    outcome) is used as a value, not as a branch: the overlaps are counted into a list; the comparisons
    are the same, on the same numbers, so the candidates and the triples are too. The next object's
    nodes are prefetched (the stride between objects defeats the hardware prefetchers; a hint changes
    no value)."""
    n = P.shape[0]
    W = shells.shape[1]
    S = slabs.shape[2]
    off = float(S // 2)
    top = S - 1.0
    inv = 1.0 / cell
    h3 = h / 3.0
    a = np.empty((4, 3))
    XO = np.empty((m + 1, 3))
    DO = np.empty((m + 1, 3))
    WS = slabs.shape[3]
    acc = np.zeros(WS, dtype=np.uint64)
    cand = np.empty(max(1, prim.shape[0]), dtype=np.int64)
    bd = np.empty((13, _BATCH))
    bo = np.empty(_BATCH, dtype=np.int64)
    bk = np.empty(_BATCH, dtype=np.int64)
    bu = np.empty(_BATCH, dtype=np.int64)
    chord = np.empty(_BATCH, dtype=np.bool_)
    nb = 0
    # an object's nodes of the block are a few cache lines a row of nodes apart (3.5 kB for a 12-h chunk)
    # from the previous object's: the hardware prefetchers do not follow that stride, so the next
    # object's lines are requested while this one is screened
    stride = P.shape[1] * 3
    span = (kb - k + 1) * 3
    for o in range(n):
        if o + 1 < n:
            start = (o + 1) * stride + k * 3
            for q in range(start, start + span, 8):
                _prefetch(P, q)
                _prefetch(V, q)
            _prefetch(P, start + span - 1)
            _prefetch(V, start + span - 1)
            _prefetch(ok, (o + 1) * P.shape[1] + k)
            _prefetch(ok, (o + 1) * P.shape[1] + kb)
        if count[o] == 0:  # no shell partner: nothing to do in any segment
            continue
        direct = first[o + 1] > first[o]
        po = pad[o]
        sl = _SLACK_KM
        for kk in range(k, kb):
            if not (ok[o, kk] and ok[o, kk + 1]):
                continue
            j = kk - k
            k1 = kk + 1
            x0, x1, x2, x3, lx, hx = _axis_box(P[o, kk, 0], V[o, kk, 0], P[o, k1, 0], V[o, k1, 0], h3, po, sl)
            y0, y1, y2, y3, ly, hy = _axis_box(P[o, kk, 1], V[o, kk, 1], P[o, k1, 1], V[o, k1, 1], h3, po, sl)
            z0, z1, z2, z3, lz, hz = _axis_box(P[o, kk, 2], V[o, kk, 2], P[o, k1, 2], V[o, k1, 2], h3, po, sl)
            if not direct:  # many shell partners: the axis slabs of the box, else each partner tested directly
                # per axis, the primaries whose box starts in a slab at or below the one of the object's
                # box's end and ends in a slab at or above the one of its start
                fx = _slab(hx, inv, off, top)
                fy = _slab(hy, inv, off, top)
                fz = _slab(hz, inv, off, top)
                gx = _slab(lx, inv, off, top)
                gy = _slab(ly, inv, off, top)
                gz = _slab(lz, inv, off, top)
                # one word (at most 64 primaries) alone; more in groups of four (the slabs' rows are padded to
                # them): a fixed trip count, which the compiler turns into vector operations
                if WS == 1:
                    acc[0] = ((slabs[j, 0, fx, 0] & slabs[j, 3, gx, 0]) & (slabs[j, 1, fy, 0] & slabs[j, 4, gy, 0])) & (
                        slabs[j, 2, fz, 0] & slabs[j, 5, gz, 0]
                    )
                for w0 in range(0, WS - 3, 4):
                    for q in range(4):
                        w = w0 + q
                        acc[w] = (
                            (slabs[j, 0, fx, w] & slabs[j, 3, gx, w]) & (slabs[j, 1, fy, w] & slabs[j, 4, gy, w])
                        ) & (slabs[j, 2, fz, w] & slabs[j, 5, gz, w])
            # the candidate primaries whose segment boxes overlap the object's into ``cand[:n_box]``, counted
            # without a branch on the overlap (its outcome is unpredictable): from the partner list (those
            # valid in the segment; an invalid one's box is stale, masked), else from the set bits of the
            # slabs' bit sets masked with the shell partners
            n_box = 0
            if direct:
                for e in range(first[o], first[o + 1]):
                    u = partner[e]
                    cand[n_box] = u
                    n_box += pval[j, u] & (
                        not (
                            (max(lx, pbox[j, u, 0]) > min(hx, pbox[j, u, 3]))
                            | (max(ly, pbox[j, u, 1]) > min(hy, pbox[j, u, 4]))
                            | (max(lz, pbox[j, u, 2]) > min(hz, pbox[j, u, 5]))
                        )
                    )
            else:
                for w in range(W):
                    word = acc[w] & shells[o, w]
                    while word != np.uint64(0):
                        u = w * 64 + np.int64(trailing_zeros(word))  # the lowest set bit (tzcnt)
                        word &= word - np.uint64(1)
                        cand[n_box] = u
                        n_box += not (
                            (max(lx, pbox[j, u, 0]) > min(hx, pbox[j, u, 3]))
                            | (max(ly, pbox[j, u, 1]) > min(hy, pbox[j, u, 4]))
                            | (max(lz, pbox[j, u, 2]) > min(hz, pbox[j, u, 5]))
                        )
            for c in range(n_box):
                u = cand[c]
                bd[0, nb] = x0 - pcp[j, u, 0, 0]
                bd[1, nb] = x1 - pcp[j, u, 1, 0]
                bd[2, nb] = x2 - pcp[j, u, 2, 0]
                bd[3, nb] = x3 - pcp[j, u, 3, 0]
                bd[4, nb] = y0 - pcp[j, u, 0, 1]
                bd[5, nb] = y1 - pcp[j, u, 1, 1]
                bd[6, nb] = y2 - pcp[j, u, 2, 1]
                bd[7, nb] = y3 - pcp[j, u, 3, 1]
                bd[8, nb] = z0 - pcp[j, u, 0, 2]
                bd[9, nb] = z1 - pcp[j, u, 1, 2]
                bd[10, nb] = z2 - pcp[j, u, 2, 2]
                bd[11, nb] = z3 - pcp[j, u, 3, 2]
                bd[12, nb] = pad[prim[u]] + pad[o] + _SLACK_KM
                bo[nb] = o
                bk[nb] = kk
                bu[nb] = u
                nb += 1
                if nb == _BATCH:
                    n_out = _hull_tests(
                        P, V, h, m, pad, prim, k, bd, bo, bk, bu, nb, chord, XP, DP, have_p, a, XO, DO, out, n_out
                    )
                    nb = 0
    return _hull_tests(P, V, h, m, pad, prim, k, bd, bo, bk, bu, nb, chord, XP, DP, have_p, a, XO, DO, out, n_out)


@nb.njit(cache=True, inline="always")
def _count_at_most(sorted_values, x, strict):
    """How many of ``sorted_values`` (ascending, no NaN) are ``<= x`` (``< x`` when ``strict``)."""
    lo = 0
    hi = sorted_values.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        below = sorted_values[mid] < x if strict else sorted_values[mid] <= x
        if below:
            lo = mid + 1
        else:
            hi = mid
    return lo


@nb.njit(cache=True, inline="always")
def _popcount(x):
    """The number of set bits of the uint64 ``x`` (SWAR: a few shifts and masks, no branch)."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@nb.njit(cache=True)
def shell_partners(n, prim, shell_lo, shell_hi, direct_max=-1):
    """Per object of ``n``, the primaries (indices ``prim``) whose radial shells (``radial_shells``; NaN:
    none) meet its own, a pair of primaries once (from its higher index): ``(shells, count, first,
    partner)``, a bit set per object ((n, W) words of 64 primaries), their count, and for the objects with
    at most ``direct_max`` of them (-1: ``_DIRECT_MAX``) their list, ``partner[first[o]:first[o + 1]]``.
    The per-chunk setup of :func:`broad_phase_changed_partners`, computed once for the threads that share
    the chunk's segments.

    Shells meet when the primary's floor is at most the object's ceiling and its ceiling at least the
    object's floor. The primaries whose floor is at most a value are a prefix of them sorted by floor,
    and those whose ceiling is at least a value a suffix of them sorted by ceiling: with the bit sets of
    every prefix and suffix built once, an object's partners are two binary searches and the AND of two
    bit sets (masked, for a primary, to the primaries of lower index), instead of a test per primary."""
    if direct_max < 0:
        direct_max = _DIRECT_MAX
    n_p = prim.shape[0]
    W = max(1, (n_p + 63) // 64)
    # a NaN shell bound never fails the shell test, nor does -inf / +inf in its place
    floor = np.where(np.isnan(shell_lo), -np.inf, shell_lo)
    ceiling = np.where(np.isnan(shell_hi), np.inf, shell_hi)
    p_floor = np.empty(n_p)
    p_ceiling = np.empty(n_p)
    for u in range(n_p):
        p_floor[u] = floor[prim[u]]
        p_ceiling[u] = ceiling[prim[u]]
    by_floor = np.argsort(p_floor)
    by_ceiling = np.argsort(p_ceiling)
    floors = p_floor[by_floor]
    ceilings = p_ceiling[by_ceiling]
    # low[q]: the primaries of the q lowest floors; high[q]: all but those of the q lowest ceilings
    low = np.zeros((n_p + 1, W), dtype=np.uint64)
    high = np.zeros((n_p + 1, W), dtype=np.uint64)
    for q in range(n_p):
        u = by_floor[q]
        low[q + 1] = low[q]
        low[q + 1, u // 64] |= np.uint64(1) << np.uint64(u % 64)
    for q in range(n_p - 1, -1, -1):
        u = by_ceiling[q]
        high[q] = high[q + 1]
        high[q, u // 64] |= np.uint64(1) << np.uint64(u % 64)
    # a primary object pairs only with the primaries of lower index (the pair once, and not itself)
    lower = np.full(n, -1, dtype=np.int64)
    masks = np.zeros((max(1, n_p), W), dtype=np.uint64)
    for u in range(n_p):
        lower[prim[u]] = u
    for u in range(n_p):
        o = prim[u]
        for t in range(n_p):
            if prim[t] < o:
                masks[u, t // 64] |= np.uint64(1) << np.uint64(t % 64)
    shells = np.empty((n, W), dtype=np.uint64)
    count = np.zeros(n, dtype=np.int64)
    for o in range(n):
        qa = _count_at_most(floors, ceiling[o], False)
        qb = _count_at_most(ceilings, floor[o], True)
        c = 0
        for w in range(W):
            word = low[qa, w] & high[qb, w]
            if lower[o] >= 0:
                word &= masks[lower[o], w]
            shells[o, w] = word
            c += _popcount(word)
        count[o] = c
    first = np.zeros(n + 1, dtype=np.int64)
    for o in range(n):
        first[o + 1] = first[o] + (count[o] if count[o] <= direct_max else 0)
    partner = np.empty(first[n], dtype=np.int64)
    for o in range(n):
        e = first[o]
        if e == first[o + 1]:
            continue
        for w in range(W):
            word = shells[o, w]
            while word != np.uint64(0):
                partner[e] = w * 64 + np.int64(trailing_zeros(word))  # ascending, as the bits' order
                word &= word - np.uint64(1)
                e += 1
    return shells, count, first, partner


@nb.njit(cache=True, nogil=True)
def broad_phase_changed(P, V, ok, h, m, pad, prim, shell_lo, shell_hi, cell, k_first=0, k_end=-1, direct_max=-1):
    """Candidate (i, j, segment) triples of the pairs with a primary (indices ``prim``: the changed objects of
    an incremental update), with every object's node states at hand (the full run's, kept) and its
    radial shell over the chunk (``radial_shells``; NaN: none).

    k x n, ``_BLOCK`` segments at a time: the primaries' segment boxes (Bezier control points grown by
    the pad, which hold every sub-segment's box: de Casteljau subdivision takes convex combinations) are
    entered, per segment and per axis, in slabs of ``cell`` km (indices clamped at
    +-``_SLAB_RANGE_KM``): for each slab the bit set of the primaries whose box starts in it or below,
    and that of those whose box ends in it or above (prefix and suffix ORs over the slabs). Then object
    by object (its nodes are contiguous), for each segment of the block, its control points and box are
    computed in registers (nothing stored) and its candidate primaries taken either from the slabs (on
    each axis, those that start at or below the slab of its box's end and end at or above the slab of
    its start: six reads, ANDed, masked with the primaries whose radial shells meet its own) or, for an
    object with at most ``direct_max`` such shell partners (-1: the default ``_DIRECT_MAX``), from the
    list of those partners directly (no slab read). An object without a shell partner costs nothing per
    segment. For each candidate pair the tests run from the cheapest: the two segment boxes overlap; the
    Bezier hull of the pair's relative motion over the segment is not beyond the sum of the pads on the
    direction of its chord's point nearest to zero nor on its mean direction (if it were, so would be
    every point of the interpolated relative motion: no minimum below the narrow-phase limit); last, the
    all-vs-all kernel's own sub-segment tests on the same numbers (box overlap, separating axis). The
    slab reads only narrow the candidates to pairs whose box bounds fall in crossing slabs, which every
    pair with overlapping boxes does (floor and clamping are monotone: lo_p <= hi_o and hi_p >= lo_o on
    an axis give the same order of their slabs), so both ways give the same pairs to the same tests.
    Slabs rather than cells of space: a box's candidates are six reads whatever it spans, and their AND
    is nearly the box test itself (250 km slabs: 2.2 M bits for 1.69 M box overlaps in a 12-h chunk of
    the 2022 catalog against 240 primaries; the cells of a 2,000 km grid give 6.2 M), so few candidates
    are decoded only to fail it. So the triples are those of the all-vs-all kernel for the pairs with a
    primary, less some that have no interpolated minimum below the limit: the narrow phase finds the
    same minima. Only the segments ``k_first <= k < k_end`` (``k_end`` < 0: to the last): it releases
    the GIL, so threads can share a chunk's segments. Triples in no particular order."""
    partners = shell_partners(P.shape[0], prim, shell_lo, shell_hi, direct_max)
    return broad_phase_changed_partners(P, V, ok, h, m, pad, prim, partners, cell, k_first, k_end)


@nb.njit(cache=True, nogil=True)
def broad_phase_changed_partners(P, V, ok, h, m, pad, prim, partners, cell, k_first=0, k_end=-1):
    """:func:`broad_phase_changed` with its per-chunk setup given: ``partners``, the primaries' shell
    partners of every object (:func:`shell_partners`), computed once and shared by the threads that
    split the chunk's segments (``k_first <= k < k_end``; ``k_end`` < 0: to the last)."""
    shells, count, first, partner = partners
    K = P.shape[1] - 1
    if k_end < 0:
        k_end = K
    n_p = prim.shape[0]
    W = shells.shape[1]
    h3 = h / 3.0
    slack = _SLACK_KM
    inv = 1.0 / cell
    pbox = np.empty((_BLOCK, n_p, 6))
    pval = np.zeros((_BLOCK, n_p), dtype=np.bool_)
    pcp = np.empty((_BLOCK, n_p, 4, 3))
    XP = np.empty((_BLOCK, n_p, m + 1, 3))
    DP = np.empty((_BLOCK, n_p, m + 1, 3))
    have_p = np.zeros((_BLOCK, n_p), dtype=np.bool_)
    # per segment of the block and per axis, over +-_SLAB_RANGE_KM in slabs of ``cell`` km (indices clamped
    # at the ends: clamping is monotone), the bit sets of the primaries whose box starts in each slab or
    # below (0-2: x, y, z) and of those whose box ends in each slab or above (3-5)
    S = min(_SLABS, 2 * int(np.ceil(_SLAB_RANGE_KM * inv)))
    off = float(S // 2)
    top = S - 1.0
    # the words of a row padded to groups of four, but for one primary word (the object pass reads them four
    # at a time)
    slabs = np.zeros((_BLOCK, 6, S, W if W == 1 else (W + 3) // 4 * 4), dtype=np.uint64)
    out = np.empty((1 << 12, 3), dtype=np.int64)
    n_out = 0
    for k in range(k_first, k_end, _BLOCK):
        kb = min(k + _BLOCK, k_end)
        slabs[:] = 0
        have_p[:] = False
        n_valid = 0
        for kk in range(k, kb):
            j = kk - k
            for u in range(n_p):
                i = prim[u]
                pval[j, u] = ok[i, kk] and ok[i, kk + 1]
                if not pval[j, u]:
                    continue
                n_valid += 1
                _control_points(P, V, i, kk, h3, pad[i], slack, pcp[j, u], pbox[j, u])
                word = u // 64
                bit = np.uint64(1) << np.uint64(u % 64)
                for c in range(3):
                    slabs[j, c, _slab(pbox[j, u, c], inv, off, top), word] |= bit
                    slabs[j, 3 + c, _slab(pbox[j, u, 3 + c], inv, off, top), word] |= bit
            for c in range(3):
                for b in range(1, S):
                    for w in range(W):
                        slabs[j, c, b, w] |= slabs[j, c, b - 1, w]
                for b in range(S - 2, -1, -1):
                    for w in range(W):
                        slabs[j, 3 + c, b, w] |= slabs[j, 3 + c, b + 1, w]
        if n_valid > 0:
            args = (P, V, ok, h, m, pad, prim, k, kb, count, first, partner, shells, pval, pbox, pcp, XP, DP, have_p)
            args = args + (slabs,)
            got = _objects_in_block(*args, cell, out, n_out)
            if got > out.shape[0]:  # the buffer was too small: grow it and run the block again
                out2 = np.empty((2 * got, 3), dtype=np.int64)
                out2[:n_out] = out[:n_out]
                out = out2
                got = _objects_in_block(*args, cell, out, n_out)
            n_out = got
    return out[:n_out, 0].copy(), out[:n_out, 1].copy(), out[:n_out, 2].copy()
