// The inbox: everything from the JSON API, every untrusted string set with textContent.
"use strict";

const PAGE = 50;
const $ = (id) => document.getElementById(id);
const state = { mailbox: "", q: "", page: 0, msg: "", tab: "html", remote: false };
let refreshTimer = null;

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  state.mailbox = params.get("mailbox") || "";
  state.q = params.get("q") || "";
  state.page = Math.max(0, parseInt(params.get("page") || "0", 10) || 0);
  state.msg = params.get("msg") || "";
  $("search").value = state.q;
}

function writeHash() {
  const params = new URLSearchParams();
  if (state.mailbox) params.set("mailbox", state.mailbox);
  if (state.q) params.set("q", state.q);
  if (state.page) params.set("page", String(state.page));
  if (state.msg) params.set("msg", state.msg);
  const hash = params.toString();
  if (location.hash.slice(1) !== hash) history.replaceState(null, "", hash ? "#" + hash : location.pathname);
}

async function api(path, options = {}) {
  const init = { credentials: "same-origin", ...options, headers: { ...(options.headers || {}) } };
  if (init.method && init.method !== "GET") init.headers["X-Harness-Request"] = "1";
  const response = await fetch(path, init);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function filterParams() {
  const params = new URLSearchParams({ order: "newest", limit: String(PAGE), offset: String(state.page * PAGE) });
  if (state.mailbox) {
    const at = state.mailbox.indexOf(":");
    params.set(state.mailbox.slice(0, at), state.mailbox.slice(at + 1));
  }
  if (state.q) params.set("q", state.q);
  return params;
}

async function loadList() {
  const body = await api("/api/messages?" + filterParams());
  const tbody = document.querySelector("#messages tbody");
  const rows = body.messages.map((m) => {
    const tr = el("tr");
    tr.dataset.id = m.id;
    if (m.id === state.msg) tr.className = "selected";
    tr.append(el("td", m.mail_from), el("td", m.rcpt_to.join(", ")), el("td", m.subject || "(no subject)"),
      el("td", new Date(m.received_at).toLocaleString()), el("td", formatSize(m.size)));
    const tls = el("td");
    tls.append(el("span", m.tls ? (m.tls_version || "TLS") : "plain", m.tls ? "tls" : "tls no"));
    tr.append(tls, el("td", m.auth_user || "–"));
    tr.addEventListener("click", () => openMessage(m.id));
    return tr;
  });
  tbody.replaceChildren(...rows);
  const first = body.total ? state.page * PAGE + 1 : 0;
  $("count").textContent = `${first}–${state.page * PAGE + body.count} of ${body.total}`;
  $("prev").disabled = state.page === 0;
  $("next").disabled = (state.page + 1) * PAGE >= body.total;
}

function formatSize(n) {
  return n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`;
}

async function loadMailboxes() {
  const body = await api("/api/mailboxes");
  const items = [mailboxLink("", "All messages", body.total)];
  for (const [kind, title] of [["rcpt", "Recipients"], ["auth_user", "AUTH users"], ["mail_from", "Senders"]]) {
    const entries = Object.entries(body[kind]);
    if (!entries.length) continue;
    items.push(el("li", title, "group"));
    for (const [name, count] of entries) items.push(mailboxLink(`${kind}:${name}`, name, count));
  }
  $("mailboxes").replaceChildren(...items);
}

function mailboxLink(key, label, count) {
  const li = el("li");
  const a = el("a", null, state.mailbox === key ? "active" : "");
  a.href = "#";
  a.dataset.mailbox = key;
  a.append(el("span", label), el("span", count, "n"));
  a.addEventListener("click", (event) => {
    event.preventDefault();
    state.mailbox = key;
    state.page = 0;
    refreshAll();
  });
  li.append(a);
  return li;
}

async function loadFaults() {
  const body = await api("/api/faults");
  $("faults").replaceChildren(...body.faults.map((f, i) => {
    const li = el("li");
    const what = f.action === "reply" ? `${f.code} ${f.message}` : f.action === "delay" ? `delay ${f.delay}s` : f.action;
    li.append(el("span", `${f.stage}: ${what}${f.rcpt ? ` (rcpt ${f.rcpt})` : ""}`));
    const remove = el("button", "×");
    remove.type = "button";
    remove.title = "Remove this fault";
    remove.addEventListener("click", async () => { await api(`/api/faults/${i + 1}`, { method: "DELETE" }); loadFaults(); });
    li.append(remove);
    return li;
  }));
}

async function openMessage(id) {
  state.msg = id;
  state.remote = false;
  writeHash();
  let m;
  try {
    m = await api(`/api/messages/${encodeURIComponent(id)}`);
  } catch (error) {
    closeViewer();
    return;
  }
  $("viewer").hidden = false;
  $("layout").classList.add("viewing");
  $("viewer-subject").textContent = m.subject || "(no subject)";
  $("viewer-meta").textContent = `${m.mail_from} → ${m.rcpt_to.join(", ")} · ${m.tls ? m.tls_version || "TLS" : "no TLS"} · ` +
    `${m.auth_user ? "AUTH " + m.auth_user : "anonymous"} · ${new Date(m.received_at).toLocaleString()}`;
  $("download-eml").href = `/api/messages/${encodeURIComponent(id)}/raw?download=1`;
  $("tab-text").textContent = m.note ? `${m.note}: see the Raw tab.` : m.text ?? "(no text part)";
  $("tab-raw").textContent = m.raw;
  $("tab-headers").querySelector("tbody").replaceChildren(...m.headers.map(([name, value]) => {
    const tr = el("tr");
    tr.append(el("td", name), el("td", value));
    return tr;
  }));
  $("tab-attachments").replaceChildren(...(m.attachments.length ? m.attachments.map((a) => {
    const li = el("li");
    const link = el("a", `${a.filename} (${a.content_type}, ${formatSize(a.size)})`);
    link.href = `/api/messages/${encodeURIComponent(id)}/attachments/${a.index}`;
    link.setAttribute("download", "");
    li.append(link);
    return li;
  }) : [el("li", "No attachments")]));
  $("html-frame").src = m.html ? `/api/messages/${encodeURIComponent(id)}/body.html` : "about:blank";
  showTab(m.html ? state.tab : "text");
  document.querySelectorAll("#messages tbody tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.id === id));
}

function closeViewer() {
  state.msg = "";
  $("viewer").hidden = true;
  $("layout").classList.remove("viewing");
  $("html-frame").src = "about:blank";
  writeHash();
}

function showTab(name) {
  state.tab = name;
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.id === `tab-${name}`));
}

async function refreshAll() {
  writeHash();
  await Promise.all([loadList(), loadMailboxes()]);
}

function scheduleRefresh() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => { refreshTimer = null; refreshAll(); }, 150);
}

function live() {
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => $("live").classList.remove("off"));
  source.addEventListener("error", () => $("live").classList.add("off"));
  source.addEventListener("message", scheduleRefresh);
}

function wire() {
  let typing = null;
  $("search").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => { state.q = $("search").value.trim(); state.page = 0; refreshAll(); }, 200);
  });
  $("prev").addEventListener("click", () => { state.page = Math.max(0, state.page - 1); refreshAll(); });
  $("next").addEventListener("click", () => { state.page += 1; refreshAll(); });
  $("delete-all").addEventListener("click", async () => {
    if (!confirm("Delete every captured message?")) return;
    await api("/api/messages", { method: "DELETE" });
    closeViewer();
    refreshAll();
  });
  $("delete-one").addEventListener("click", async () => {
    await api(`/api/messages/${encodeURIComponent(state.msg)}`, { method: "DELETE" });
    closeViewer();
    refreshAll();
  });
  $("close-viewer").addEventListener("click", closeViewer);
  $("load-remote").addEventListener("click", () => {
    state.remote = true;
    $("html-frame").src = `/api/messages/${encodeURIComponent(state.msg)}/body.html?remote=1`;
  });
  document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
  $("fault-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("/api/faults", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ spec: $("fault-spec").value.trim() }) });
      $("fault-spec").value = "";
      $("fault-error").textContent = "";
    } catch (error) {
      $("fault-error").textContent = error.message;
    }
    loadFaults();
  });
  window.addEventListener("hashchange", () => { readHash(); refreshAll(); if (state.msg) openMessage(state.msg); });
}

readHash();
wire();
refreshAll().then(() => { if (state.msg) openMessage(state.msg); });
loadFaults();
live();
