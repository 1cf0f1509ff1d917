// Building the page from data. Every string that came from the server enters the document as a
// text node (textContent) or an attribute value (setAttribute), never through an HTML parser:
// there is no innerHTML in the dashboard, so a name such as "<img src=x onerror=...>" shows as
// those characters. No style attributes either: classes only, styled in app.css.

const SVG_NS = "http://www.w3.org/2000/svg";

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

function build(node, props, children) {
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = String(value);
    else if (name === "class") node.setAttribute("class", value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, String(value));
  }
  node.append(...children.filter((c) => c !== null && c !== undefined)); // strings become text nodes
  return node;
}

/** An HTML element: el("td", {class: "num", text: 3.2}); el("tr", {onclick: f}, [td1, td2]). */
export function el(tag, props = {}, children = []) {
  return build(document.createElement(tag), props, children);
}

/** An SVG element, same arguments as el(). */
export function svg(tag, props = {}, children = []) {
  return build(document.createElementNS(SVG_NS, tag), props, children);
}

/** A table cell; a plain value or {text, class}; null and undefined show as empty. */
function cell(spec) {
  const isSpec = spec !== null && typeof spec === "object";
  return el("td", { class: isSpec ? spec.class : null, text: (isSpec ? spec.text : spec) ?? "" });
}

/** A number cell (right-aligned), with an optional extra class. */
export const num = (text, extra = "") => ({ text, class: `num ${extra}`.trim() });

/** Mark one row of its table selected (aria-selected for assistive technology too). */
export function select(tr) {
  for (const other of $$("tr.sel", tr.closest("table"))) {
    other.classList.remove("sel");
    other.removeAttribute("aria-selected");
  }
  tr.classList.add("sel");
  tr.setAttribute("aria-selected", "true");
}

/** A table row of cells; onclick marks the row selected within its table and calls back. Rows
 * that do something take the keyboard focus (Tab) and answer Enter and Space as a click. */
export function row(cells, onclick = null, key = null) {
  const tr = el("tr", { "data-key": key }, cells.map(cell));
  if (onclick) {
    tr.tabIndex = 0;
    tr.addEventListener("click", () => {
      select(tr);
      onclick();
    });
    tr.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        tr.click();
      } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        (event.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling)?.focus();
      }
    });
  }
  return tr;
}

/** Replace a table body's rows. */
export function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}
