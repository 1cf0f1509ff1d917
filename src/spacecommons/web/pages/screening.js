// Orbital safety: screening runs; a run's summary (events by miss-distance and Pc band, per hour
// of TCA, the objects in most events); its conjunction events, paged, sorted and filtered on the
// server; the selected event beside the list: facts with Pc, method and flags, RTN geometry, both
// trajectories on the globe, the CCSDS CDM (shown, and downloadable as KVN or XML), and on request
// the avoidance heat map with the recommended burn (avoidance.js).
//
// State in the address (nav.js): run, event, sort, order, after, limit and the filters; avoid,
// av_threshold, av_target (the avoidance plan asked for).
import { api, apiPage, download } from "../api.js";
import * as avoidance from "../avoidance.js";
import { $, $$, el, fill, num, row, select, svg } from "../dom.js";
import * as globe from "../globe.js";
import { Pager, showSort, sortable } from "../listing.js";
import { signature, update } from "../nav.js";

const FILTERS = ["max_miss_km", "min_pc", "norad_id", "name", "regime", "tca_from", "tca_to"];
const LIST_KEYS = ["run", ...FILTERS, "sort", "order", "after", "limit"];
const loaded = { runs: null, summaryRun: null, list: null, event: null, rows: [], catalogAt: null };
let pager;

/** Functions (run id, event) -> a node or null, drawn below the event's facts: the place for what
 * later issues add to an event (an avoidance heat map, a recommended maneuver). */
export const eventExtras = [];

export function init() {
  avoidance.init();
  sortable($("#events"), { pc: "desc" });
  pager = new Pager($("#ev-pager"));
  $("#ev-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    const changes = { after: null, event: null };
    for (const input of $$("#ev-filters [name]")) changes[input.name] = input.value.trim();
    pager.reset();
    update(changes);
  });
  $("#f-clear").addEventListener("click", () => {
    pager.reset();
    update(Object.fromEntries([...FILTERS, "after", "event"].map((k) => [k, null])));
  });
  $("#ev-limit").addEventListener("change", () => {
    pager.reset();
    update({ limit: $("#ev-limit").value, after: null });
  });
  $("#cdm-format").addEventListener("change", () => loaded.event && showCdm(loaded.event));
  $("#cdm-kvn").addEventListener("click", () => saveCdm("kvn"));
  $("#cdm-xml").addEventListener("click", () => saveCdm("xml"));
}

export function reset() {
  loaded.runs = null;
  loaded.summaryRun = null;
  loaded.list = null;
  loaded.event = null;
  avoidance.reset();
}

export async function show(params) {
  // the runs and the first page are asked for at once: a linked run does not wait for the list of runs
  const runs = loaded.runs ? null : loadRuns();
  const run = params.get("run");
  if (!run) {
    await runs;
    if (loaded.runs.length) update({ run: loaded.runs[0].id }, true); // the newest run, without a history entry
    return;
  }
  const work = [runs];
  let rows = Promise.resolve();
  const list = signature(params, LIST_KEYS);
  if (loaded.list !== list) {
    loaded.list = list;
    rows = loadEvents(params);
    work.push(rows.then(startGlobe));
  }
  if (loaded.summaryRun !== run) {
    // the summary reads every event of the run (seconds for 10^5 events, the first time): it is
    // asked for once the first rows are on the page, and nothing waits for it
    loaded.summaryRun = run;
    rows
      .catch(() => null)
      .then(() => loadSummary(run))
      .catch((err) => console.warn(err));
  }
  await Promise.all(work);
  const runRow = $(`#runs tbody tr[data-key="${run}"]`);
  if (runRow) select(runRow);
  await showSelected(params.get("event"), run);
  avoidance.show(run, params.get("event") ? loaded.event : null, params).catch((err) => console.warn(err));
}

/** CesiumJS is large: it loads once the first rows are on the page, not before. */
function startGlobe() {
  globe
    .viewer()
    .then(() => loaded.catalogAt && showCatalog(loaded.catalogAt))
    .catch((err) => console.warn(err));
}

async function loadRuns() {
  loaded.runs = await api("/api/v1/screening/runs");
  fill(
    $("#runs tbody"),
    loaded.runs.map((r) =>
      row(
        [r.id, r.status, num(r.n_objects), num(r.n_events), r.visibility, r.created_at.slice(0, 19).replace("T", " ")],
        () => {
          pager.reset();
          update({ run: r.id, event: null, after: null });
        },
        r.id,
      ),
    ),
  );
}

async function loadSummary(run) {
  const s = await api(`/api/v1/screening/runs/${run}/summary`);
  $("#summary-title").textContent =
    `Run ${run}: ${s.n_events} events` + (s.tca_first ? `, TCA ${s.tca_first.slice(0, 16)} to ${s.tca_last.slice(0, 16)} UTC` : "");
  bars($("#miss-bands"), s.miss_bands, (b, k) => (k === 0 ? "bad" : k < 3 ? "warn" : ""));
  bars($("#pc-bands"), s.pc_bands, (b, k) => (k === 4 ? "bad" : k === 3 ? "warn" : ""));
  perHour($("#per-hour"), s.per_hour);
  fill(
    $("#top-objects tbody"),
    s.top_objects.map((o) =>
      row(
        [`${o.norad_id} ${o.name}`, num(o.events), num(o.min_miss_km.toFixed(3))],
        () => {
          pager.reset();
          update({ norad_id: o.norad_id, after: null, event: null });
        },
        o.norad_id,
      ),
    ),
  );
  loaded.catalogAt = s.tca_first;
  if (s.tca_first && globe.started()) showCatalog(s.tca_first).catch((err) => console.warn(err));
}

/** A bar per band, with its count above it. */
function bars(plot, bands, tone) {
  const max = Math.max(1, ...bands.map((b) => b.count));
  const w = 240 / bands.length;
  const parts = [svg("line", { class: "axis", x1: 10, y1: 100, x2: 250, y2: 100 })];
  bands.forEach((b, k) => {
    const h = (b.count / max) * 80;
    const x = 10 + k * w;
    parts.push(
      svg("rect", { class: `bar ${tone(b, k)}`.trim(), x: x + 4, y: 100 - h, width: w - 8, height: Math.max(h, 0.5) }, [
        svg("title", { text: `${b.band}: ${b.count}` }),
      ]),
      svg("text", { x: x + w / 2, y: 96 - h, "text-anchor": "middle", text: b.count }),
      svg("text", { x: x + w / 2, y: 116, "text-anchor": "middle", text: b.band }),
    );
  });
  plot.replaceChildren(...parts);
}

function perHour(plot, hours) {
  if (!hours.length) {
    plot.replaceChildren(svg("text", { x: 10, y: 60, text: "no events" }));
    return;
  }
  const t0 = Date.parse(hours[0].hour);
  const span = Math.max(1, (Date.parse(hours[hours.length - 1].hour) - t0) / 3_600_000 + 1);
  const max = Math.max(...hours.map((h) => h.count));
  const w = 500 / span;
  const parts = [
    svg("line", { class: "axis", x1: 30, y1: 100, x2: 530, y2: 100 }),
    svg("text", { x: 2, y: 24, text: max }),
    svg("text", { x: 30, y: 114, text: hours[0].hour.slice(0, 13).replace("T", " ") + "h" }),
    svg("text", { x: 530, y: 114, "text-anchor": "end", text: hours[hours.length - 1].hour.slice(0, 13).replace("T", " ") + "h" }),
  ];
  for (const h of hours) {
    const x = 30 + ((Date.parse(h.hour) - t0) / 3_600_000) * w;
    const all = (h.count / max) * 80;
    const close = (h.under_1km / max) * 80;
    parts.push(
      svg("rect", { class: "bar", x, y: 100 - all, width: Math.max(w - 1, 0.6), height: all }, [
        svg("title", { text: `${h.hour}: ${h.count} events, ${h.under_1km} under 1 km` }),
      ]),
    );
    if (close > 0) parts.push(svg("rect", { class: "bar bad", x, y: 100 - close, width: Math.max(w - 1, 0.6), height: close }));
  }
  plot.replaceChildren(...parts);
}

async function loadEvents(params) {
  const run = params.get("run");
  const query = new URLSearchParams();
  for (const key of [...FILTERS, "sort", "order", "after"]) if (params.get(key)) query.set(key, params.get(key));
  const limit = params.get("limit") || "50";
  query.set("limit", limit);
  for (const input of $$("#ev-filters [name]")) input.value = params.get(input.name) ?? "";
  if (![...$("#ev-limit").options].some((o) => o.value === limit)) $("#ev-limit").append(el("option", { text: limit }));
  $("#ev-limit").value = limit;
  const sort = params.get("sort") || "miss_km";
  showSort($("#events"), sort, params.get("order") || (sort === "pc" ? "desc" : "asc"));
  const page = await apiPage(`/api/v1/screening/runs/${run}/events?${query}`);
  loaded.rows = page.rows;
  $("#events-title").textContent = `Conjunction events of run ${run} (${page.total} match)`;
  pager.show(params.get("after"), page.rows.length, page.total, parseInt(limit, 10), page.next);
  fill(
    $("#events tbody"),
    page.rows.map((e) =>
      row(
        [
          e.tca.replace("T", " ").slice(0, 23),
          `${e.id1} ${e.name1}`,
          `${e.id2} ${e.name2}`,
          num(e.miss_km.toFixed(3), missClass(e.miss_km)),
          num(e.speed_km_s.toFixed(3)),
          num(e.pc == null ? "" : e.pc.toExponential(2), e.pc > 1e-4 ? "bad" : ""),
        ],
        () => update({ event: e.id, avoid: null }), // another event: its avoidance is planned when asked
        e.id,
      ),
    ),
  );
}

async function showCatalog(at) {
  if (!(await globe.viewer())) return;
  await globe.showCatalog(await api(`/api/v1/catalog/czml?at=${encodeURIComponent(at)}`));
}

function missClass(missKm) {
  return missKm < 1 ? "bad" : missKm < 2 ? "warn" : "";
}

async function showSelected(eventId, run) {
  const tr = eventId ? $(`#events tbody tr[data-key="${eventId}"]`) : null;
  if (tr) select(tr);
  if (!eventId) {
    loaded.event = null;
    return;
  }
  if (loaded.event && String(loaded.event.id) === eventId && loaded.event.run === run) return;
  const e = loaded.rows.find((r) => String(r.id) === eventId) ?? (await api(`/api/v1/screening/runs/${run}/events/${eventId}`));
  loaded.event = { ...e, run };
  showEvent(loaded.event);
}

function showEvent(e) {
  $("#event-title").textContent = `Event ${e.id}: ${e.name1} (${e.id1}) and ${e.name2} (${e.id2})`;
  drawRtn(e);
  const flags = e.pc == null ? ["no Pc computed for this event"] : [];
  for (const f of e.pc_flags ?? []) flags.push(f); // validity flags, when the API gives them
  const facts = [
    ["TCA (UTC)", e.tca],
    ["miss distance", `${e.miss_km.toFixed(3)} km`],
    ["R / T / N", `${e.r_km.toFixed(3)} / ${e.t_km.toFixed(3)} / ${e.n_km.toFixed(3)} km`],
    ["relative speed", `${e.speed_km_s.toFixed(3)} km/s`],
    ["kind", `${e.kind}, ${e.n_minima} minim${e.n_minima === 1 ? "um" : "a"}`],
    ["Pc", e.pc == null ? "—" : e.pc.toExponential(3)],
    ["Pc method", e.pc_method ?? "—"],
    ["flags", flags.join("; ") || "none"],
  ];
  fill(
    $("#event-info tbody"),
    facts.map(([k, v]) => el("tr", {}, [el("th", { scope: "row", class: "key", text: k }), el("td", { text: v })])),
  );
  const base = `/api/v1/screening/runs/${e.run}/events/${e.id}`;
  api(`${base}/czml`)
    .then(globe.showEvent)
    .catch((err) => console.warn(err));
  showCdm(e).catch((err) => console.warn(err));
  Promise.all(eventExtras.map((extra) => extra(e.run, e)))
    .then((nodes) => $("#event-extras").replaceChildren(...nodes.filter(Boolean)))
    .catch((err) => console.warn(err));
}

async function showCdm(e) {
  $("#cdm").textContent = "loading…";
  $("#cdm").textContent = await api(`/api/v1/screening/runs/${e.run}/events/${e.id}/cdm?format=${$("#cdm-format").value}`);
}

function saveCdm(format) {
  const e = loaded.event;
  if (!e) return;
  const name = `cdm_run${e.run}_event${e.id}.${format === "kvn" ? "txt" : "xml"}`;
  download(`/api/v1/screening/runs/${e.run}/events/${e.id}/cdm?format=${format}`, name).catch((err) => console.warn(err));
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
      svg("text", { x: 24, y: 214, text: `±${m.toFixed(2)} km` }),
    ]);
  $("#rtn").replaceChildren(panel(0, e.t_km, e.r_km, "T", "R"), panel(220, e.t_km, e.n_km, "T", "N"));
}
