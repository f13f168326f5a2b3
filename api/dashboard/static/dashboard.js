// The mobility team's dashboard: charts (Chart.js), tile-less flow and carpool corridor maps (Leaflet, GeoJSON only),
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
  const scope = release.campaign === null ? "every campaign" : release.campaign;
  chart("co2-trend", "line", trend.map((p) => p.first_day), trend.map((p) => p.co2_kg), `kg CO2e · ${scope}`);
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

// A flow's tooltip, built as DOM text: zone ids come from the operator's zones file, and Leaflet
// would read a string tooltip as HTML.
function flowTooltip(p) {
  const box = document.createElement("div");
  box.textContent = `${p.origin} → ${p.destination}: ${p.trips} trips`;
  return box;
}

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
    onEachFeature: (f, layer) => layer.bindTooltip(flowTooltip(f.properties)),
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

// Carpool corridors: one line per corridor (zone to zone) and direction, widened by its potential
// matches, offset sideways so that A -> B and B -> A do not hide each other; the tooltip lists each
// departure band with its matches and CO2. The band filter keeps one band.
let corridorMap = null;
let corridorLayers = null;
let corridorData = null;

function bandLabel(band, minutes) {
  const [h, m] = band.split(":").map(Number);
  const end = h * 60 + m + minutes;
  const pad = (n) => String(n).padStart(2, "0");
  return `${band}–${pad(Math.floor(end / 60) % 24)}:${pad(end % 60)}`;
}

function sideways(coords, share) {
  const [[x1, y1], [x2, y2]] = coords;
  const dx = (x2 - x1) * share, dy = (y2 - y1) * share;
  return [[x1 - dy, y1 + dx], [x2 - dy, y2 + dx]];
}

function drawCorridors(release, band) {
  const minutes = (release.caps.carpool && release.caps.carpool.band_min) || 60;
  const chosen = corridorData.corridors.features.filter((f) => !band || f.properties.time_band === band);
  const groups = new Map();
  for (const f of chosen) {
    const key = `${f.properties.origin}>${f.properties.destination}`;
    if (!groups.has(key)) groups.set(key, { first: f, bands: [] });
    groups.get(key).bands.push(f.properties);
  }
  const lines = {
    type: "FeatureCollection",
    features: [...groups.values()].map(({ first, bands }) => ({
      type: "Feature",
      geometry: { type: "LineString", coordinates: sideways(first.geometry.coordinates, 0.04) },
      properties: {
        from: first.properties.origin_name,
        to: first.properties.destination_name,
        matches: bands.reduce((s, b) => s + b.potential_matches, 0),
        bands,
      },
    })),
  };
  corridorLayers.clearLayers();
  const zones = L.geoJSON(corridorData.zones, { style: { color: "#114b5f", weight: 1, fillOpacity: 0.08 } }).addTo(corridorLayers);
  const max = Math.max(1, ...lines.features.map((f) => f.properties.matches));
  L.geoJSON(lines, {
    style: (f) => ({ color: "#1a936f", weight: 2 + 10 * (f.properties.matches / max), opacity: 0.85 }),
    onEachFeature: (f, layer) => {
      const box = document.createElement("div");
      const title = document.createElement("strong");
      title.textContent = `${f.properties.from} → ${f.properties.to}`;
      box.append(title);
      for (const b of f.properties.bands) {
        const line = document.createElement("div");
        line.textContent = `${bandLabel(b.time_band, minutes)}: ${b.potential_matches} potential matches, ${b.co2_kg_per_year} kg CO2 a year`;
        box.append(line);
      }
      layer.bindTooltip(box, { sticky: true, className: "corridor-tooltip" });
    },
  }).addTo(corridorLayers);
  const bounds = zones.getBounds();
  if (bounds.isValid()) corridorMap.fitBounds(bounds, { padding: [20, 20] });
  else corridorMap.setView([46.16, -1.15], 12);
  const body = document.querySelector("#corridor-table tbody");
  body.replaceChildren();
  for (const f of chosen) {
    const p = f.properties;
    const tr = document.createElement("tr");
    for (const v of [p.origin_name, p.destination_name, bandLabel(p.time_band, minutes), p.potential_matches, p.co2_kg_per_year]) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.append(td);
    }
    body.append(tr);
  }
}

async function showCorridors(release) {
  corridorData = await getJSON(`${API}/releases/${release.id}/corridors.geojson`);
  if (!corridorMap) {
    // No tile layer: the zones and corridors are the whole map.
    corridorMap = L.map("corridor-map", { attributionControl: false });
    corridorLayers = L.layerGroup().addTo(corridorMap);
  }
  const select = document.getElementById("corridor-band");
  const minutes = (release.caps.carpool && release.caps.carpool.band_min) || 60;
  const bands = [...new Set(corridorData.corridors.features.map((f) => f.properties.time_band))].sort();
  select.replaceChildren(new Option("all bands", ""), ...bands.map((b) => new Option(bandLabel(b, minutes), b)));
  select.onchange = () => drawCorridors(release, select.value);
  drawCorridors(release, "");
}

async function show(page, id) {
  const release = await getJSON(`${API}/releases/${id}`);
  const scope = release.campaign === null ? "every campaign" : release.campaign;
  document.getElementById("release-info").textContent =
    `${release.period_kind} from ${release.first_day} to ${release.last_day} · ${scope} · epsilon ${release.epsilon} · k ${release.k}`;
  // The trend of the release's own scope: one campaign's testers, or every campaign's pooled.
  const trendScope = release.campaign_id === null ? "" : `&campaign=${release.campaign_id}`;
  if (page === "overview") drawOverview(release, await getJSON(`${API}/co2-trend?period=${release.period_kind}${trendScope}`));
  else if (page === "time") drawTime(release);
  else if (page === "map") await drawMap(release);
  else if (page === "corridors") await showCorridors(release);
  document.body.dataset.ready = "true";
}

async function loadReleases(page) {
  const kind = document.getElementById("period-kind").value;
  const releases = await getJSON(`${API}/releases?period=${kind}&limit=500`);
  // A national account may list releases of several scopes: each option then names its own.
  const mixed = new Set(releases.map((r) => r.campaign)).size > 1;
  const select = document.getElementById("release");
  select.replaceChildren();
  for (const r of releases) {
    const o = document.createElement("option");
    o.value = r.id;
    const scope = r.campaign === null ? (mixed ? " · every campaign" : "") : ` · ${r.campaign}`;
    o.textContent = `${r.first_day} – ${r.last_day}${scope}`;
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
  if (!["overview", "map", "corridors", "time"].includes(page)) return;
  const kind = document.getElementById("period-kind");
  const select = document.getElementById("release");
  kind.addEventListener("change", () => loadReleases(page));
  select.addEventListener("change", () => show(page, select.value));
  loadReleases(page).catch((e) => { document.getElementById("release-info").textContent = String(e); });
});
