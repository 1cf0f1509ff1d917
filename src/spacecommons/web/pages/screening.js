// Orbital safety: screening runs, their conjunction events (sortable, filterable), an event's
// RTN geometry, its CCSDS CDM and both trajectories on the globe.
import { api } from "../api.js";
import { $, $$, fill, num, row, svg } from "../dom.js";
import * as globe from "../globe.js";

const state = { run: null, events: [], sortKey: "miss_km", sortDir: 1, selected: null };

export function init() {
  globe.viewer().catch((err) => console.warn(err)); // start loading CesiumJS at once
  for (const th of $$("#events th")) {
    th.addEventListener("click", () => {
      state.sortDir = state.sortKey === th.dataset.k ? -state.sortDir : 1;
      state.sortKey = th.dataset.k;
      renderEvents();
    });
  }
  $("#f-apply").addEventListener("click", () => state.run !== null && loadEvents(state.run));
  $("#cdm-format").addEventListener("change", () => state.selected && showEvent(state.selected));
}

export async function show() {
  const runs = await api("/api/v1/screening/runs");
  fill(
    $("#runs tbody"),
    runs.map((r) =>
      row(
        [r.id, r.status, num(r.n_objects), num(r.n_events), r.visibility, r.created_at.slice(0, 19)],
        () => loadEvents(r.id),
      ),
    ),
  );
  if (runs.length && state.run === null) {
    $("#runs tbody tr").classList.add("sel");
    await loadEvents(runs[0].id);
  }
}

async function loadEvents(runId) {
  state.run = runId;
  const params = new URLSearchParams({ limit: "500" });
  if ($("#f-miss").value) params.set("max_miss_km", $("#f-miss").value);
  if ($("#f-obj").value) params.set("norad_id", $("#f-obj").value);
  state.events = await api(`/api/v1/screening/runs/${runId}/events?${params}`);
  $("#events-title").textContent = `Conjunction events of run ${runId} (${state.events.length})`;
  renderEvents();
  showCatalog().catch((err) => console.warn(err));
}

async function showCatalog() {
  if (!state.events.length || !(await globe.viewer())) return;
  const at = state.events.map((e) => e.tca).sort()[0];
  await globe.showCatalog(await api(`/api/v1/catalog/czml?at=${encodeURIComponent(at)}`));
}

function missClass(missKm) {
  return missKm < 1 ? "bad" : missKm < 2 ? "warn" : "";
}

function renderEvents() {
  const { sortKey, sortDir } = state;
  const sorted = [...state.events].sort((a, b) => ((a[sortKey] ?? -1) > (b[sortKey] ?? -1) ? 1 : -1) * sortDir);
  fill(
    $("#events tbody"),
    sorted.map((e) =>
      row(
        [
          e.tca.replace("T", " ").slice(0, 23),
          `${e.id1} ${e.name1}`,
          `${e.id2} ${e.name2}`,
          num(e.miss_km.toFixed(3), missClass(e.miss_km)),
          num(e.speed_km_s.toFixed(3)),
          num(e.pc == null ? "" : e.pc.toExponential(2), e.pc > 1e-4 ? "bad" : ""),
        ],
        () => showEvent(e),
      ),
    ),
  );
}

async function showEvent(e) {
  state.selected = e;
  drawRtn(e);
  const base = `/api/v1/screening/runs/${state.run}/events/${e.id}`;
  api(`${base}/czml`)
    .then(globe.showEvent)
    .catch((err) => console.warn(err));
  $("#event-info").textContent =
    `TCA ${e.tca} · miss ${e.miss_km.toFixed(3)} km · R ${e.r_km.toFixed(3)} / T ${e.t_km.toFixed(3)} / ` +
    `N ${e.n_km.toFixed(3)} km · ${e.kind}`;
  $("#cdm").textContent = "loading…";
  $("#cdm").textContent = await api(`${base}/cdm?format=${$("#cdm-format").value}`);
}

/** Object 2 relative to object 1 in two RTN planes (T-R and T-N), scaled to the miss vector. */
function drawRtn(e) {
  const m = Math.max(Math.abs(e.r_km), Math.abs(e.t_km), Math.abs(e.n_km), 0.01) * 1.3;
  const sx = (v) => 110 + (v / m) * 90;
  const sy = (v) => 110 - (v / m) * 90;
  const panel = (ox, a, b, la, lb) =>
    svg("g", { transform: `translate(${ox},0)` }, [
      svg("rect", { class: "axis", x: 20, y: 20, width: 180, height: 180 }),
      svg("line", { class: "axis", x1: 20, y1: 110, x2: 200, y2: 110 }),
      svg("line", { class: "axis", x1: 110, y1: 20, x2: 110, y2: 200 }),
      svg("circle", { class: "primary", cx: 110, cy: 110, r: 5 }),
      svg("circle", { class: "secondary", cx: sx(a), cy: sy(b), r: 5 }),
      svg("line", { class: "miss", x1: 110, y1: 110, x2: sx(a), y2: sy(b) }),
      svg("text", { x: 180, y: 106, text: la }),
      svg("text", { x: 114, y: 30, text: lb }),
    ]);
  $("#rtn").replaceChildren(panel(0, e.t_km, e.r_km, "T", "R"), panel(220, e.t_km, e.n_km, "T", "N"));
}
