// What the large tables share: column headers that sort on the server (aria-sort shows the
// order), and a pager that follows the server's keyset cursors (X-Next-After) forward and keeps
// the cursors it passed to go back. Sort, order and cursor live in the address (nav.js).
import { $, $$ } from "./dom.js";
import { update } from "./nav.js";

/** Wire the sort buttons of ``table``'s headers (th[data-k]); ``defaults`` maps a key to its first order. */
export function sortable(table, defaults = {}) {
  for (const th of $$("th[data-k]", table)) {
    th.querySelector("button").addEventListener("click", () => {
      const active = th.getAttribute("aria-sort");
      const first = defaults[th.dataset.k] ?? "asc";
      const order = active ? (active === "ascending" ? "desc" : "asc") : first;
      update({ sort: th.dataset.k, order, after: null });
    });
  }
}

/** Show which column sorts and how. */
export function showSort(table, sort, order) {
  for (const th of $$("th[data-k]", table)) {
    if (th.dataset.k === sort) th.setAttribute("aria-sort", order === "desc" ? "descending" : "ascending");
    else th.removeAttribute("aria-sort");
  }
}

export class Pager {
  constructor(root) {
    this.root = root;
    this.stack = []; // the cursors of the pages before this one
    this.next = null;
    this.here = null;
    root.querySelector("[data-go=first]").addEventListener("click", () => this.go(null, []));
    root.querySelector("[data-go=prev]").addEventListener("click", () => {
      const stack = [...this.stack];
      const before = stack.pop() ?? null;
      this.go(before, stack);
    });
    root.querySelector("[data-go=next]").addEventListener("click", () => {
      if (this.next) this.go(this.next, [...this.stack, this.here]);
    });
  }

  go(after, stack) {
    this.stack = stack;
    update({ after });
  }

  /** A new listing (other filters or order): forget the cursors. */
  reset() {
    this.stack = [];
  }

  /** After a page loaded: where it is, whether there is more. */
  show(after, count, total, limit, next) {
    this.here = after;
    this.next = next;
    if (!after) this.stack = [];
    const start = after ? this.stack.length * limit + 1 : 1;
    const text = count ? `${start}–${start + count - 1} of ${total}` : `none of ${total}`;
    $("span", this.root).textContent = after && !this.stack.length ? `${count} rows after a cursor, of ${total}` : text;
    this.root.querySelector("[data-go=first]").disabled = !after;
    this.root.querySelector("[data-go=prev]").disabled = !after;
    this.root.querySelector("[data-go=next]").disabled = !next;
  }
}
