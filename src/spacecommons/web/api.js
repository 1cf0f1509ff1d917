// The REST API as the dashboard calls it: the partner's key (kept in localStorage, sent as
// X-API-Key), JSON or text by content type, errors shown in the header's status line.
import { $ } from "./dom.js";

const KEY = "sc-key";

export function apiKey() {
  return $("#apikey").value.trim();
}

export function rememberKey() {
  localStorage.setItem(KEY, apiKey());
}

export function restoreKey() {
  $("#apikey").value = localStorage.getItem(KEY) || "";
}

export function authHeaders() {
  const key = apiKey();
  return key ? { "X-API-Key": key } : {};
}

export function status(text) {
  $("#status").textContent = text;
}

async function call(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { ...authHeaders(), ...(options.headers || {}) } });
  if (!response.ok) {
    const text = await response.text();
    status(`${response.status}: ${text.slice(0, 120)}`);
    throw new Error(`${path}: ${response.status}`);
  }
  status("");
  return response;
}

async function body(response) {
  return (response.headers.get("content-type") || "").includes("json") ? response.json() : response.text();
}

export async function api(path, options = {}) {
  return body(await call(path, options));
}

/** A page of a listing: its rows, the total that pass the filters, the cursor of the next page. */
export async function apiPage(path) {
  const response = await call(path);
  return {
    rows: await body(response),
    total: parseInt(response.headers.get("x-total-count") ?? "-1", 10),
    next: response.headers.get("x-next-after"),
  };
}

/** Save a response as a file (the key travels in a header, so a plain link would not do). */
export async function download(path, filename) {
  const blob = await (await call(path)).blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function postJson(path, body) {
  return api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}
