// The dashboard's entry point: the API key field and the router between the three pages. The
// address holds the page and its state (#safety?run=3&event=17, see nav.js): a state can be
// linked, a reload restores it and the back button works.
import { rememberKey, restoreKey } from "./api.js";
import { $, $$ } from "./dom.js";
import { parse } from "./nav.js";
import * as lunar from "./pages/lunar.js";
import * as neo from "./pages/neo.js";
import * as safety from "./pages/screening.js";

const pages = { safety, neo, lunar };
const lastHash = {}; // each page's last state: switching pages and back keeps it

function current() {
  const { name, params } = parse();
  return Object.hasOwn(pages, name) ? { name, params } : { name: "safety", params };
}

function route() {
  const { name, params } = current();
  lastHash[name] = location.hash || `#${name}`;
  for (const node of $$("nav button, main > section")) node.classList.remove("active");
  for (const node of $$("nav button")) node.removeAttribute("aria-current");
  $(`nav button[data-tab="${name}"]`).classList.add("active");
  $(`nav button[data-tab="${name}"]`).setAttribute("aria-current", "page");
  $(`#${name}`).classList.add("active");
  pages[name].show(params).catch((err) => console.warn(err));
}

function boot() {
  restoreKey();
  $("#apikey").addEventListener("change", () => {
    rememberKey();
    for (const page of Object.values(pages)) page.reset?.();
    route(); // the key decides what the page may show: load it again
  });
  for (const button of $$("nav button")) {
    button.addEventListener("click", () => {
      if (current().name === button.dataset.tab && location.hash) route();
      else location.hash = lastHash[button.dataset.tab] || button.dataset.tab;
    });
  }
  for (const page of Object.values(pages)) page.init();
  window.addEventListener("hashchange", route);
  route();
}

boot();
