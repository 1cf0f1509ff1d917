// Every state of the dashboard is in the address: #page?key=value&... (run, event, filters, sort,
// page cursor; object; product, map box). Links can be shared, reloading restores the state, and
// the back button walks back through selections. Pages read the state in show(params) and change
// it only through go()/update(), which add a history entry (or replace the current one).

export function parse() {
  const hash = location.hash.slice(1);
  const cut = hash.indexOf("?");
  const name = cut < 0 ? hash : hash.slice(0, cut);
  return { name, params: new URLSearchParams(cut < 0 ? "" : hash.slice(cut + 1)) };
}

export function go(name, params, replace = false) {
  const query = params.toString();
  const hash = `#${name}${query ? `?${query}` : ""}`;
  if (hash === location.hash) return;
  if (replace) {
    history.replaceState(null, "", hash);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    location.hash = hash;
  }
}

/** Change some keys of the current page's state (null or "" removes a key). */
export function update(changes, replace = false) {
  const { name, params } = parse();
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === "") params.delete(key);
    else params.set(key, String(value));
  }
  go(name || "safety", params, replace);
}

/** The value of the keys a part of a page depends on, to tell whether it must load again. */
export function signature(params, keys) {
  return keys.map((k) => `${k}=${params.get(k) ?? ""}`).join("&");
}
