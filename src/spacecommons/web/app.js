// The dashboard's entry point: the API key field and the router between the three pages
// (#safety, #neo, #lunar in the address, so a page can be linked and the back button works).
import { restoreKey, rememberKey } from "./api.js";
import { $, $$ } from "./dom.js";
import * as lunar from "./pages/lunar.js";
import * as neo from "./pages/neo.js";
import * as safety from "./pages/screening.js";

const pages = { safety, neo, lunar };

function current() {
  const name = location.hash.slice(1);
  return Object.hasOwn(pages, name) ? name : "safety";
}

function route() {
  const name = current();
  for (const node of $$("nav button, main > section")) node.classList.remove("active");
  $(`nav button[data-tab="${name}"]`).classList.add("active");
  $(`#${name}`).classList.add("active");
  pages[name].show().catch((err) => console.warn(err));
}

function boot() {
  restoreKey();
  $("#apikey").addEventListener("change", () => {
    rememberKey();
    route(); // the key decides what the page may show: load it again
  });
  for (const button of $$("nav button")) {
    button.addEventListener("click", () => {
      if (current() === button.dataset.tab && location.hash) route();
      else location.hash = button.dataset.tab;
    });
  }
  for (const page of Object.values(pages)) page.init();
  window.addEventListener("hashchange", route);
  route();
}

boot();
