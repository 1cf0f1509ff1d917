// Collision avoidance for the selected event: the trade space of the avoidance API (Pc after a burn
// over lead time x |Δv|, for each of the four directions ±T, ±R) as an SVG heat map, with the
// recommended burn marked (its Pc verified numerically by the server). Planning is expensive (the
// server runs it in its job queue), so it runs when asked: the "plan" button puts the lead-time
// limit (and the thresholds) in the address (avoid, av_threshold, av_target), which also makes a
// reload or a shared link plan it again.
import { postJson, status } from "./api.js";
import { $, el, fill, svg } from "./dom.js";
import { update } from "./nav.js";

const BINS = [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-10]; // lower bounds of pc0..pc6; pc7 below the last
const loaded = { key: null, plan: null };

export function init() {
  $("#avoid-form").addEventListener("submit", (event) => {
    event.preventDefault();
    update({ avoid: $("#av-lead").value, av_threshold: $("#av-threshold").value, av_target: $("#av-target").value });
  });
  $("#av-direction").addEventListener("change", () => loaded.plan && draw(loaded.plan, $("#av-direction").value));
}

export function reset() {
  loaded.key = null;
  loaded.plan = null;
}

/** Called by the safety page after an event is shown (``event`` null: none selected). */
export async function show(run, event, params) {
  const lead = params.get("avoid");
  if (!event || !lead) {
    if (loaded.key !== null) clear(event);
    if (event && !lead) $("#avoid-title").textContent = `Collision avoidance of event ${event.id}: choose the limits and plan`;
    return;
  }
  const threshold = params.get("av_threshold") || "1e-4";
  const target = params.get("av_target") || "1e-6";
  const key = `${run}/${event.id}/${lead}/${threshold}/${target}`;
  if (loaded.key === key) return;
  loaded.key = key;
  $("#av-lead").value = lead;
  $("#av-threshold").value = threshold;
  $("#av-target").value = target;
  $("#avoid-title").textContent = `Collision avoidance of event ${event.id}: planning…`;
  status(`planning an avoidance maneuver for event ${event.id}…`);
  const plan = await postJson(`/api/v1/screening/runs/${run}/events/${event.id}/avoidance`, {
    max_lead_h: parseFloat(lead),
    threshold_pc: parseFloat(threshold),
    target_pc: parseFloat(target),
    rescreen: false,
  });
  if (loaded.key !== key) return; // another event or other limits meanwhile
  status("");
  loaded.plan = plan;
  const directions = plan.trade_space.directions;
  const best = recommendedDirection(plan);
  $("#av-direction").replaceChildren(...directions.map((d) => el("option", { value: d, text: `${d} burns` })));
  $("#av-direction").value = best ?? directions[0];
  $("#avoid-title").textContent = `Collision avoidance of event ${event.id}: ${plan.primary} away from ${plan.secondary}`;
  draw(plan, $("#av-direction").value);
  info(plan);
}

function clear(event) {
  loaded.key = null;
  loaded.plan = null;
  $("#avoid-title").textContent = event
    ? `Collision avoidance of event ${event.id}: choose the limits and plan`
    : "Collision avoidance: select an event (analyst or operator key)";
  $("#avoid-map").replaceChildren();
  $("#av-direction").replaceChildren();
  fill($("#avoid-info tbody"), []);
}

/** "+T", "-R", ... of the recommended burn's RTN Δv (one component is non-zero); null when none. */
function recommendedDirection(plan) {
  const dv = plan.recommended?.dv_m_s;
  if (!dv) return null;
  const k = dv.map(Math.abs).indexOf(Math.max(...dv.map(Math.abs)));
  return `${dv[k] >= 0 ? "+" : "-"}${"RTN"[k]}`;
}

function bin(pc) {
  const k = BINS.findIndex((lo) => pc >= lo);
  return k < 0 ? BINS.length : k;
}

/** Lead time (hours) across, |Δv| (m/s, logarithmic) up; one cell per grid point. */
function draw(plan, direction) {
  const ts = plan.trade_space;
  const a = ts.directions.indexOf(direction);
  const leads = ts.lead_time_s;
  const dvs = ts.dv_m_s;
  const [x0, x1, y0, y1] = [60, 540, 260, 20];
  const w = (x1 - x0) / leads.length;
  const h = (y0 - y1) / dvs.length;
  // lead times grow towards the left: the further from TCA, the further left (time runs to the right)
  const col = (i) => x1 - (i + 1) * w;
  const rowY = (j) => y0 - (j + 1) * h;
  const parts = [];
  leads.forEach((lead, i) => {
    dvs.forEach((dv, j) => {
      const pc = ts.pc[a][i][j];
      parts.push(
        svg("rect", { class: `cell pc${bin(pc)}`, x: col(i), y: rowY(j), width: w + 0.3, height: h + 0.3, "data-pc": pc }, [
          svg("title", { text: `${direction} ${(dv * 1000).toPrecision(3)} mm/s, ${(lead / 3600).toFixed(1)} h before TCA: Pc ${pc.toExponential(2)}` }),
        ]),
      );
    });
  });
  parts.push(
    svg("line", { class: "axis", x1: x0, y1: y0, x2: x1, y2: y0 }),
    svg("line", { class: "axis", x1: x0, y1: y1, x2: x0, y2: y0 }),
    svg("text", { x: x1, y: y0 + 14, "text-anchor": "end", text: `${(leads[0] / 3600).toFixed(1)} h` }),
    svg("text", { x: x0, y: y0 + 14, text: `${(leads[leads.length - 1] / 3600).toFixed(1)} h` }),
    svg("text", { x: (x0 + x1) / 2, y: y0 + 30, "text-anchor": "middle", text: "burn before TCA (hours)" }),
    svg("text", { x: x0 - 4, y: y0, "text-anchor": "end", text: `${dvs[0] * 1000} mm/s` }),
    svg("text", { x: x0 - 4, y: y1 + 8, "text-anchor": "end", text: `${dvs[dvs.length - 1]} m/s` }),
    svg("text", { x: 4, y: (y0 + y1) / 2, text: "|Δv|" }),
  );
  const rec = plan.recommended;
  if (rec && recommendedDirection(plan) === direction) {
    const i = nearest(leads, rec.lead_time_s);
    const mag = Math.hypot(...rec.dv_m_s);
    const j = nearest(dvs.map(Math.log), Math.log(mag));
    const cx = col(i) + w / 2;
    const cy = rowY(j) + h / 2;
    const d = 6;
    const cross = `M${cx - d},${cy - d}L${cx + d},${cy + d}M${cx - d},${cy + d}L${cx + d},${cy - d}`;
    parts.push(
      svg("path", { class: "recommended-halo", d: cross }),
      svg("path", { class: "recommended", d: cross, "data-lead": i, "data-dv": j }, [
        svg("title", {
          text: `recommended: ${direction} ${(mag * 1000).toPrecision(3)} mm/s, ${(rec.lead_time_s / 3600).toFixed(2)} h before TCA; Pc after ${rec.pc_after.toExponential(2)} (${rec.method})`,
        }),
      ]),
    );
  }
  $("#avoid-map").replaceChildren(...parts);
}

function nearest(values, v) {
  let best = 0;
  values.forEach((x, k) => {
    if (Math.abs(x - v) < Math.abs(values[best] - v)) best = k;
  });
  return best;
}

function info(plan) {
  const rec = plan.recommended;
  const facts = [
    ["Pc now", `${plan.pc_before.toExponential(2)} (miss ${plan.miss_before_km.toFixed(3)} km)`],
    ["needs action", plan.needs_action ? `yes: Pc ≥ ${plan.threshold_pc}` : `no: Pc below ${plan.threshold_pc}`],
    [
      "recommended burn",
      rec
        ? `${recommendedDirection(plan)} ${(Math.hypot(...rec.dv_m_s) * 1000).toPrecision(3)} mm/s at ${rec.epoch} ` +
          `(${(rec.lead_time_s / 3600).toFixed(2)} h before TCA)`
        : "none",
    ],
    ["after the burn", rec ? `Pc ${rec.pc_after.toExponential(2)} (${rec.method}), miss ${rec.miss_after_km.toFixed(3)} km` : "—"],
    ["grid", plan.trade_space.grid_pc_method],
  ];
  fill(
    $("#avoid-info tbody"),
    facts.map(([k, v]) => el("tr", {}, [el("th", { scope: "row", class: "key", text: k }), el("td", { text: v })])),
  );
}
