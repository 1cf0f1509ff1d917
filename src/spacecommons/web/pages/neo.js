// NEO watch: stored small-body orbits, close approaches of the listed ones (table and a
// distance-against-date plot) and the impact-monitoring risk list.
import { api, postJson, status } from "../api.js";
import { $, fill, num, row, svg } from "../dom.js";

let orbits = [];

export function init() {
  $("#neo-q").addEventListener("input", renderOrbits);
  $("#ca-run").addEventListener("click", () => approaches().catch((err) => console.warn(err)));
  $("#rk-run").addEventListener("click", () => risk().catch((err) => console.warn(err)));
}

export async function show() {
  orbits = await api("/api/v1/neo/orbits?limit=500");
  renderOrbits();
}

function listed() {
  const q = $("#neo-q").value.toLowerCase();
  return orbits.filter((o) => !q || `${o.designation} ${o.name}`.toLowerCase().includes(q));
}

function renderOrbits() {
  fill(
    $("#orbits tbody"),
    listed()
      .slice(0, 200)
      .map((o) =>
        row([
          o.designation,
          o.name,
          o.orbit_id,
          num(o.a_au?.toFixed(4)),
          num(o.e.toFixed(4)),
          num(o.i_deg.toFixed(2)),
          num(o.h_mag),
          o.has_covariance ? "yes" : "",
        ]),
      ),
  );
}

async function approaches() {
  const designations = listed()
    .slice(0, 50)
    .map((o) => o.designation);
  status(`computing close approaches of ${designations.length} objects…`);
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
  fill(
    $("#approaches tbody"),
    rows.map((r) => row([r.des, r.cd, num(r.dist.toFixed(6)), num(r.ld.toFixed(2)), num(r.v.toFixed(2))])),
  );
  drawTimeline(rows);
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
    svg("text", { x: 50, y: 196, text: `JD ${t0.toFixed(1)}` }),
    svg("text", { x: 420, y: 196, text: `JD ${t1.toFixed(1)}` }),
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
  if (!orbits.length) await show();
  const designations = orbits
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
    rows.map((r) =>
      row([
        r.fullname || r.des,
        r.range,
        num(r.n_imp),
        num(r.ip),
        num(r.ps_max),
        num(r.ts_max, parseInt(r.ts_max, 10) >= 1 ? "bad" : ""), // Torino 1 and above: red
        num(r.diameter),
        num(r.v_inf),
        num(r.h),
      ]),
    ),
  );
  status("");
}
