// The service report as charts: signs in with an admin or staff key (kept in sessionStorage only), asks
// /admin/v1/reports/service and draws each store's days with plotly.js (served by this service).

const SESSION_KEY = "winkelpunt.manager";
const REPORT = "/admin/v1/reports/service";
const WORST_STORES = 20; // the chain's table and bar chart: the stores that kept their promise least
const CHARTED_STORES = 4; // of those, the ones drawn day by day
const DEFAULT_DAYS = 28;

const TEXT = {
  en: {
    title: "Service report", secretLabel: "Admin or staff key", signIn: "Sign in", signOut: "Sign out",
    from: "From", to: "To", store: "Store", allStores: "all stores", show: "Show",
    chainHeading: "Stores that kept their promise least", orders: "Orders", kept: "Promise kept %",
    p50: "Minutes to ready p50", p90: "p90", rejected: "Rejected", short: "Short picked",
    expired: "No-shows %", returns: "Returns", minutesToReady: "Minutes to ready",
    rejectionsShort: "Rejections and short picks", noShows: "No-shows (expired %)",
    summary: "{orders} orders, {kept} ready on time, handover p50 {handover} min",
    empty: "No orders in this range.", unauthorized: "This key is not known, or revoked.",
    forbidden: "This key cannot read the report.", wrong_store: "A staff key reports on its own store only.",
    store_not_found: "No store has this code.", validation_error: "Check the dates: {detail}",
    network: "The service cannot be reached.", other: "The report could not be read ({code}).",
    admin: "admin", staffOf: "staff of {store}",
  },
  nl: {
    title: "Servicerapport", secretLabel: "Beheer- of winkelsleutel", signIn: "Inloggen", signOut: "Uitloggen",
    from: "Van", to: "Tot en met", store: "Winkel", allStores: "alle winkels", show: "Tonen",
    chainHeading: "Winkels die hun belofte het minst hielden", orders: "Bestellingen", kept: "Belofte gehouden %",
    p50: "Minuten tot klaar p50", p90: "p90", rejected: "Geweigerd", short: "Niet compleet",
    expired: "Niet opgehaald %", returns: "Retouren", minutesToReady: "Minuten tot klaar",
    rejectionsShort: "Weigeringen en niet-complete orders", noShows: "Niet opgehaald (verlopen %)",
    summary: "{orders} bestellingen, {kept} op tijd klaar, overhandiging p50 {handover} min",
    empty: "Geen bestellingen in deze periode.", unauthorized: "Deze sleutel is onbekend of ingetrokken.",
    forbidden: "Met deze sleutel is het rapport niet te lezen.",
    wrong_store: "Een winkelsleutel ziet alleen de eigen winkel.", store_not_found: "Geen winkel met deze code.",
    validation_error: "Controleer de datums: {detail}", network: "De dienst is niet bereikbaar.",
    other: "Het rapport kon niet worden gelezen ({code}).", admin: "beheer", staffOf: "winkel {store}",
  },
};
const LANG = (navigator.language || "en").toLowerCase().startsWith("nl") ? "nl" : "en";

function t(key, values = {}) {
  const text = TEXT[LANG][key] ?? TEXT.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

const $ = (id) => document.getElementById(id);
let auth = load();

function load() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
  } catch {
    return null;
  }
}

function save(value) {
  auth = value;
  if (value) sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
  else sessionStorage.removeItem(SESSION_KEY);
}

class Refusal extends Error {
  constructor(code, problem) {
    super(code);
    this.code = code;
    this.problem = problem || {};
  }
}

async function get(path, secret = auth?.secret) {
  let response;
  try {
    response = await fetch(path, {
      headers: { Authorization: `Bearer ${secret || ""}`, Accept: "application/json" },
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new Refusal("network");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Refusal(data.code || `http_${response.status}`, data);
  return data;
}

function sentence(error) {
  const known = ["unauthorized", "forbidden", "wrong_store", "store_not_found", "network"];
  if (known.includes(error.code)) return t(error.code);
  if (error.code === "validation_error") return t("validation_error", { detail: error.problem.detail || "" });
  return t("other", { code: error.code });
}

function say(element, text) {
  element.textContent = text || "";
  element.hidden = !text;
}

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

// ------------------------------------------------------------------------------------------ sign-in

async function signIn(secret) {
  const me = await get("/staff/v1/me", secret);
  save({ secret, role: me.role, store: me.store_code });
}

function showSignIn() {
  $("sign-in").hidden = false;
  $("report").hidden = true;
  $("sign-out").hidden = true;
  $("who").textContent = "";
}

function showReport() {
  $("sign-in").hidden = true;
  $("report").hidden = false;
  $("sign-out").hidden = false;
  $("who").textContent = auth.role === "admin" ? t("admin") : t("staffOf", { store: auth.store });
  $("store-field").hidden = auth.role !== "admin";
  if (!$("to").value) {
    const today = new Date();
    $("to").value = isoDay(today);
    $("from").value = isoDay(new Date(today.getTime() - (DEFAULT_DAYS - 1) * 86400000));
  }
  refresh();
}

// ------------------------------------------------------------------------------------------- charts

const LAYOUT = {
  margin: { l: 44, r: 12, t: 36, b: 36 },
  legend: { orientation: "h", y: -0.2 },
  paper_bgcolor: "#fff",
  plot_bgcolor: "#fff",
  font: { family: "system-ui, sans-serif", size: 12 },
};
const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud"] };

function chart(container, title, traces, yaxis = {}) {
  const element = document.createElement("div");
  element.className = "chart";
  element.dataset.chart = title;
  container.append(element);
  window.Plotly.newPlot(element, traces, { ...LAYOUT, title: { text: title, x: 0 }, yaxis }, CONFIG);
}

// One store's charts, day by day, under its figures over the whole range (`total`: its group=store item).
function storeCharts(code, items, total) {
  const section = document.createElement("section");
  section.className = "store";
  section.dataset.store = code;
  const heading = document.createElement("h2");
  heading.textContent = code;
  const summary = document.createElement("p");
  summary.className = "summary";
  const orNone = (value, unit = "") => (value === null || value === undefined ? "–" : `${value}${unit}`);
  summary.textContent = t("summary", {
    orders: total.orders,
    kept: orNone(total.ready_on_time_pct, "%"),
    handover: orNone(total.handover_minutes_p50),
  });
  const grid = document.createElement("div");
  grid.className = "charts";
  section.append(heading, summary, grid);
  $("stores").append(section);

  const days = items.map((i) => i.day);
  const series = (key) => items.map((i) => i[key]);
  chart(grid, t("kept"), [{ x: days, y: series("ready_on_time_pct"), type: "bar", name: t("kept"),
    marker: { color: "#0b6e4f" } }], { range: [0, 100] });
  chart(grid, t("minutesToReady"), [
    { x: days, y: series("minutes_to_ready_p50"), type: "scatter", mode: "lines+markers", name: "p50" },
    { x: days, y: series("minutes_to_ready_p90"), type: "scatter", mode: "lines+markers", name: "p90" },
  ]);
  // Whole numbers: at most about five ticks, a step of at least one.
  const most = Math.max(1, ...items.map((i) => Math.max(i.rejected, i.short_picked, i.returns)));
  const counts = { rangemode: "tozero", dtick: Math.max(1, Math.ceil(most / 5)) };
  chart(grid, t("rejectionsShort"), [
    { x: days, y: series("rejected"), type: "bar", name: t("rejected"), marker: { color: "#b3261e" } },
    { x: days, y: series("short_picked"), type: "bar", name: t("short"), marker: { color: "#e8a33d" } },
  ], counts);
  chart(grid, t("noShows"), [{ x: days, y: series("expired_pct"), type: "scatter", mode: "lines+markers",
    name: t("expired"), marker: { color: "#6b4fbb" } }], { rangemode: "tozero" });
  chart(grid, t("returns"), [{ x: days, y: series("returns"), type: "bar", name: t("returns"),
    marker: { color: "#3b6fb6" } }], counts);
}

function chainTable(items) {
  const worst = [...items]
    .sort((a, b) => (a.ready_on_time_pct ?? 101) - (b.ready_on_time_pct ?? 101) || b.orders - a.orders)
    .slice(0, WORST_STORES);
  const body = $("chain-table").querySelector("tbody");
  body.replaceChildren(
    ...worst.map((i) => {
      const row = document.createElement("tr");
      const cells = [i.store_code, i.orders, i.ready_on_time_pct, i.minutes_to_ready_p50, i.minutes_to_ready_p90,
        i.rejected, i.short_picked, i.expired_pct, i.returns];
      for (const value of cells) {
        const cell = document.createElement("td");
        cell.textContent = value === null ? "–" : String(value);
        row.append(cell);
      }
      return row;
    }),
  );
  $("chain-chart").replaceChildren();
  window.Plotly.newPlot($("chain-chart"), [{ x: worst.map((i) => i.store_code), y: worst.map((i) => i.ready_on_time_pct),
    type: "bar", name: t("kept"), marker: { color: "#0b6e4f" } }],
    { ...LAYOUT, title: { text: t("kept"), x: 0 }, yaxis: { range: [0, 100] } }, CONFIG);
  return worst;
}

// ------------------------------------------------------------------------------------------- report

async function refresh() {
  const message = $("report-message");
  say(message, "");
  $("stores").replaceChildren();
  $("chain").hidden = true;
  const params = new URLSearchParams({ from: $("from").value, to: $("to").value });
  const store = auth.role === "admin" ? $("store").value.trim().toUpperCase() : auth.store;
  try {
    if (store) {
      const one = `${REPORT}?${params}&store=${encodeURIComponent(store)}`;
      const [{ items }, whole] = await Promise.all([get(one), get(`${one}&group=store`)]);
      if (!items.length) say(message, t("empty"));
      else storeCharts(store, items, whole.items[0]);
    } else {
      const { items } = await get(`${REPORT}?${params}&group=store`);
      if (!items.length) {
        say(message, t("empty"));
        return;
      }
      $("chain").hidden = false;
      const worst = chainTable(items);
      for (const item of worst.slice(0, CHARTED_STORES)) {
        const days = await get(`${REPORT}?${params}&store=${encodeURIComponent(item.store_code)}`);
        storeCharts(item.store_code, days.items, item);
      }
    }
    document.body.dataset.loaded = "true";
  } catch (error) {
    if (error.code === "unauthorized") {
      save(null);
      showSignIn();
      say($("sign-in-message"), sentence(error));
      return;
    }
    say(message, sentence(error));
  }
}

// ------------------------------------------------------------------------------------------- wiring

for (const element of document.querySelectorAll("[data-t]")) element.textContent = t(element.dataset.t);
for (const element of document.querySelectorAll("[data-t-placeholder]")) {
  element.placeholder = t(element.dataset.tPlaceholder);
}
document.documentElement.lang = LANG;
document.title = `${t("title")} · Winkelpunt`;

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  say($("sign-in-message"), "");
  try {
    await signIn($("secret").value.trim());
    $("secret").value = "";
    showReport();
  } catch (error) {
    say($("sign-in-message"), sentence(error));
  }
});
$("filters").addEventListener("submit", (event) => {
  event.preventDefault();
  refresh();
});
$("sign-out").addEventListener("click", () => {
  save(null);
  showSignIn();
});

if (auth) showReport();
else showSignIn();
