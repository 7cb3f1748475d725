// The local pool's dashboard: polls the status view once a second (no reload), draws the tree,
// the alerts and two small charts per deployment, and chats with an endpoint.
// Everything from the server goes into the page through textContent, never as HTML.
"use strict";
(function () {
  const token = document.querySelector('meta[name="agentpool-dashboard-token"]').content;
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children) node.append(c);
    return node;
  };
  const SVG = "http://www.w3.org/2000/svg";
  let thread = null;

  async function refresh() {
    try {
      const res = await fetch("/admin/v1/status", { headers: { "x-dashboard-token": token }, cache: "no-store" });
      if (!res.ok) throw new Error(`status ${res.status}`);
      render(await res.json());
      $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      $("updated").textContent = `cannot reach the pool (${err.message}); retrying`;
    } finally {
      setTimeout(refresh, 1000);
    }
  }

  function render(status) {
    $("stack").textContent = `· stack ${status.stack}`;
    renderAlerts(status.alerts);
    renderEndpoints(status.endpoints);
    const tree = el("div", {});
    for (const team of status.teams) {
      const section = el("section", { class: "team", "aria-label": `team ${team.team}`, "data-team": team.team }, el("h3", {}, `${team.name} (${team.team})`));
      for (const d of team.deployments) section.append(renderDeployment(d));
      tree.append(section);
    }
    $("tree").replaceChildren(tree);
  }

  function renderAlerts(alerts) {
    const list = $("alerts");
    const items = alerts.firing.map((a) => el("li", { "data-rule": a.rule }, `${a.deployment}: ${a.rule.replace("_", " ")} — ${a.message} (since ${new Date(a.since).toLocaleTimeString()})`));
    if (items.length === 0) items.push(el("li", { class: "none" }, "No alerts firing."));
    for (const a of alerts.pending) items.push(el("li", { class: "warn", "data-rule": a.rule }, `pending: ${a.deployment}: ${a.message}`));
    list.replaceChildren(...items);
  }

  function renderEndpoints(endpoints) {
    const select = $("endpoint");
    if (select.options.length === endpoints.length) return;
    select.replaceChildren(...endpoints.map((e) => el("option", { value: e }, e)));
  }

  function renderDeployment(d) {
    const healthyClass = d.healthy < d.desired ? "bad" : "ok";
    const counts = el("p", { class: "counts", "data-testid": "counts" },
      "Desired ", el("strong", { "data-field": "desired" }, String(d.desired)),
      " · Actual ", el("strong", { "data-field": "actual" }, String(d.actual)),
      " · Healthy ", el("strong", { "data-field": "healthy", class: healthyClass }, String(d.healthy)),
      ` · queued ${d.queue_depth} · POST /api/v1/ask/${d.endpoint}`,
      ...(d.endpoint_deployments > 1 ? [abFigures(d)] : []));
    const head = el("tr", {}, ...["Agent", "State", "Health", "Queue depth", "p50 latency", "Answered (5 min)"].map((h) => el("th", { scope: "col" }, h)));
    const rows = d.agents.map((a) => el("tr", { "data-agent-id": a.agent_id, "data-state": a.state, "data-healthy": String(a.healthy) },
      el("th", { scope: "row" }, a.agent_id),
      el("td", {}, a.state),
      el("td", { class: a.healthy ? "ok" : "bad" }, a.healthy ? "healthy" : "unhealthy"),
      el("td", {}, String(a.queue_depth)),
      el("td", {}, a.p50_latency_ms === null ? "—" : `${a.p50_latency_ms} ms`),
      el("td", {}, String(a.answered))));
    const table = el("table", {}, el("caption", { class: "visually-hidden" }, `Agents of ${d.deployment}`), el("thead", {}, head), el("tbody", {}, ...rows));
    const charts = el("div", { class: "charts" },
      chart(`Queue depth of ${d.deployment}`, d.series.map((p) => p.queue_depth), ""),
      chart(`p95 latency of ${d.deployment} (last minute)`, d.series.map((p) => p.p95_latency_ms), " ms"));
    return el("div", { class: "deployment", "data-deployment": d.deployment }, el("h4", {}, d.deployment), counts, table, charts);
  }

  /** A/B: this deployment's weight and figures, read beside the other deployments of its endpoint. */
  function abFigures(d) {
    const share = d.share_of_endpoint === null ? "—" : `${Math.round(d.share_of_endpoint * 100)} %`;
    const ms = (v) => (v === null || v === undefined ? "—" : `${v} ms`);
    return el("span", { class: "ab", "data-testid": "ab" },
      ` · A/B weight ${d.traffic_weight ?? "—"} · ${share} of answers · ${d.answered} answered, ${d.errors} errors · p50 ${ms(d.p50_latency_ms)} · p95 ${ms(d.p95_latency_ms)}`);
  }

  function chart(title, values, unit) {
    const w = 280, h = 70;
    const known = values.filter((v) => v !== null);
    const max = Math.max(1, ...known);
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("width", w); svg.setAttribute("height", h); svg.setAttribute("role", "img");
    const last = known.length ? known[known.length - 1] : null;
    svg.setAttribute("aria-label", `${title}: ${last === null ? "no data" : `now ${last}${unit}, max ${max}${unit}`}`);
    const points = values.map((v, i) => (v === null ? null : `${(i / Math.max(1, values.length - 1)) * (w - 4) + 2},${h - 2 - (v / max) * (h - 4)}`)).filter(Boolean);
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", points.join(" ")); line.setAttribute("fill", "none"); line.setAttribute("stroke", "#0969da"); line.setAttribute("stroke-width", "2");
    svg.append(line);
    return el("figure", {}, svg, el("figcaption", {}, `${title} — max ${max}${unit}`));
  }

  async function ask(event) {
    event.preventDefault();
    const content = $("message").value.trim();
    if (!content) return;
    const endpoint = $("endpoint").value;
    $("send").disabled = true;
    $("conversation").append(el("li", { class: "user" }, el("span", { class: "meta" }, "you"), content));
    const started = performance.now();
    try {
      const res = await fetch(`/dashboard/api/ask/${encodeURIComponent(endpoint)}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-dashboard-token": token },
        body: JSON.stringify(thread ? { content, thread_id: thread } : { content }),
      });
      const body = await res.json();
      const ms = Math.round(performance.now() - started);
      if (!res.ok) {
        $("conversation").append(el("li", { class: "bad", "data-error-code": body.error_code || "" }, el("span", { class: "meta" }, `error ${res.status} ${body.error_code || ""}`), body.error || ""));
        return;
      }
      thread = body.thread_id;
      $("thread").textContent = `thread ${thread}`;
      $("conversation").append(el("li", { class: "agent", "data-agent-id": body.agent_id }, el("span", { class: "meta" }, `${body.agent_id} · ${ms} ms`), body.content));
      $("message").value = "";
    } catch (err) {
      $("conversation").append(el("li", { class: "bad" }, `could not ask: ${err.message}`));
    } finally {
      $("send").disabled = false;
    }
  }

  function newThread() {
    thread = null;
    $("thread").textContent = "new thread";
    $("conversation").replaceChildren();
  }

  $("chat").addEventListener("submit", ask);
  $("new-thread").addEventListener("click", newThread);
  $("endpoint").addEventListener("change", newThread);
  refresh();
})();
