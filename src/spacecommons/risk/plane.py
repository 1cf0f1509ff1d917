"""The encounter (conjunction) plane: relative position and combined covariance projected onto
the plane normal to the relative velocity at TCA (Foster & Estes 1992; CARA Pc2D_Foster)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..frames import rtn_basis


def rtn_to_inertial(cov_rtn: np.ndarray, r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate an RTN covariance (..., 3x3 or 6x6) into the inertial frame of r, v."""
    R = rtn_basis(r, v)  # rows R, T, N in inertial coordinates
    n = cov_rtn.shape[-1]
    if n == 3:
        return np.swapaxes(R, -1, -2) @ cov_rtn @ R
    big = np.zeros(cov_rtn.shape[:-2] + (6, 6))
    big[..., :3, :3] = R
    big[..., 3:, 3:] = R
    return np.swapaxes(big, -1, -2) @ cov_rtn[..., :6, :6] @ big


@dataclass(frozen=True)
class EncounterPlane:
    """Miss (x, z) in the plane and its 2x2 covariance; arrays over events. Units as given."""

    miss: np.ndarray  # (..., 2)
    cov: np.ndarray  # (..., 2, 2)
    speed: np.ndarray  # (...,) relative speed
    basis: np.ndarray  # (..., 2, 3) plane axes in the inertial frame


def encounter_plane(r1, v1, c1, r2, v2, c2) -> EncounterPlane:
    """Inertial states (..., 3) and position covariances (..., 3, 3) of both objects at TCA."""
    r = np.asarray(r2, float) - np.asarray(r1, float)
    v = np.asarray(v2, float) - np.asarray(v1, float)
    cov = np.asarray(c1, float)[..., :3, :3] + np.asarray(c2, float)[..., :3, :3]
    speed = np.linalg.norm(v, axis=-1)
    y = v / speed[..., None]
    h = np.cross(r, v)
    hn = np.linalg.norm(h, axis=-1)
    # zero miss: any axis normal to v will do
    fallback = np.cross(y, np.where(np.abs(y[..., :1]) < 0.9, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]))
    h = np.where((hn > 0)[..., None], h, fallback)
    z = h / np.linalg.norm(h, axis=-1, keepdims=True)
    x = np.cross(y, z)
    P = np.stack([x, z], axis=-2)
    miss = np.einsum("...ij,...j->...i", P, r)
    cov2 = P @ cov @ np.swapaxes(P, -1, -2)
    return EncounterPlane(miss, cov2, speed, P)
