// NEO watch: the stored orbits (paged, sorted and filtered on the server), the selected object
// beside the list: its orbit solution and uncertainty, an orbit diagram (inner solar system from
// ecliptic north, drawn from the stored elements, positions on a chosen date, the Earth at each
// computed close approach), its close approaches (timeline and table), and the impact-monitoring
// risk list coloured by Torino level; the b-plane of a selected approach (the nominal point, its
// 1- and 3-sigma ellipses mapped from the orbit's covariance, the Earth and its capture disk).
//
// When the caller may see stored astrometry of the object: a button fits an orbit to it (the
// server's job queue; POST /neo/od/fit answers when the job is done) and plots the residuals;
// another predicts an imminent impact (POST /neo/od/impact-site) and, when the nominal orbit enters
// the atmosphere, draws its ground track, the labelled entry point and the entry region on a globe.
// #impact-card carries data-state (none | ready | running | done | error); #impact-globe, once drawn,
// data-entities, data-track-points and data-entry-label (read back from CesiumJS's entities).
//
// State in the address (nav.js): the filters, sort, order, after; object; date; approach (TCA, TDB JD).
import { api, apiPage, postJson, status } from "../api.js";
import * as globe from "../globe.js";
import { $, $$, el, fill, num, row, select, svg } from "../dom.js";
import { Pager, showSort, sortable } from "../listing.js";
import { signature, update } from "../nav.js";
import { bodyElements, dateFromJd, ellipse, jdFromDate, planetElements, position } from "../orbits.js";

const FILTERS = ["q", "class", "h_max", "moid_max_au"];
const LIST_KEYS = [...FILTERS, "sort", "order", "after"];
const PAGE = 50;
const CLASS_NAMES = { IEO: "Atira", ATE: "Aten", APO: "Apollo", AMO: "Amor", other: "other", HYP: "open" };
const loaded = { list: null, rows: [], object: null, approaches: [], bplane: null, fit: null };
let pager;

export function init() {
  sortable($("#orbits"));
  pager = new Pager($("#neo-pager"));
  $("#neo-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    const changes = { after: null };
    for (const input of $$("#neo-filters [name]")) changes[input.name] = input.value.trim();
    pager.reset();
    update(changes);
  });
  $("#od-date").addEventListener("change", () => update({ date: $("#od-date").value }));
  $("#ca-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (loaded.object) approaches([loaded.object.designation]).catch((err) => console.warn(err));
  });
  $("#ca-all").addEventListener("click", () =>
    approaches(loaded.rows.slice(0, 50).map((o) => o.designation)).catch((err) => console.warn(err)),
  );
  $("#rk-form").addEventListener("submit", (event) => {
    event.preventDefault();
    risk().catch((err) => console.warn(err));
  });
  $("#fit-run").addEventListener("click", () => {
    if (loaded.fit) runFit(loaded.fit).catch((err) => console.warn(err));
  });
  $("#impact-run").addEventListener("click", () => {
    if (loaded.fit) runImpact(loaded.fit).catch((err) => console.warn(err));
  });
}

export function reset() {
  loaded.list = null;
}

export async function show(params) {
  const list = signature(params, LIST_KEYS);
  if (loaded.list !== list) {
    loaded.list = list;
    await loadOrbits(params);
  }
  const des = params.get("object");
  const tr = des ? $$("#orbits tbody tr").find((r) => r.dataset.key === des) : null;
  if (tr) select(tr);
  if (!des) return;
  if (loaded.fit !== des) {
    loaded.fit = des;
    offerFit(des).catch((err) => console.warn(err));
  }
  if (loaded.object?.designation !== des) {
    const o = loaded.rows.find((r) => r.designation === des) ?? (await fetchOrbit(des));
    if (!o) {
      $("#object-title").textContent = `${des}: no stored orbit`;
      return;
    }
    loaded.object = o;
    loaded.approaches = [];
    showObject(o);
  }
  const date = params.get("date") || isoDate(dateFromJd(loaded.object.epoch_jd_tdb));
  $("#od-date").value = date;
  drawDiagram(loaded.object, jdFromDate(new Date(`${date}T00:00:00Z`)));
  const approach = params.get("approach");
  const approachRow = approach ? $$("#approaches tbody tr").find((r) => r.dataset.key === approach) : null;
  if (approachRow) select(approachRow);
  if (approach && loaded.bplane !== `${des}@${approach}`) {
    loaded.bplane = `${des}@${approach}`;
    await showBPlane(des, approach);
  } else if (!approach && loaded.bplane) {
    loaded.bplane = null;
    clearBPlane();
  }
}

async function fetchOrbit(des) {
  const found = await api(`/api/v1/neo/orbits?q=${encodeURIComponent(des)}&limit=100`);
  return found.find((o) => o.designation === des) ?? null;
}

const isoDate = (d) => d.toISOString().slice(0, 10);
const fixed = (v, digits) => (v == null ? "" : v.toFixed(digits));

async function loadOrbits(params) {
  const query = new URLSearchParams({ limit: String(PAGE) });
  for (const key of LIST_KEYS) if (params.get(key)) query.set(key, params.get(key));
  for (const input of $$("#neo-filters [name]")) input.value = params.get(input.name) ?? "";
  showSort($("#orbits"), params.get("sort") || "designation", params.get("order") || "asc");
  const page = await apiPage(`/api/v1/neo/orbits?${query}`);
  loaded.rows = page.rows;
  $("#orbits-title").textContent = `Stored small-body orbits (${page.total} match)`;
  pager.show(params.get("after"), page.rows.length, page.total, PAGE, page.next);
  fill(
    $("#orbits tbody"),
    page.rows.map((o) =>
      row(
        [
          o.designation,
          o.name,
          CLASS_NAMES[o.orbit_class] ?? "",
          num(fixed(o.a_au, 4)),
          num(o.e.toFixed(4)),
          num(o.i_deg.toFixed(2)),
          num(o.h_mag),
          num(fixed(o.moid_au, 5)),
          o.has_covariance ? "yes" : "",
        ],
        () => update({ object: o.designation, approach: null }),
        o.designation,
      ),
    ),
  );
}

function showObject(o) {
  $("#object-title").textContent = `${o.designation}${o.name ? ` (${o.name})` : ""}: ${CLASS_NAMES[o.orbit_class] ?? ""} orbit`;
  const facts = [
    ["orbit solution", o.orbit_id],
    ["epoch", `JD ${o.epoch_jd_tdb} TDB (${isoDate(dateFromJd(o.epoch_jd_tdb))})`],
    ["a / q", `${fixed(o.a_au, 6)} / ${fixed(o.q_au ?? (o.a_au ? o.a_au * (1 - o.e) : null), 6)} au`],
    ["e / i", `${o.e.toFixed(6)} / ${o.i_deg.toFixed(4)}°`],
    ["Ω / ω / M", `${fixed(o.om_deg, 4)}° / ${fixed(o.w_deg, 4)}° / ${fixed(o.ma_deg, 4)}°`],
    ["Earth MOID", o.moid_au == null ? "—" : `${o.moid_au} au`],
    ["H / diameter", `${o.h_mag ?? "—"} / ${o.diameter_km == null ? "—" : `${o.diameter_km} km`}`],
    [
      "uncertainty (1σ)",
      o.sigmas
        ? Object.entries(o.sigmas)
            .map(([k, v]) => `${k} ${v.toExponential(2)}`)
            .join(", ")
        : "no covariance stored",
    ],
  ];
  fill(
    $("#object-info tbody"),
    facts.map(([k, v]) => el("tr", {}, [el("th", { scope: "row", class: "key", text: k }), el("td", { text: v })])),
  );
  fill($("#approaches tbody"), []);
  $("#timeline").replaceChildren();
  loaded.bplane = null;
  clearBPlane();
}

function clearBPlane() {
  $("#bplane-title").textContent = "b-plane: select a close approach (analyst key)";
  $("#bplane").replaceChildren();
  fill($("#bplane-info tbody"), []);
}

async function showBPlane(des, jd) {
  $("#bplane-title").textContent = `b-plane of ${des} at JD ${jd} TDB: computing…`;
  status(`mapping the orbit's uncertainty of ${des} to the b-plane…`);
  const bp = await postJson("/api/v1/neo/bplane", { designation: des, jd_tdb: parseFloat(jd), body: "earth" });
  if (loaded.bplane !== `${des}@${jd}`) return; // another approach was selected meanwhile
  status("");
  const when = dateFromJd(bp.tca_jd_tdb).toISOString().slice(0, 16).replace("T", " ");
  $("#bplane-title").textContent = `b-plane of ${des}, approach of ${when} TDB`;
  drawBPlane(bp);
  const sigma = (n) => bp.ellipses.find((e) => e.n_sigma === n);
  const km = (v) => `${Math.round(v).toLocaleString("en")} km`;
  const rE = (v) => (v / bp.body_radius_km).toFixed(3);
  const facts = [
    ["ξ / ζ", `${km(bp.xi_km)} / ${km(bp.zeta_km)} (${rE(bp.xi_km)} / ${rE(bp.zeta_km)} R⊕)`],
    ["b (impact parameter)", `${km(bp.b_km)} (${rE(bp.b_km)} R⊕)`],
    ["closest distance", `${km(bp.distance_km)} from the centre`],
    ["v∞", `${bp.v_inf_km_s.toFixed(3)} km/s`],
    ["capture radius b⊕", `${km(bp.capture_radius_km)} (${rE(bp.capture_radius_km)} R⊕)`],
    [
      "1σ / 3σ ellipse",
      sigma(1)
        ? `${sigma(1).semi_major_km.toPrecision(3)} × ${sigma(1).semi_minor_km.toPrecision(3)} km / ` +
          `${sigma(3).semi_major_km.toPrecision(3)} × ${sigma(3).semi_minor_km.toPrecision(3)} km, ` +
          `major axis ${sigma(1).angle_deg.toFixed(1)}° from ξ`
        : "no covariance stored",
    ],
    ["verdict", bp.b_km < bp.capture_radius_km ? "nominal point inside the capture disk: impact" : "nominal point outside the capture disk: a miss"],
  ];
  fill(
    $("#bplane-info tbody"),
    facts.map(([k, v]) => el("tr", {}, [el("th", { scope: "row", class: "key", text: k }), el("td", { text: v })])),
  );
}

/** A round step for about ``count`` ticks over ``span``. */
function niceStep(span, count = 4) {
  const raw = span / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw);
}

/** The b-plane: ξ across, ζ up, in Earth radii; the Earth, the capture disk, the nominal point and
 * its ellipses (drawn to scale: an ellipse smaller than a pixel is named in a note). */
function drawBPlane(bp) {
  const R = bp.body_radius_km;
  const e3 = bp.ellipses.find((e) => e.n_sigma === 3);
  const b = Math.hypot(bp.xi_km, bp.zeta_km);
  const reach = (Math.max(b + (e3 ? e3.semi_major_km : 0), bp.capture_radius_km) * 1.15) / R; // R⊕ to the edge
  const s = 160 / reach; // px per Earth radius
  const X = (xi) => 180 + (xi / R) * s;
  const Y = (zeta) => 180 - (zeta / R) * s;
  const step = niceStep(reach);
  const parts = [
    svg("line", { class: "axis", x1: 10, y1: 180, x2: 350, y2: 180 }),
    svg("line", { class: "axis", x1: 180, y1: 10, x2: 180, y2: 350 }),
    svg("text", { x: 340, y: 174, "text-anchor": "end", text: "ξ" }),
    svg("text", { x: 186, y: 20, text: "ζ" }),
  ];
  for (let k = step; k < reach; k += step) {
    for (const sign of [1, -1]) {
      const px = sign * k * s;
      parts.push(svg("line", { class: "grid tick", x1: 180 + px, y1: 176, x2: 180 + px, y2: 184 }));
      parts.push(svg("line", { class: "grid tick", x1: 176, y1: 180 - px, x2: 184, y2: 180 - px }));
    }
    parts.push(svg("text", { x: 180 + k * s, y: 196, "text-anchor": "middle", text: `${k}` }));
  }
  parts.push(svg("text", { x: 350, y: 352, "text-anchor": "end", text: "Earth radii" }));
  parts.push(
    svg("circle", { class: "capture", cx: 180, cy: 180, r: (bp.capture_radius_km / R) * s }, [
      svg("title", { text: `capture disk, b⊕ = ${Math.round(bp.capture_radius_km)} km` }),
    ]),
    svg("circle", { class: "earth-disk", cx: 180, cy: 180, r: s }, [svg("title", { text: "the Earth" })]),
  );
  const cx = X(bp.xi_km);
  const cy = Y(bp.zeta_km);
  for (const e of [...bp.ellipses].sort((p, q) => q.n_sigma - p.n_sigma)) {
    parts.push(
      svg(
        "ellipse",
        {
          class: e.n_sigma === 1 ? "sigma1" : "sigma3",
          cx,
          cy,
          rx: (e.semi_major_km / R) * s,
          ry: (e.semi_minor_km / R) * s,
          transform: `rotate(${(-e.angle_deg).toFixed(3)} ${cx.toFixed(2)} ${cy.toFixed(2)})`, // SVG y points down
        },
        [svg("title", { text: `${e.n_sigma}σ: ${e.semi_major_km.toPrecision(3)} × ${e.semi_minor_km.toPrecision(3)} km` })],
      ),
    );
  }
  parts.push(svg("circle", { class: "nominal", cx, cy, r: 3 }, [svg("title", { text: "nominal" })]));
  if (e3 && (e3.semi_major_km / R) * s < 2) {
    parts.push(svg("text", { x: 10, y: 352, text: `3σ ellipse ${e3.semi_major_km.toPrecision(2)} km: under 2 px here` }));
  }
  $("#bplane").replaceChildren(...parts);
}

/** Inner solar system from ecliptic north: the Sun, Mercury to Mars, the object; positions at ``jd``. */
function drawDiagram(o, jd) {
  const body = bodyElements(o, jd);
  const reach = Math.min(Math.max(1.7, body ? body.a * (1 + body.e) * 1.05 : 1.7), 6);
  const s = 170 / reach;
  const X = (x) => 180 + x * s;
  const Y = (y) => 180 - y * s;
  const path = (pts) => pts.map(([x, y], k) => `${k ? "L" : "M"}${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join("") + "Z";
  const parts = [
    svg("line", { class: "grid", x1: 180, y1: 180, x2: 350, y2: 180 }),
    svg("text", { x: 322, y: 176, text: "♈︎ x" }),
    svg("circle", { class: "sun", cx: 180, cy: 180, r: 5 }, [svg("title", { text: "Sun" })]),
  ];
  for (const name of ["Mercury", "Venus", "Earth", "Mars"]) {
    const p = planetElements(name, jd);
    const [x, y] = position(p);
    parts.push(
      svg("path", { class: "planet-orbit", d: path(ellipse(p)) }),
      svg("circle", { class: `planet ${name.toLowerCase()}`, cx: X(x), cy: Y(y), r: 4, "data-name": name }, [
        svg("title", { text: name }),
      ]),
      svg("text", { x: X(x) + 6, y: Y(y) - 4, text: name }),
    );
  }
  if (body) {
    const [x, y] = position(body);
    parts.push(
      svg("path", { class: "object-orbit", d: path(ellipse(body)) }),
      svg("circle", { class: "object", cx: X(x), cy: Y(y), r: 4 }, [svg("title", { text: o.designation })]),
      svg("text", { x: X(x) + 6, y: Y(y) + 12, text: o.designation }),
    );
  }
  for (const a of loaded.approaches.filter((r) => r.des === o.designation)) {
    const [x, y] = position(planetElements("Earth", a.jd));
    parts.push(
      svg("circle", { class: "ca-earth", cx: X(x), cy: Y(y), r: 6 }, [
        svg("title", { text: `Earth at the approach of ${a.cd} (${a.ld.toFixed(2)} LD)` }),
      ]),
    );
  }
  parts.push(svg("text", { x: 6, y: 352, text: `${reach.toFixed(1)} au to the edge` }));
  $("#orbit-diagram").replaceChildren(...parts);
}

async function approaches(designations) {
  if (!designations.length) return;
  status(`computing close approaches of ${designations.length} object(s)…`);
  const res = await postJson("/api/v1/neo/approaches", {
    designations,
    start: $("#ca-start").value,
    end: $("#ca-end").value,
    max_dist_au: parseFloat($("#ca-max").value),
  });
  const at = Object.fromEntries(res.fields.map((f, i) => [f, i]));
  const rows = res.data.map((r) => ({
    des: r[at.des],
    jd: parseFloat(r[at.jd]),
    cd: r[at.cd],
    dist: parseFloat(r[at.dist]),
    ld: parseFloat(r[at.dist_ld]),
    v: parseFloat(r[at.v_rel]),
  }));
  loaded.approaches = rows;
  fill(
    $("#approaches tbody"),
    rows.map((r) =>
      row(
        [r.des, r.cd, num(r.dist.toFixed(6)), num(r.ld.toFixed(2)), num(r.v.toFixed(2))],
        () => update({ object: r.des, approach: r.jd.toFixed(6) }),
        r.jd.toFixed(6),
      ),
    ),
  );
  drawTimeline(rows);
  if (loaded.object) drawDiagram(loaded.object, jdFromDate(new Date(`${$("#od-date").value}T00:00:00Z`)));
  status("");
}

/** Distance in lunar distances against the date of closest approach, with the 1 LD line. */
function drawTimeline(rows) {
  const plot = $("#timeline");
  if (!rows.length) {
    plot.replaceChildren(svg("text", { x: 20, y: 100, text: "no approaches in the window" }));
    return;
  }
  const t0 = Math.min(...rows.map((r) => r.jd));
  const t1 = Math.max(...rows.map((r) => r.jd)) + 1e-6;
  const dmax = Math.max(...rows.map((r) => r.ld)) * 1.1;
  const x = (t) => 50 + ((t - t0) / (t1 - t0)) * 450;
  const y = (d) => 180 - (d / dmax) * 160;
  const parts = [
    svg("line", { class: "axis", x1: 50, y1: 180, x2: 500, y2: 180 }),
    svg("line", { class: "axis", x1: 50, y1: 20, x2: 50, y2: 180 }),
    svg("text", { x: 4, y: 24, text: `${dmax.toFixed(1)} LD` }),
    svg("text", { x: 4, y: 184, text: "0" }),
    svg("text", { x: 50, y: 196, text: isoDate(dateFromJd(t0)) }),
    svg("text", { x: 500, y: 196, "text-anchor": "end", text: isoDate(dateFromJd(t1)) }),
  ];
  if (dmax > 1) {
    parts.push(svg("line", { class: "limit", x1: 50, x2: 500, y1: y(1), y2: y(1) }));
    parts.push(svg("text", { x: 460, y: y(1) - 3, text: "1 LD" }));
  }
  for (const r of rows) {
    parts.push(
      svg("circle", { class: "primary", cx: x(r.jd), cy: y(r.ld), r: 4 }, [
        svg("title", { text: `${r.des} ${r.cd} ${r.ld.toFixed(2)} LD` }),
      ]),
    );
  }
  plot.replaceChildren(...parts);
}

async function risk() {
  const listed = await api("/api/v1/neo/orbits?limit=5000");
  const designations = listed
    .filter((o) => o.has_covariance)
    .slice(0, 10)
    .map((o) => o.designation);
  if (!designations.length) {
    status("no stored orbit has a covariance");
    return;
  }
  status(`impact monitoring of ${designations.join(", ")}…`);
  const rows = await postJson("/api/v1/neo/risk", {
    designations,
    horizon_years: parseFloat($("#rk-years").value),
    samples: parseInt($("#rk-samples").value, 10),
    method: $("#rk-method").value,
  });
  fill(
    $("#risk tbody"),
    rows.map((r) => {
      const torino = parseInt(r.ts_max, 10);
      const tr = row([r.fullname || r.des, r.range, num(r.n_imp), num(r.ip), num(r.ps_max), num(r.ts_max), num(r.diameter), num(r.v_inf), num(r.h)]);
      tr.classList.add(`torino-${Number.isFinite(torino) ? Math.min(Math.max(torino, 0), 10) : 0}`);
      return tr;
    }),
  );
  status("");
}

/** Offer the fit when the caller may see optical astrometry of ``des`` (the policy decides per row). */
async function offerFit(des) {
  const card = $("#fit-card");
  card.dataset.state = "none";
  $("#fit-run").hidden = true;
  $("#fit-progress").textContent = "";
  $("#residuals").replaceChildren();
  $("#fit-title").textContent = `Observation residuals of ${des}`;
  const impact = $("#impact-card");
  impact.dataset.state = "none";
  $("#impact-run").hidden = true;
  $("#impact-progress").textContent = "";
  $("#impact-title").textContent = `Imminent impact of ${des}`;
  fill($("#impact-info tbody"), []);
  if (globe.started("impact-globe")) {
    for (const key of ["entities", "trackPoints", "entryLabel"]) delete $("#impact-globe").dataset[key];
    globe.clearImpact().catch((err) => console.warn(err));
  }
  const rows = await api(`/api/v1/neo/observations/${encodeURIComponent(des)}?limit=20000`);
  if (loaded.fit !== des) return;
  const optical = rows.filter((r) => r.kind === "optical").length;
  if (!optical) {
    $("#fit-progress").textContent = "no stored optical astrometry of this object visible to you";
    return;
  }
  $("#fit-progress").textContent = `${optical} optical observations stored`;
  $("#fit-run").hidden = false;
  card.dataset.state = "ready";
  $("#impact-run").hidden = false;
  impact.dataset.state = "ready";
}

async function runFit(des) {
  const card = $("#fit-card");
  card.dataset.state = "running";
  $("#fit-run").disabled = true;
  $("#residuals").replaceChildren();
  $("#fit-progress").textContent = "fitting: initial orbit, then least squares over the whole arc (server job)…";
  try {
    const fit = await postJson("/api/v1/neo/od/fit", { designation: des });
    if (loaded.fit !== des) return; // another object was selected meanwhile
    const res = fit.residuals.optical;
    $("#fit-progress").textContent =
      `${fit.n_used} used, ${fit.n_rejected} rejected; RMS ${fit.rms_arcsec.toFixed(3)}″, ` +
      `normalized RMS ${fit.normalized_rms.toFixed(2)}; converged ${fit.converged ? "yes" : "no"}`;
    drawResiduals(res);
    card.dataset.residuals = String(res.length);
    card.dataset.state = "done";
  } catch (err) {
    if (loaded.fit === des) {
      $("#fit-progress").textContent = `the fit failed: ${err.message}`;
      card.dataset.state = "error";
    }
    throw err;
  } finally {
    $("#fit-run").disabled = false;
  }
}

/** Two panels against time: RA·cos Dec and Dec residuals (arcsec), a zero line each; used points
 * filled, rejected hollow. The scale follows the used points; a rejected point beyond it sits on the
 * panel's edge (its value in its tooltip). */
function drawResiduals(res) {
  const t = res.map((r) => Date.parse(r.utc));
  const t0 = Math.min(...t);
  const t1 = Math.max(...t);
  const L = 60;
  const W = 450; // plot width, px
  const X = (v) => L + (t1 > t0 ? ((v - t0) / (t1 - t0)) * W : W / 2);
  const parts = [];
  const panels = [
    ["dra_arcsec", "RA·cos Dec", 12, "resid-ra"],
    ["ddec_arcsec", "Dec", 142, "resid-dec"],
  ];
  for (const [key, name, top, id] of panels) {
    const h = 110;
    const used = res.filter((r) => r.used).map((r) => Math.abs(r[key]));
    const reach = Math.max(...(used.length ? used : res.map((r) => Math.abs(r[key]))), 0.01) * 1.15;
    const Y = (v) => top + h / 2 - (Math.max(-reach, Math.min(reach, v)) / reach) * (h / 2);
    const step = niceStep(reach, 2);
    const g = svg("g", { id });
    g.append(
      svg("rect", { class: "axis", x: L, y: top, width: W, height: h }),
      svg("line", { class: "zero", x1: L, y1: Y(0), x2: L + W, y2: Y(0) }),
      svg("text", { x: 12, y: top + h / 2, transform: `rotate(-90 12 ${top + h / 2})`, "text-anchor": "middle", text: `${name} (″)` }),
    );
    for (let k = -Math.floor(reach / step) * step; k <= reach; k += step) {
      const label = Math.abs(k) < step / 2 ? "0" : `${+k.toPrecision(3)}`;
      g.append(
        svg("line", { class: "grid tick", x1: L - 4, y1: Y(k), x2: L, y2: Y(k) }),
        svg("text", { x: L - 6, y: Y(k) + 4, "text-anchor": "end", text: label }),
      );
    }
    res.forEach((r, i) => {
      g.append(
        svg("circle", { class: `res ${r.used ? "used" : "rejected"}`, cx: X(t[i]).toFixed(2), cy: Y(r[key]).toFixed(2), r: 2.5 }, [
          svg("title", { text: `${r.utc} ${r.station ?? ""}: ${r[key].toFixed(3)}″${r.used ? "" : " (rejected)"}` }),
        ]),
      );
    });
    parts.push(g);
  }
  const day = (v) => new Date(v).toISOString().slice(0, 16).replace("T", " ");
  parts.push(
    svg("text", { x: L, y: 270, text: day(t0) }),
    svg("text", { x: L + W, y: 270, "text-anchor": "end", text: day(t1) }),
    svg("text", { x: L + W / 2, y: 290, "text-anchor": "middle", text: `time (UTC), ${((t1 - t0) / 86400000).toFixed(1)} days` }),
  );
  $("#residuals").replaceChildren(...parts);
}

/** "21.089° N, 30.532° E" */
const latLon = (lat, lon) =>
  `${Math.abs(lat).toFixed(3)}° ${lat < 0 ? "S" : "N"}, ${Math.abs(lon).toFixed(3)}° ${lon < 0 ? "W" : "E"}`;

async function runImpact(des) {
  const card = $("#impact-card");
  card.dataset.state = "running";
  $("#impact-run").disabled = true;
  fill($("#impact-info tbody"), []);
  $("#impact-progress").textContent = "fitting the orbit, then following virtual asteroids to the atmosphere (server job)…";
  try {
    const r = await postJson("/api/v1/neo/od/impact-site", { designation: des });
    if (loaded.fit !== des) return; // another object was selected meanwhile
    showImpactFacts(r);
    $("#impact-progress").textContent = r.entry_utc ? "" : "no impact likely within the horizon: nothing to draw";
    for (const key of ["entities", "trackPoints", "entryLabel"]) delete $("#impact-globe").dataset[key];
    if (!r.ground_track && globe.started("impact-globe")) await globe.clearImpact(); // an earlier run's track
    if (r.ground_track) {
      const source = await globe.showImpact(impactCzml(des, r));
      if (source && loaded.fit === des) {
        const now = window.Cesium.JulianDate.now();
        const g = $("#impact-globe");
        g.dataset.trackPoints = String(source.entities.getById("track").polyline.positions.getValue(now).length);
        g.dataset.entryLabel = source.entities.getById("entry").label.text.getValue(now);
        g.dataset.entities = String(source.entities.values.length);
      }
    }
    card.dataset.state = "done";
  } catch (err) {
    if (loaded.fit === des) {
      $("#impact-progress").textContent = `the prediction failed: ${err.message}`;
      card.dataset.state = "error";
    }
    throw err;
  } finally {
    $("#impact-run").disabled = false;
  }
}

function showImpactFacts(r) {
  const [lo, hi] = r.impact_probability_ci95;
  const facts = [
    ["impact probability", `${r.impact_probability.toPrecision(3)} (95 % ${lo.toPrecision(3)}–${hi.toPrecision(3)}, ${r.samples} virtual asteroids)`],
  ];
  if (r.entry_utc) {
    facts.push(
      ["entry (100 km)", `${r.entry_utc} at ${latLon(r.entry_lat_deg, r.entry_lon_deg)}`],
      ["entry 1σ", r.entry_sigma_km == null ? "too few entering samples" : `${r.entry_sigma_km.toFixed(2)} km, ${r.entry_sigma_s.toFixed(2)} s`],
    );
  }
  const ellipses = r.entry_region?.ellipses ?? [];
  if (ellipses.length) {
    const axes = ellipses.map((e) => `${e.n_sigma}σ ${e.semi_major_km.toPrecision(3)} × ${e.semi_minor_km.toPrecision(3)} km`);
    facts.push(["entry region", `${axes.join(", ")}; major axis ${ellipses[0].azimuth_deg.toFixed(1)}° east of north`]);
  }
  const track = r.ground_track;
  if (track?.length) {
    const [a, b] = [track[0], track[track.length - 1]];
    const end = r.ground_track_end === "surface" ? "meets the ground" : "still above the ground at the window's end";
    facts.push([
      "ground track",
      `${track.length} points, ${a.utc} (${a.alt_km.toFixed(0)} km) to ${b.utc} at ${latLon(b.lat_deg, b.lon_deg)}: ` +
        `the ballistic path ${end} (below 100 km no drag: the real body stops short)`,
    ]);
  }
  fill(
    $("#impact-info tbody"),
    facts.map(([k, v]) => el("tr", {}, [el("th", { scope: "row", class: "key", text: k }), el("td", { text: v })])),
  );
}

const ORANGE = [255, 140, 60, 255];
const YELLOW = [255, 230, 80, 255];
const SIGMA_COLOURS = { 1: [255, 80, 80, 255], 2: [255, 150, 80, 230], 3: [255, 210, 120, 200] };

/** A CZML document of the prediction: the ground track (heights in metres), the entry point with
 * its label, the ballistic end, the entry region's ellipses and sampled entries at 100 km. */
export function impactCzml(des, r) {
  const M = 1000;
  const h = (r.entry_height_km ?? 100) * M;
  const track = r.ground_track;
  const end = track[track.length - 1];
  const label = (text, color) => ({
    text,
    font: "13px sans-serif",
    fillColor: { rgba: color },
    outlineColor: { rgba: [0, 0, 0, 255] },
    outlineWidth: 2,
    style: "FILL_AND_OUTLINE",
    pixelOffset: { cartesian2: [12, -6] },
    horizontalOrigin: "LEFT",
    verticalOrigin: "BOTTOM",
  });
  const doc = [
    { id: "document", name: `${des}: predicted ground track`, version: "1.0" },
    {
      id: "track",
      name: `${des} nominal trajectory over the ground`,
      polyline: {
        positions: { cartographicDegrees: track.flatMap((p) => [p.lon_deg, p.lat_deg, p.alt_km * M]) },
        width: 3,
        arcType: "NONE",
        material: { solidColor: { color: { rgba: ORANGE } } },
      },
    },
    {
      id: "entry",
      name: "atmospheric entry (100 km)",
      position: { cartographicDegrees: [r.entry_lon_deg, r.entry_lat_deg, h] },
      point: { pixelSize: 9, color: { rgba: YELLOW }, outlineColor: { rgba: [0, 0, 0, 255] }, outlineWidth: 1 },
      label: label(`entry 100 km\n${r.entry_utc}\n${latLon(r.entry_lat_deg, r.entry_lon_deg)}`, YELLOW),
    },
    {
      id: "end",
      name: r.ground_track_end === "surface" ? "the ballistic path meets the ground (no drag)" : "end of the window",
      position: { cartographicDegrees: [end.lon_deg, end.lat_deg, Math.max(end.alt_km, 0) * M] },
      point: { pixelSize: 6, color: { rgba: ORANGE } },
      label: { ...label("ballistic end (no drag)", ORANGE), pixelOffset: { cartesian2: [12, 6] }, verticalOrigin: "TOP" },
    },
  ];
  for (const e of r.entry_region?.ellipses ?? []) {
    doc.push({
      id: `sigma-${e.n_sigma}`,
      name: `entry region ${e.n_sigma}σ: ${e.semi_major_km.toPrecision(3)} × ${e.semi_minor_km.toPrecision(3)} km`,
      polyline: {
        positions: { cartographicDegrees: e.outline_lat_deg.flatMap((lat, k) => [e.outline_lon_deg[k], lat, h]) },
        width: 2,
        arcType: "NONE",
        material: { solidColor: { color: { rgba: SIGMA_COLOURS[e.n_sigma] ?? ORANGE } } },
      },
    });
  }
  (r.entry_region?.points ?? []).forEach((p, k) =>
    doc.push({
      id: `sample-${k}`,
      name: `sampled entry ${p.utc}`,
      position: { cartographicDegrees: [p.lon_deg, p.lat_deg, h] },
      point: { pixelSize: 3, color: { rgba: [255, 255, 255, 200] } },
    }),
  );
  return doc;
}
