// Lunar data: a map of the Moon (the ingested global basemap, equirectangular, when one is
// readable) with each product's footprint from its bounding coordinates; a box dragged on the map
// filters the products (the API's bbox); product search; the selected product's metadata, files
// and preview beside the list; the payload registry with each mission's resource budgets.
//
// State in the address (nav.js): product (its LIDVID), box (west,south,east,north), and the
// search fields (target, instrument, level, q).
import { api, authHeaders } from "../api.js";
import { $, $$, el, fill, num, row, select, svg } from "../dom.js";
import { signature, update } from "../nav.js";

const SEARCH = [
  ["target", "#lx-target"],
  ["instrument", "#lx-instr"],
  ["level", "#lx-level"],
  ["q", "#lx-q"],
];
const W = 720; // the map: 2 px per degree, longitude -180..180 east, latitude 90..-90
const loaded = { payloads: null, list: null, products: [], product: null, basemap: null };
let drag = null;

/** Functions (product) -> node or null shown under a product's facts (licence and citation
 * panels, other helpers' additions). */
export const productExtras = [];

export function init() {
  $("#lx-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    update(Object.fromEntries(SEARCH.map(([field, input]) => [field, $(input).value.trim()])));
  });
  $("#map-clear").addEventListener("click", () => update({ box: null }));
  const map = $("#moon-map");
  map.addEventListener("pointerdown", (event) => {
    if (event.target.classList.contains("footprint")) return;
    drag = { from: lonLat(event), to: lonLat(event) };
    map.setPointerCapture(event.pointerId);
    drawBox(drag);
  });
  map.addEventListener("pointermove", (event) => {
    if (!drag) return;
    drag.to = lonLat(event);
    drawBox(drag);
  });
  map.addEventListener("pointerup", () => {
    if (!drag) return;
    const { from, to } = drag;
    drag = null;
    const [w, e] = [Math.min(from[0], to[0]), Math.max(from[0], to[0])];
    const [s, n] = [Math.min(from[1], to[1]), Math.max(from[1], to[1])];
    if (e - w < 1 || n - s < 1) return drawBox(null); // a click, not a box
    update({ box: [w, s, e, n].map((v) => v.toFixed(1)).join(",") });
  });
}

export function reset() {
  loaded.payloads = null;
  loaded.list = null;
  loaded.basemap = null;
}

/** Longitude and latitude (deg) under the pointer. */
function lonLat(event) {
  const box = $("#moon-map").getBoundingClientRect();
  const x = ((event.clientX - box.left) / box.width) * W;
  const y = ((event.clientY - box.top) / box.height) * 380;
  return [Math.min(Math.max(x / 2 - 180, -180), 180), Math.min(Math.max(90 - y / 2, -90), 90)];
}

export async function show(params) {
  if (!loaded.payloads) {
    loaded.payloads = await api("/api/v1/exchange/payloads");
    fill(
      $("#payloads tbody"),
      loaded.payloads.map((p) =>
        row([p.mission, p.name, p.instrument, num(p.mass_kg), num(p.power_w), num(p.data_rate_kbps), p.status]),
      ),
    );
    drawBudgets(loaded.payloads);
  }
  const list = signature(params, ["box", ...SEARCH.map(([f]) => f)]);
  if (loaded.list !== list) {
    loaded.list = list;
    await searchProducts(params);
  }
  const lidvid = params.get("product");
  for (const node of $$("#moon-map .footprint")) node.classList.toggle("sel", node.dataset.key === lidvid);
  const tr = lidvid ? $$("#products tbody tr").find((r) => r.dataset.key === lidvid) : null;
  if (tr) select(tr);
  if (lidvid && loaded.product?.lidvid !== lidvid) {
    const r = loaded.products.find((p) => p.lidvid === lidvid);
    if (r) await showProduct(r);
  }
}

async function searchProducts(params) {
  const query = new URLSearchParams();
  for (const [field, input] of SEARCH) {
    $(input).value = params.get(field) ?? "";
    if (params.get(field)) query.set(field, params.get(field));
  }
  const box = params.get("box");
  if (box) query.set("bbox", box);
  $("#map-box").textContent = box ? `box west,south,east,north = ${box}°` : "no box: all products";
  loaded.products = await api(`/api/v1/exchange/products?${query}`);
  fill(
    $("#products tbody"),
    loaded.products.map((r) =>
      row(
        [
          r.lidvid.split(":").slice(-3).join(":"),
          r.title,
          r.processing_level,
          (r.start ?? "").slice(0, 19),
          (r.public_release_at ?? "").slice(0, 10),
          num(r.files.length),
        ],
        () => update({ product: r.lidvid }),
        r.lidvid,
      ),
    ),
  );
  await drawMap(loaded.products, box);
}

/** The product's bounds as map rectangles (two when it crosses the 180° meridian). */
function rects(bounds) {
  let [west, east, north, south] = bounds;
  const wrap = (lon) => (lon > 180 ? lon - 360 : lon);
  if (east - west >= 359.9) [west, east] = [-180, 180];
  else [west, east] = [wrap(west), wrap(east)];
  const y = (lat) => (90 - lat) * 2;
  const r = (w, e) => ({ x: (w + 180) * 2, y: y(north), width: Math.max((e - w) * 2, 2), height: Math.max((north - south) * 2, 2) });
  return west <= east ? [r(west, east)] : [r(west, 180), r(-180, east)];
}

async function basemapUrl() {
  if (loaded.basemap !== null) return loaded.basemap;
  loaded.basemap = "";
  // a global image product: bounds all round the Moon, or none and "global" in its title (the
  // bundled sample, a USGS mosaic centred on longitude 0, -180..180 east)
  const all = await api("/api/v1/exchange/products?q=basemap");
  const global = (p) => (p.bounds ? p.bounds[1] - p.bounds[0] >= 359 : /global/i.test(p.title));
  const product = all.find((p) => global(p) && p.files.some((f) => f.media_type.startsWith("image/")));
  if (!product) return "";
  const image = product.files.find((f) => f.media_type.startsWith("image/"));
  const path = ["products", product.lid, product.vid, "files", image.name].map(encodeURIComponent).join("/");
  const response = await fetch(`/api/v1/exchange/${path}`, { headers: authHeaders() });
  if (response.ok) loaded.basemap = URL.createObjectURL(await response.blob());
  return loaded.basemap;
}

async function drawMap(products, box) {
  const map = $("#moon-map");
  const url = await basemapUrl();
  const parts = [
    url
      ? svg("image", { href: url, x: 0, y: 0, width: W, height: 360, preserveAspectRatio: "none", id: "moon-basemap" })
      : svg("rect", { class: "axis", x: 0, y: 0, width: W, height: 360 }),
  ];
  for (let lon = -120; lon <= 120; lon += 60) {
    parts.push(svg("line", { class: "grid", x1: (lon + 180) * 2, y1: 0, x2: (lon + 180) * 2, y2: 360 }));
    parts.push(svg("text", { x: (lon + 180) * 2 + 2, y: 374, text: `${lon}°` }));
  }
  for (const lat of [-60, -30, 0, 30, 60]) parts.push(svg("line", { class: "grid", x1: 0, y1: (90 - lat) * 2, x2: W, y2: (90 - lat) * 2 }));
  for (const p of products) {
    if (!p.bounds || p.bounds[1] - p.bounds[0] >= 359) continue; // global products cover the whole map
    for (const r of rects(p.bounds)) {
      const node = svg("rect", { class: "footprint", ...r, "data-key": p.lidvid, tabindex: 0, role: "button", "aria-label": `footprint of ${p.title}` }, [
        svg("title", { text: p.title }),
      ]);
      node.addEventListener("click", () => update({ product: p.lidvid }));
      node.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          update({ product: p.lidvid });
        }
      });
      parts.push(node);
    }
  }
  const boxNode = svg("rect", { class: "box", id: "map-drag", x: 0, y: 0, width: 0, height: 0 });
  if (box) {
    const [w, s, e, n] = box.split(",").map(Number);
    Object.entries({ x: (w + 180) * 2, y: (90 - n) * 2, width: (e - w) * 2, height: (n - s) * 2 }).forEach(([k, v]) => boxNode.setAttribute(k, v));
  }
  parts.push(boxNode);
  map.replaceChildren(...parts);
  map.dataset.footprints = String($$(".footprint", map).length);
}

function drawBox(d) {
  const node = $("#map-drag");
  if (!node) return;
  const [x0, y0] = d ? [(Math.min(d.from[0], d.to[0]) + 180) * 2, (90 - Math.max(d.from[1], d.to[1])) * 2] : [0, 0];
  const [w, h] = d ? [Math.abs(d.to[0] - d.from[0]) * 2, Math.abs(d.to[1] - d.from[1]) * 2] : [0, 0];
  for (const [k, v] of Object.entries({ x: x0, y: y0, width: w, height: h })) node.setAttribute(k, v);
}

/** Each mission's payloads: mass, power and data rate as bars, each scaled to its largest value. */
function drawBudgets(payloads) {
  const plot = $("#budgets");
  const measures = [
    ["mass_kg", "mass", "kg"],
    ["power_w", "power", "W"],
    ["data_rate_kbps", "rate", "kbit/s"],
  ];
  const max = Object.fromEntries(measures.map(([k]) => [k, Math.max(1e-9, ...payloads.map((p) => p[k] ?? 0))]));
  const missions = [...new Set(payloads.map((p) => p.mission))];
  const n = Math.max(payloads.length, 1);
  const slot = 560 / n;
  const parts = [svg("line", { class: "axis", x1: 60, y1: 160, x2: 630, y2: 160 })];
  measures.forEach(([, cls, unit], k) => {
    parts.push(svg("rect", { class: cls, x: 70 + k * 110, y: 4, width: 10, height: 10 }), svg("text", { x: 84 + k * 110, y: 13, text: `${cls} (${unit})` }));
  });
  let i = 0;
  for (const mission of missions) {
    const start = i;
    for (const p of payloads.filter((q) => q.mission === mission)) {
      const x = 64 + i * slot;
      const bw = Math.min((slot - 10) / 3, 30);
      measures.forEach(([k, cls, unit], m) => {
        const v = p[k];
        const h = v == null ? 0 : (v / max[k]) * 130;
        parts.push(
          svg("rect", { class: `budget ${cls}`, x: x + m * bw, y: 160 - h, width: bw - 2, height: Math.max(h, 0.5) }, [
            svg("title", { text: `${mission} ${p.name}: ${v ?? "—"} ${unit}` }),
          ]),
        );
      });
      parts.push(svg("text", { x, y: 174, text: p.name.slice(0, 14) }));
      i += 1;
    }
    parts.push(svg("text", { x: 64 + start * slot, y: 190, text: mission }));
  }
  parts.push(svg("text", { x: 2, y: 34, text: "max" }), svg("text", { x: 2, y: 164, text: "0" }));
  plot.replaceChildren(...parts);
}

async function showProduct(r) {
  loaded.product = r;
  $("#lx-title").textContent = r.title;
  const facts = [
    ["identifier", r.lidvid],
    ["target", r.target],
    ["instrument", r.instrument],
    ["processing level", r.processing_level],
    ["time", `${r.start ?? ""} – ${r.stop ?? ""}`],
    ["bounds W E N S", r.bounds ? r.bounds.join(", ") : "—"],
    ["licence", r.licence],
    ["citation", r.citation],
    ["partners from", r.partners_release_at],
    ["public from", r.public_release_at],
    ["withdrawn", r.withdrawn ? "yes" : "no"],
    ["origin", r.origin ?? "this node"],
  ];
  const files = r.files.length
    ? r.files.map((f) => row([f.name, num(f.size), `${f.sha256.slice(0, 16)}…`, f.md5]))
    : [row(["no files you may read (embargo, or none uploaded)"])];
  const head = el("thead", {}, [
    el("tr", {}, [el("th", { scope: "col", text: "file" }), el("th", { scope: "col", class: "num", text: "bytes" }), el("th", { scope: "col", text: "sha256" }), el("th", { scope: "col", text: "md5" })]),
  ]);
  const extras = (await Promise.all(productExtras.map((extra) => extra(r)))).filter(Boolean);
  $("#lx-detail").replaceChildren(
    el("table", {}, [el("tbody", {}, facts.map(([k, v]) => el("tr", {}, [el("th", { scope: "row", class: "key", text: k }), el("td", { text: v ?? "" })])))]),
    el("table", {}, [head, el("tbody", {}, files)]),
    ...extras,
  );
  const preview = $("#lx-preview");
  preview.textContent = "products with an image file show it here";
  const image = r.files.find((f) => f.media_type.startsWith("image/"));
  if (!image) return;
  const path = ["products", r.lid, r.vid, "files", image.name].map(encodeURIComponent).join("/");
  const response = await fetch(`/api/v1/exchange/${path}`, { headers: authHeaders() });
  if (!response.ok) return;
  const img = el("img", { id: "lx-image", alt: `${r.title}: ${image.name}`, src: URL.createObjectURL(await response.blob()) });
  preview.replaceChildren(img);
}
