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

export async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { ...authHeaders(), ...(options.headers || {}) } });
  if (!response.ok) {
    const text = await response.text();
    status(`${response.status}: ${text.slice(0, 120)}`);
    throw new Error(`${path}: ${response.status}`);
  }
  status("");
  return (response.headers.get("content-type") || "").includes("json") ? response.json() : response.text();
}

export function postJson(path, body) {
  return api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}
