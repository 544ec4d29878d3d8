// Live updates for the dashboard: one EventSource per page, a pause control, nothing else.
// Without JavaScript the pages are complete; this only keeps them current (and bounded:
// rows are replaced in place, the run list is capped, no handler is added per event).
(() => {
  "use strict";
  const body = document.body;
  const view = body.dataset.live;
  document.documentElement.classList.add("js");
  if (!view || !window.EventSource) return;
  const box = document.getElementById("live");
  const state = document.getElementById("live-state");
  const toggle = document.getElementById("live-toggle");
  const MAX_RUNS = 50;
  let source = null;
  let lastId = null;
  let paused = false;
  let refreshTimer = null;
  let refreshing = false;
  box.hidden = false;

  const say = (text) => { state.textContent = text; };
  const clock = (iso) => new Date(iso).toLocaleTimeString();

  function url() {
    const p = new URLSearchParams({ view });
    if (body.dataset.liveHost) p.set("host", body.dataset.liveHost);
    if (view === "hosts") p.set("q", new URLSearchParams(location.search).get("q") || "");
    if (lastId !== null) p.set("after", lastId);
    return "/events?" + p;
  }

  function fromHtml(html) {
    const t = document.createElement("template");
    t.innerHTML = html.trim();
    return t.content.firstElementChild;
  }

  /** Fetch this page again and swap its live regions, except one holding the keyboard focus. */
  function refresh() {
    if (refreshing) { refreshTimer = setTimeout(refresh, 300); return; }
    refreshTimer = null;
    refreshing = true;
    fetch(location.href, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error("HTTP " + r.status))))
      .then((html) => {
        const next = new DOMParser().parseFromString(html, "text/html");
        for (const old of document.querySelectorAll("[data-refresh]")) {
          const fresh = next.getElementById(old.id);
          if (fresh && !old.contains(document.activeElement)) old.replaceWith(document.importNode(fresh, true));
        }
      })
      .catch(() => say("live: could not refresh"))
      .finally(() => { refreshing = false; });
  }
  const scheduleRefresh = () => { if (refreshTimer === null) refreshTimer = setTimeout(refresh, 250); };

  function onReport(e) {
    const d = JSON.parse(e.data);
    lastId = d.id;
    say("live · " + d.host + " " + d.result + " at " + clock(d.receivedAt));
    if (view === "hosts") {
      const row = document.querySelector('tr[data-host="' + CSS.escape(d.host) + '"]');
      if (row && d.row) {
        const fresh = fromHtml(d.row);
        if (!row.contains(document.activeElement)) row.replaceWith(fresh);
      }
      if ((row && !d.matches) || (!row && d.matches)) document.getElementById("view-changed").hidden = false;
    } else if (view === "host") {
      const list = document.getElementById("run-list");
      const run = fromHtml(d.run);
      if (list && run && !document.getElementById(run.id) && (list.dataset.changesOnly !== "1" || run.dataset.changed === "1")) {
        list.prepend(run);
        while (list.children.length > MAX_RUNS) list.lastElementChild.remove();
        const none = document.getElementById("no-runs");
        if (none) none.remove();
      }
      scheduleRefresh();
    } else {
      scheduleRefresh();
    }
  }

  function connect() {
    source = new EventSource(url());
    source.addEventListener("open", () => say("live"));
    source.addEventListener("report", onReport);
    source.addEventListener("reload", () => say("live · many updates missed: reload the page"));
    source.addEventListener("logout", () => { location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); });
    source.addEventListener("error", () => say(source.readyState === EventSource.CLOSED ? "live updates stopped: reload the page" : "live: reconnecting…"));
  }

  toggle.addEventListener("click", () => {
    paused = !paused;
    toggle.setAttribute("aria-pressed", String(paused));
    toggle.textContent = paused ? "Resume live updates" : "Pause live updates";
    if (paused) {
      source.close();
      say("paused");
    } else {
      // The server replays what came in meanwhile (after the last id seen).
      connect();
    }
  });

  // Relative times ("3 min ago") age while the page is open.
  setInterval(() => {
    for (const t of document.querySelectorAll("time[data-rel]")) {
      const at = Date.parse(t.getAttribute("datetime"));
      if (!at) continue;
      const min = Math.round((Date.now() - at) / 60000);
      t.textContent = min < 1 ? "less than a minute ago" : min < 60 ? min + " min ago" : min < 2880 ? Math.round(min / 60) + " h ago" : Math.round(min / 1440) + " d ago";
    }
  }, 30000);

  connect();
})();
