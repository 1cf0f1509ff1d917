"""An OEM object as a screening state source: TEME states interpolated from its ephemeris.

Screening propagates element sets with ``sgp4.api.Satrec``; :class:`EphemerisTrack` answers the
same calls (``sgp4``, ``sgp4_array``, and the orbit-shape attributes ``a``, ``ecco``, ``method``,
``no_kozai``, ``jdsatepoch``) from an owner/operator ephemeris, so an OEM object is screened by
the same engine, broad phase, refinement and event merging as a catalog object.

Frames: the OEM's states are rotated to TEME at their own epochs (EME2000 via the frame bias,
GCRF/ICRF as GCRF, TEME as given) and interpolated there (TEME turns with precession-nutation,
under 1e-11 rad/s: nothing an interpolation window notices). Times: ``TIME_SYSTEM`` must be UTC,
``CENTER_NAME`` EARTH.
"""

from __future__ import annotations

import math

import numpy as np

from ..constants import EARTH_RADIUS_WGS72_KM, GM_EARTH_WGS72_KM3_S2, SECONDS_PER_DAY
from ..errors import InputError
from ..frames import eme2000_to_gcrf, gcrf_to_teme, rtn_basis, teme_to_gcrf
from .interpolate import interpolate_covariance, interpolate_states, window_size
from .kvn import read_oem_kvn
from .model import Oem, OemSegment, epoch_to_jd

OUTSIDE_EPHEMERIS = 8  # sgp4_batch.OUTSIDE_EPHEMERIS (same code, no import across the core)
INERTIAL = {"EME2000": "EME2000", "J2000": "EME2000", "GCRF": "GCRF", "ICRF": "GCRF", "TEME": "TEME"}
LOCAL = ("RTN", "RSW", "RIC", "LVLH_RTN")


def to_teme(
    r_km: np.ndarray, v_km_s: np.ndarray, frame: str, jd: np.ndarray, fr: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """States ``(m, 3)`` in an OEM inertial ``frame`` at UTC ``jd + fr`` -> TEME."""
    kind = INERTIAL.get(frame.upper())
    if kind is None:
        raise InputError(f"REF_FRAME {frame!r}: screening takes EME2000, J2000, GCRF, ICRF or TEME ephemerides")
    if kind == "TEME":
        return np.asarray(r_km, float), np.asarray(v_km_s, float)
    if kind == "EME2000":
        r_km, v_km_s = eme2000_to_gcrf(np.asarray(r_km, float)), eme2000_to_gcrf(np.asarray(v_km_s, float))
    return gcrf_to_teme(np.asarray(r_km, float), np.asarray(v_km_s, float), jd, fr)


def from_teme(
    r_km: np.ndarray, v_km_s: np.ndarray, frame: str, jd: np.ndarray, fr: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """TEME states ``(m, 3)`` -> an OEM inertial ``frame`` (the inverse of :func:`to_teme`)."""
    from ..frames import gcrf_to_eme2000

    kind = INERTIAL.get(frame.upper())
    if kind is None:
        raise InputError(f"frame {frame!r}: write EME2000, GCRF, ICRF or TEME")
    if kind == "TEME":
        return np.asarray(r_km, float), np.asarray(v_km_s, float)
    r, v = teme_to_gcrf(np.asarray(r_km, float), np.asarray(v_km_s, float), jd, fr)
    if kind == "EME2000":
        r, v = gcrf_to_eme2000(r), gcrf_to_eme2000(v)
    return r, v


class _Piece:
    """One segment in TEME: node times (s after the track's reference), states, covariances."""

    def __init__(self, seg: OemSegment, jd0: float, fr0: float, source: str) -> None:
        if seg.time_system.upper() != "UTC":
            raise InputError(f"{source}: TIME_SYSTEM {seg.time_system!r}: screening takes UTC ephemerides")
        if (seg.get("CENTER_NAME") or "").upper() != "EARTH":
            raise InputError(
                f"{source}: CENTER_NAME {seg.get('CENTER_NAME')!r}: screening takes Earth-centred ephemerides"
            )
        jd, fr = seg.jd()
        self.t = (jd - jd0) * SECONDS_PER_DAY + (fr - fr0) * SECONDS_PER_DAY
        if np.any(np.diff(self.t) <= 0):
            raise InputError(f"{source}: ephemeris epochs must increase strictly in each segment")
        self.r, self.v = to_teme(seg.r_km, seg.v_km_s, seg.ref_frame, jd, fr)
        if seg.interpolation not in ("LAGRANGE", "HERMITE"):
            raise InputError(
                f"{source}: INTERPOLATION {seg.interpolation!r}: screening interpolates LAGRANGE or HERMITE"
            )
        self.method = seg.interpolation
        self.degree = seg.interpolation_degree
        window_size(self.method, self.degree)
        self.cov_t = []
        self.cov = []
        self.cov_note = []
        for c in seg.covariances:
            cj, cf = epoch_to_jd(c.epoch or "")
            self.cov_t.append((cj - jd0) * SECONDS_PER_DAY + (cf - fr0) * SECONDS_PER_DAY)
            self.cov.append(c.matrix)
            self.cov_note.append((c.epoch, (c.ref_frame or seg.ref_frame).upper()))
        self.frame = seg.ref_frame

    def covers(self, t: np.ndarray) -> np.ndarray:
        return (t >= self.t[0]) & (t <= self.t[-1])


class EphemerisTrack:
    """Duck-typed ``Satrec`` for screening: states of one object from its OEM (see module doc)."""

    def __init__(self, oem: Oem, norad_id: int, text: str = "") -> None:
        segs = oem.segments
        self.text = text
        self.satnum = int(norad_id)
        self.jdsatepoch, self.jdsatepochF = segs[0].jd()[0][0], segs[0].jd()[1][0]
        self.pieces = [_Piece(s, self.jdsatepoch, self.jdsatepochF, oem.source) for s in segs]
        # orbit shape from the first state (osculating, WGS-72 GM), in Satrec's units
        r0, v0 = self.pieces[0].r[0], self.pieces[0].v[0]
        rn, vn = float(np.linalg.norm(r0)), float(np.linalg.norm(v0))
        a_km = 1.0 / (2.0 / rn - vn * vn / GM_EARTH_WGS72_KM3_S2)
        h = np.cross(r0, v0)
        e_vec = np.cross(v0, h) / GM_EARTH_WGS72_KM3_S2 - r0 / rn
        self.a = a_km / EARTH_RADIUS_WGS72_KM if a_km > 0 else 100.0
        self.ecco = float(min(np.linalg.norm(e_vec), 0.999))
        self.no_kozai = math.sqrt(GM_EARTH_WGS72_KM3_S2 / abs(a_km) ** 3) * 60.0  # rad/min
        self.method = "d" if 2 * math.pi / self.no_kozai >= 225.0 else "n"
        self.object_name = segs[0].object_name
        self.object_id = segs[0].object_id

    @classmethod
    def from_text(cls, text: str, norad_id: int, source: str = "<oem>") -> EphemerisTrack:
        return cls(read_oem_kvn(text, source), norad_id, text)

    @property
    def span(self) -> tuple[float, float]:
        """First and last epoch, seconds after ``jdsatepoch + jdsatepochF``."""
        return float(self.pieces[0].t[0]), float(self.pieces[-1].t[-1])

    def _seconds(self, jd: np.ndarray, fr: np.ndarray) -> np.ndarray:
        return (np.asarray(jd, float) - self.jdsatepoch) * SECONDS_PER_DAY + (
            np.asarray(fr, float) - self.jdsatepochF
        ) * SECONDS_PER_DAY

    def sgp4_array(self, jd: np.ndarray, fr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(error (m,), r (m, 3), v (m, 3)) in TEME at UTC ``jd + fr``; error 8 outside the span."""
        t = np.atleast_1d(self._seconds(jd, fr))
        e = np.full(t.shape, OUTSIDE_EPHEMERIS, dtype=np.int64)
        r = np.full((*t.shape, 3), np.nan)
        v = np.full((*t.shape, 3), np.nan)
        for p in self.pieces:
            sel = p.covers(t) & (e != 0)
            if sel.any():
                r[sel], v[sel] = interpolate_states(p.t, p.r, p.v, t[sel], p.method, p.degree)
                e[sel] = 0
        return e, r, v

    def sgp4(self, jd: float, fr: float) -> tuple[int, tuple, tuple]:
        e, r, v = self.sgp4_array(np.array([jd]), np.array([fr]))
        return int(e[0]), tuple(r[0].tolist()), tuple(v[0].tolist())

    def covariance_rtn_m(self, jd: float, fr: float) -> tuple[np.ndarray, str] | None:
        """The OEM covariance nearest in time to ``jd + fr`` rotated to RTN (CDM units m, m/s),
        and a sentence saying which block it was; None when the OEM has no covariance."""
        t = float(self._seconds(jd, fr))
        best = None
        for p in self.pieces:
            if p.cov_t:
                k, m = interpolate_covariance(np.array(p.cov_t), np.array(p.cov), t)
                if best is None or abs(p.cov_t[k] - t) < abs(best[0]):
                    best = (p.cov_t[k] - t, m, p, k)
        if best is None:
            return None
        dt, m, p, k = best
        epoch, frame = p.cov_note[k]
        if frame in LOCAL:
            rot = np.eye(3)
        else:
            # the RTN axes of the interpolated state at the block's epoch, in the block's frame
            e, r_teme, v_teme = self.sgp4_array(
                np.array([self.jdsatepoch]), np.array([self.jdsatepochF + p.cov_t[k] / SECONDS_PER_DAY])
            )
            if e[0]:
                return None
            cj, cf = epoch_to_jd(epoch or "")
            r_f, v_f = from_teme(
                r_teme, v_teme, frame if frame in INERTIAL else p.frame, np.array([cj]), np.array([cf])
            )
            rot = rtn_basis(r_f[0], v_f[0])
        big = np.zeros((6, 6))
        big[:3, :3] = rot
        big[3:, 3:] = rot
        cov = big @ m @ big.T * 1e6  # km**2 -> m**2
        note = (
            f"owner/operator OEM covariance, block at {epoch} ({dt / 60.0:+.1f} min from TCA, nearest; "
            f"{'given in ' + frame if frame in LOCAL else 'rotated from ' + frame + ' to RTN'})"
        )
        return cov, note


def segment_from_teme(
    *,
    object_name: str,
    object_id: str,
    jd: np.ndarray,
    fr: np.ndarray,
    r_teme_km: np.ndarray,
    v_teme_km_s: np.ndarray,
    ref_frame: str = "EME2000",
    interpolation: str = "LAGRANGE",
    interpolation_degree: int = 7,
    comments: list[str] | None = None,
) -> OemSegment:
    """An OEM segment (UTC, Earth-centred) from TEME states ``(m, 3)`` at UTC ``jd + fr`` ``(m,)``,
    written in ``ref_frame`` (EME2000, GCRF, ICRF or TEME)."""
    jd = np.asarray(jd, float)
    fr = np.asarray(fr, float)
    r, v = from_teme(r_teme_km, v_teme_km_s, ref_frame, jd, fr)
    return OemSegment.from_arrays(
        object_name=object_name,
        object_id=object_id,
        jd=jd,
        fr=fr,
        r_km=r,
        v_km_s=v,
        ref_frame=ref_frame.upper(),
        interpolation=interpolation,
        interpolation_degree=interpolation_degree,
        comments=comments,
    )
