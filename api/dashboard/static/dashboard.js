// The mobility team's dashboard: charts (Chart.js) and a tile-less flow map (Leaflet, GeoJSON only),
// fed by the JSON of /dashboard/api. No inline script: the CSP allows scripts from 'self' only.
"use strict";

const API = "/dashboard/api";
const charts = {};

async function getJSON(url) {
  const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return r.json();
}

function chart(id, type, labels, values, label) {
  const canvas = document.getElementById(id);
  if (!canvas) return;
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart(canvas, {
    type,
    data: { labels, datasets: [{ label, data: values, backgroundColor: "#1a936f", borderColor: "#114b5f" }] },
    options: { animation: false, responsive: true, plugins: { legend: { display: type === "doughnut" } } },
  });
}

function table(release, name) {
  return release.cells.filter((c) => c.table === name);
}

const WEEKDAYS = ["", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

function drawOverview(release, trend) {
  document.getElementById("participants").textContent = release.participants + " testers";
  document.getElementById("privacy").textContent = `epsilon ${release.epsilon}, k ${release.k}`;
  for (const [id, name] of [["mode-trips", "mode_trips"], ["mode-km", "mode_km"], ["mode-co2", "mode_co2"], ["avg-km", "avg_km_by_mode"]]) {
    const cells = table(release, name);
    chart(id, name.startsWith("mode_") && name !== "mode_co2" ? "doughnut" : "bar", cells.map((c) => c.dim_a), cells.map((c) => c.value), name);
  }
  chart("co2-trend", "line", trend.map((p) => p.period_start.slice(0, 10)), trend.map((p) => p.co2_kg), "kg CO2e");
  const list = document.getElementById("downloads");
  list.replaceChildren();
  for (const t of release.table_names) {
    const li = document.createElement("li");
    for (const fmt of ["csv", "geojson"]) {
      const a = document.createElement("a");
      a.href = `/dashboard/download/${release.id}/${t}.${fmt}`;
      a.textContent = `${t}.${fmt}`;
      a.className = `download-${fmt}`;
      a.setAttribute("download", "");
      li.append(a, " ");
    }
    list.append(li);
  }
}

function drawTime(release) {
  const hours = table(release, "trips_by_hour");
  chart("by-hour", "bar", hours.map((c) => c.dim_a + "h"), hours.map((c) => c.value), "trips");
  const days = table(release, "trips_by_weekday");
  chart("by-weekday", "bar", days.map((c) => WEEKDAYS[Number(c.dim_a)]), days.map((c) => c.value), "trips");
}

let map = null;
let layers = null;

async function drawMap(release) {
  const data = await getJSON(`${API}/releases/${release.id}/flows.geojson`);
  if (!map) {
    // No tile layer: the zones and flows are the whole map.
    map = L.map("flow-map", { attributionControl: false });
    layers = L.layerGroup().addTo(map);
  }
  layers.clearLayers();
  const zones = L.geoJSON(data.zones, { style: { color: "#114b5f", weight: 1, fillOpacity: 0.08 } }).addTo(layers);
  const max = Math.max(1, ...data.flows.features.map((f) => f.properties.trips));
  L.geoJSON(data.flows, {
    style: (f) => ({ color: "#c6362f", weight: 1 + 9 * (f.properties.trips / max), opacity: 0.8 }),
    onEachFeature: (f, layer) => layer.bindTooltip(`${f.properties.origin} → ${f.properties.destination}: ${f.properties.trips} trips`),
  }).addTo(layers);
  const bounds = zones.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20] });
  else map.setView([46.16, -1.15], 12);
  const body = document.querySelector("#flow-table tbody");
  body.replaceChildren();
  for (const f of data.flows.features) {
    const tr = document.createElement("tr");
    for (const v of [f.properties.origin_name, f.properties.destination_name, f.properties.trips]) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.append(td);
    }
    body.append(tr);
  }
}

async function show(page, id) {
  const release = await getJSON(`${API}/releases/${id}`);
  document.getElementById("release-info").textContent =
    `${release.period_kind} from ${release.period_start.slice(0, 10)} · epsilon ${release.epsilon} · k ${release.k}`;
  if (page === "overview") drawOverview(release, await getJSON(`${API}/co2-trend?period=${release.period_kind}`));
  else if (page === "time") drawTime(release);
  else if (page === "map") await drawMap(release);
  document.body.dataset.ready = "true";
}

async function loadReleases(page) {
  const kind = document.getElementById("period-kind").value;
  const releases = await getJSON(`${API}/releases?period=${kind}`);
  const select = document.getElementById("release");
  select.replaceChildren();
  for (const r of releases) {
    const o = document.createElement("option");
    o.value = r.id;
    o.textContent = `${r.period_start.slice(0, 10)} – ${r.period_end.slice(0, 10)}`;
    select.append(o);
  }
  if (releases.length) await show(page, releases[0].id);
  else {
    document.getElementById("release-info").textContent = "no release for this period yet";
    document.body.dataset.ready = "empty";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  if (!["overview", "map", "time"].includes(page)) return;
  const kind = document.getElementById("period-kind");
  const select = document.getElementById("release");
  kind.addEventListener("change", () => loadReleases(page));
  select.addEventListener("change", () => show(page, select.value));
  loadReleases(page).catch((e) => { document.getElementById("release-info").textContent = String(e); });
});
