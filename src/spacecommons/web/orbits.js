// Two-body positions for the orbit diagram: heliocentric ecliptic J2000 x, y (au) from Keplerian
// elements. Drawing only: the inner planets from JPL's "Keplerian Elements for Approximate
// Positions of the Major Planets" (E. M. Standish, Table 1, valid 1800-2050, a few arcminutes);
// a small body from its stored osculating elements, advanced with the Gaussian mean motion
// (k = 0.01720209895 rad/day, n = k / a^1.5). Dates are Julian dates (UTC and TDB differ by about
// a minute, nothing at this scale).

const DEG = Math.PI / 180;
const GAUSS_DEG_PER_DAY = 0.01720209895 / DEG;
export const J2000 = 2451545.0;

// a (au), e, I, L, long. perihelion, long. node (deg) at J2000 and their rates per Julian century
export const PLANETS = {
  Mercury: [[0.38709927, 0.20563593, 7.00497902, 252.2503235, 77.45779628, 48.33076593],
    [0.00000037, 0.00001906, -0.00594749, 149472.67411175, 0.16047689, -0.12534081]],
  Venus: [[0.72333566, 0.00677672, 3.39467605, 181.9790995, 131.60246718, 76.67984255],
    [0.0000039, -0.00004107, -0.0007889, 58517.81538729, 0.00268329, -0.27769418]],
  Earth: [[1.00000261, 0.01671123, -0.00001531, 100.46457166, 102.93768193, 0.0],
    [0.00000562, -0.00004392, -0.01294668, 35999.37244981, 0.32327364, 0.0]],
  Mars: [[1.52371034, 0.0933941, 1.84969142, -4.55343205, -23.94362959, 49.55953891],
    [0.00001847, 0.00007882, -0.00813131, 19140.30268499, 0.44441088, -0.29257343]],
};

function kepler(M, e) {
  let E = e < 0.8 ? M : Math.PI;
  for (let k = 0; k < 50; k++) {
    const dE = (E - e * Math.sin(E) - M) / (1 - e * Math.cos(E));
    E -= dE;
    if (Math.abs(dE) < 1e-12) break;
  }
  return E;
}

/** x, y (au) on the ecliptic of an orbit {a, e, i, node, peri} at eccentric anomaly E (radians). */
function place(o, E) {
  const xp = o.a * (Math.cos(E) - o.e);
  const yp = o.a * Math.sqrt(1 - o.e * o.e) * Math.sin(E);
  const [w, n, i] = [o.peri * DEG, o.node * DEG, o.i * DEG];
  const x = (Math.cos(w) * Math.cos(n) - Math.sin(w) * Math.sin(n) * Math.cos(i)) * xp +
    (-Math.sin(w) * Math.cos(n) - Math.cos(w) * Math.sin(n) * Math.cos(i)) * yp;
  const y = (Math.cos(w) * Math.sin(n) + Math.sin(w) * Math.cos(n) * Math.cos(i)) * xp +
    (-Math.sin(w) * Math.sin(n) + Math.cos(w) * Math.cos(n) * Math.cos(i)) * yp;
  return [x, y];
}

/** A planet's elements at a Julian date, with its mean anomaly (deg). */
export function planetElements(name, jd) {
  const [el0, rate] = PLANETS[name];
  const T = (jd - J2000) / 36525;
  const [a, e, i, L, varpi, node] = el0.map((v, k) => v + rate[k] * T);
  return { a, e, i, node, peri: varpi - node, M: L - varpi };
}

/** A stored orbit (API fields) as elements with its mean anomaly at ``jd``; null for open orbits. */
export function bodyElements(o, jd) {
  if (o.e >= 1) return null;
  const a = o.a_au ?? (o.q_au != null ? o.q_au / (1 - o.e) : null);
  if (a == null || o.om_deg == null || o.w_deg == null) return null;
  const n = GAUSS_DEG_PER_DAY / a ** 1.5;
  let M0 = o.ma_deg;
  if (M0 == null && o.tp_jd_tdb != null) M0 = n * (o.epoch_jd_tdb - o.tp_jd_tdb);
  if (M0 == null) return null;
  return { a, e: o.e, i: o.i_deg, node: o.om_deg, peri: o.w_deg, M: M0 + n * (jd - o.epoch_jd_tdb) };
}

export function position(elements) {
  const M = ((elements.M % 360) + 360) % 360;
  return place(elements, kepler(M * DEG, elements.e));
}

/** Points around the whole ellipse (for a path). */
export function ellipse(elements, n = 180) {
  return Array.from({ length: n + 1 }, (_, k) => place(elements, (2 * Math.PI * k) / n));
}

export const jdFromDate = (date) => date.getTime() / 86_400_000 + 2440587.5;
export const dateFromJd = (jd) => new Date((jd - 2440587.5) * 86_400_000);
