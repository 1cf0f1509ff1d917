// Lunar data: the payload registry, product search, a product's metadata and files, and the
// preview of its first image file.
import { api, authHeaders } from "../api.js";
import { $, el, fill, num, row } from "../dom.js";

export function init() {
  $("#lx-search").addEventListener("click", () => searchProducts().catch((err) => console.warn(err)));
}

export async function show() {
  const payloads = await api("/api/v1/exchange/payloads");
  fill(
    $("#payloads tbody"),
    payloads.map((p) => row([p.mission, p.name, p.instrument, num(p.mass_kg), num(p.power_w), p.status])),
  );
  await searchProducts();
}

async function searchProducts() {
  const params = new URLSearchParams();
  for (const [field, input] of [
    ["target", "#lx-target"],
    ["instrument", "#lx-instr"],
    ["level", "#lx-level"],
    ["q", "#lx-q"],
  ]) {
    if ($(input).value) params.set(field, $(input).value);
  }
  const products = await api(`/api/v1/exchange/products?${params}`);
  fill(
    $("#products tbody"),
    products.map((r) =>
      row(
        [
          r.lidvid.split(":").slice(-3).join(":"),
          r.title,
          r.processing_level,
          (r.start ?? "").slice(0, 19),
          (r.public_release_at ?? "").slice(0, 10),
          num(r.files.length),
        ],
        () => showProduct(r).catch((err) => console.warn(err)),
      ),
    ),
  );
}

async function showProduct(r) {
  $("#lx-title").textContent = r.title;
  const facts = [
    ["identifier", r.lidvid],
    ["target", r.target],
    ["instrument", r.instrument],
    ["processing level", r.processing_level],
    ["time", `${r.start ?? ""} – ${r.stop ?? ""}`],
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
    el("tr", {}, [el("th", { text: "file" }), el("th", { class: "num", text: "bytes" }), el("th", { text: "sha256" }), el("th", { text: "md5" })]),
  ]);
  $("#lx-detail").replaceChildren(
    el("table", {}, facts.map(([k, v]) => row([{ text: k, class: "key" }, v]))),
    el("table", {}, [head, el("tbody", {}, files)]),
  );
  const preview = $("#lx-preview");
  preview.textContent = "products with an image file show it here";
  const image = r.files.find((f) => f.media_type.startsWith("image/"));
  if (!image) return;
  const path = ["products", r.lid, r.vid, "files", image.name].map(encodeURIComponent).join("/");
  const response = await fetch(`/api/v1/exchange/${path}`, { headers: authHeaders() });
  if (!response.ok) return;
  const img = el("img", { id: "lx-image", alt: image.name, src: URL.createObjectURL(await response.blob()) });
  preview.replaceChildren(img);
}
