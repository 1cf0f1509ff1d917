"""One small body through ASSIST with its first-order variational equations.

The state transition matrix d(state(t))/d(state(t0)) comes from six variational particles of
REBOUND/ASSIST (``add_variation(testparticle=0)``: ASSIST evaluates the partials of every force
term it integrates). Partials with respect to the Marsden non-gravitational parameters A1, A2,
A3 come from a shadow particle with the parameter shifted by ``NONGRAV_STEP`` (a central
difference would double the cost for no gain at this size: the effect is linear to 1e-7).
States at the requested TDB epochs use ASSIST's dense output (``integrate_or_interpolate``),
partials exact stops every ``node_days`` and Hermite interpolation between them (see ``_run``);
epochs before and after ``t0`` run in two simulations, each outward from ``t0``.

Units: au, au/day, TDB Julian dates; A1..A3 in au/day^2."""

from __future__ import annotations

import ctypes
import warnings

import numpy as np

from ..nbody import DEFAULT_SETTINGS, NBodySettings, ephemeris

NONGRAV_STEP_AU_D2 = 1e-14  # shift of A_k for its partial (A2 of Apophis is about -2.9e-14)
_COORDS = ("x", "y", "z", "vx", "vy", "vz")


def propagate_with_partials(
    jd0_tdb: float,
    state: np.ndarray,
    jd_tdb: np.ndarray,
    nongrav: np.ndarray | None = None,
    nongrav_free: tuple[int, ...] = (),
    settings: NBodySettings = DEFAULT_SETTINGS,
    node_days: float | None = None,
    partials: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """States (n, 6) at ``jd_tdb`` (n,) and partials (n, 6, 6 + k) with respect to the state at
    ``jd0_tdb`` and the k free non-gravitational parameters (indices 0, 1, 2 = A1, A2, A3);
    ``partials=False``: the states alone (one integration, a quarter of the cost) and None."""
    jd_tdb = np.asarray(jd_tdb, float)
    if node_days is None:  # about 50 exact stops over a short arc, one a day over a long one
        node_days = min(1.0, max(float(np.ptp(jd_tdb)) / 50.0, 1e-3)) if jd_tdb.size else 1.0
    ng = np.zeros(3) if nongrav is None else np.asarray(nongrav, float)
    k = len(nongrav_free)
    states = np.empty((len(jd_tdb), 6))
    out_p = np.empty((len(jd_tdb), 6, 6 + k)) if partials else None
    for direction in (1.0, -1.0):
        idx = np.flatnonzero((jd_tdb >= jd0_tdb) if direction > 0 else (jd_tdb < jd0_tdb))
        if idx.size == 0:
            continue
        order = idx[np.argsort(direction * jd_tdb[idx])]
        s, p = _run(jd0_tdb, np.asarray(state, float), jd_tdb[order], ng, nongrav_free, settings, node_days, partials)
        states[order] = s
        if out_p is not None:
            out_p[order] = p
    return states, out_p


def _node_times(times: np.ndarray, node_days: float) -> np.ndarray:
    """Exact stops for the partials: the first and last epoch and one at least every
    ``node_days`` along the (sorted, outward) epochs."""
    nodes = [times[0]]
    for t in times[1:]:
        if abs(t - nodes[-1]) >= node_days:
            nodes.append(t)
    if nodes[-1] != times[-1]:
        nodes.append(times[-1])
    return np.array(nodes)


def _simulation(jd0, state, ng, free, settings, with_variations: bool):
    """A REBOUND/ASSIST simulation: the body, one shadow per free non-gravitational parameter,
    and (optionally) its six variational particles."""
    import assist
    import rebound

    eph = ephemeris()
    sim = rebound.Simulation()
    sim.t = jd0 - eph.jd_ref
    sim.ri_ias15.min_dt = settings.min_dt_days
    sim.ri_ias15.epsilon = settings.epsilon
    sim.add(x=state[0], y=state[1], z=state[2], vx=state[3], vy=state[4], vz=state[5])
    params = [ng]
    for j in free:
        sim.add(x=state[0], y=state[1], z=state[2], vx=state[3], vy=state[4], vz=state[5])
        shifted = ng.copy()
        shifted[j] += NONGRAV_STEP_AU_D2
        params.append(shifted)
    variations = []
    if with_variations:
        for c in _COORDS:
            v = sim.add_variation(order=1, testparticle=0)
            setattr(v.particles[0], c, 1.0)
            variations.append(v)
    extras = assist.Extras(sim, eph)
    extras.gr_eih_sources = settings.gr_sources
    flat = np.zeros(3 * sim.N)  # variational particles carry zero parameter variations
    flat[: 3 * len(params)] = np.concatenate(params)
    extras.particle_params = flat
    if np.any(flat):
        extras.forces = [f for f in extras.forces if f != "NON_GRAVITATIONAL"] + ["NON_GRAVITATIONAL"]
    return sim, extras, [v.particles[0] for v in variations]


def _fast_calls(sim, extras):
    """The C entry points behind ``Extras.integrate_or_interpolate`` and
    ``Simulation.serialize_particle_data`` (rebound 4 / assist 1.2), and their first arguments."""
    from assist.extras import clibassist
    from rebound import clibrebound

    return (
        clibassist.assist_integrate_or_interpolate,
        clibrebound.reb_simulation_get_serialized_particle_data,
        (ctypes.byref(sim), ctypes.byref(extras)),
    )


def _run(jd0, state, times, ng, free, settings, node_days, partials=True):
    eph = ephemeris()
    k = len(free)
    n_real = 1 + k

    # States: ASSIST's dense output (one simulation without variational particles).
    sim, extras, _ = _simulation(jd0, state, ng, (), settings, with_variations=False)
    out_s = np.empty((len(times), 6))
    # One C call each for the step and the read-out, arguments built once: the Python wrappers
    # (``integrate_or_interpolate``, ``serialize_particle_data``) rebuild ctypes pointers on every
    # call, which cost as much as the integration itself over thousands of epochs (measured).
    # (A ``sim.particles[0]`` view would go stale: ASSIST's interpolation swaps the particle array.)
    step, read, args = _fast_calls(sim, extras)
    buf = np.empty(6)
    ptr = buf.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # IAS15 convergence notes at min_dt
        for i, t in enumerate(times - eph.jd_ref):
            step(args[1], ctypes.c_double(t))
            read(args[0], None, None, None, None, None, ptr)
            out_s[i] = buf
    if not partials:
        return out_s, None

    # Partials: ASSIST 1.2's dense output interpolates the real particles but not the
    # variational ones, and an interpolated stop leaves them corrupted for the steps after it
    # (measured: partials off by 7 % and then by orders of magnitude). So a second simulation
    # stops exactly at nodes and the partials are Hermite-interpolated between them.
    sim, extras, var_particles = _simulation(jd0, state, ng, free, settings, with_variations=True)
    nodes = _node_times(times, node_days)
    node_p = np.empty((len(nodes), 6, 6 + k))
    bx, bv = np.empty((sim.N, 3)), np.empty((sim.N, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for i, t in enumerate(nodes):
            sim.integrate(t - eph.jd_ref)
            sim.serialize_particle_data(xyz=bx, vxvyvz=bv)  # variational rows come back as zeros
            sv = np.hstack([bx[:n_real], bv[:n_real]])
            node_p[i, :, :6] = np.array([[q.x, q.y, q.z, q.vx, q.vy, q.vz] for q in var_particles]).T
            for m in range(k):
                node_p[i, :, 6 + m] = (sv[1 + m] - sv[0]) / NONGRAV_STEP_AU_D2
    return out_s, _hermite(nodes, node_p, times)


def _hermite(nodes: np.ndarray, node_p: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Partials at ``times``: cubic Hermite for the position rows (their time derivatives are
    the velocity rows), linear for the velocity rows."""
    if len(nodes) == 1:
        return np.broadcast_to(node_p[0], (len(times),) + node_p.shape[1:]).copy()
    sign = 1.0 if nodes[-1] >= nodes[0] else -1.0
    u_nodes = sign * nodes
    j = np.clip(np.searchsorted(u_nodes, sign * times, side="right") - 1, 0, len(nodes) - 2)
    h = nodes[j + 1] - nodes[j]
    s = ((times - nodes[j]) / h)[:, None, None]
    p0, p1 = node_p[j], node_p[j + 1]
    hh = h[:, None, None]
    h00 = 2 * s**3 - 3 * s**2 + 1
    h10 = s**3 - 2 * s**2 + s
    h01 = -2 * s**3 + 3 * s**2
    h11 = s**3 - s**2
    out = (1 - s) * p0 + s * p1
    out[:, :3] = h00 * p0[:, :3] + h10 * hh * p0[:, 3:] + h01 * p1[:, :3] + h11 * hh * p1[:, 3:]
    return out
