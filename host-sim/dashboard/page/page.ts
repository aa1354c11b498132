/*
 * The dashboard's page script (bundled by build/build.mjs into dist/dashboard/app.js, with
 * uPlot): draws the fleet numbers and chart, the page of boards the server sends, the chosen
 * board's charts, controls and message log, from the server's Server-Sent Events. It asks
 * the server for changes of view and for commands (JSON over fetch); it never polls.
 * Browser only: no Node API.
 */

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./page.css";

interface Reading { key: string; name: string; unit: string | null; value: number | null }
interface Row {
  id: string;
  status: string;
  readings: Reading[];
  actuators: { id: string; name: string; state: string }[];
  sent: number;
  received: number;
  cut: boolean;
  error: string | null;
}
interface LogEntry { seq: number; t: number; topic: string; payload: string; qos: number; retain: boolean }
interface Frame {
  fleet: { t: number; boards: number; online: number; rate: number };
  page: { page: number; pages: number; total: number; rows: Row[] };
  board?: { row: Row; log: LogEntry[] };
}
interface Series { t: number[]; values: Record<string, (number | null)[]> }

/** Points a chart keeps (an hour at one a second). */
const MAX_POINTS = 3600;
/** Log rows the page keeps. */
const MAX_LOG = 200;
/** Which chip sets which reading. */
const CHIP_OF: Record<string, string> = { temperature: "sht3x", humidity: "sht3x", illuminance: "bh1750" };

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const view = { client: 0, filter: "", status: "", page: 0, board: undefined as string | undefined };
let pages = 1;
let fleetChart: uPlot | undefined;
let fleetData: [number[], number[], number[]] = [[], [], []];
let boardCharts: { key: string; element: HTMLElement; chart: uPlot; data: [number[], (number | null)[]] }[] = [];

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function reading(r: Reading): string {
  return `${escape(r.name)} ${r.value === null ? "-" : r.value}${r.unit === null ? "" : " " + escape(r.unit)}`;
}

async function post(path: string, body: object): Promise<unknown> {
  const response = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const answer = await response.json() as { error?: string };
  if (!response.ok) throw new Error(answer.error ?? `${response.status}`);
  return answer;
}

/** Reports a failed request in the header (and not as an uncaught error). */
function failed(error: Error): void {
  const badge = $("connection");
  badge.textContent = error.message;
  badge.className = "badge";
}

function chart(element: HTMLElement, title: string, series: uPlot.Series[], data: uPlot.AlignedData, axes?: uPlot.Axis[]): uPlot {
  const width = Math.max(200, element.clientWidth || 400);
  return new uPlot({ title, width, height: 120, series: [{}, ...series], axes, legend: { show: true } }, data, element);
}

function drawFleet(history: Series): void {
  fleetData = [history.t.map((t) => t / 1000), history.values.online as number[], history.values.rate as number[]];
  fleetChart = chart($("fleet-chart"), "fleet", [
    { label: "online", stroke: "#1b7f3b", scale: "boards" },
    { label: "messages/s", stroke: "#2f62c8", scale: "rate" },
  ], fleetData, [{}, { scale: "boards" }, { scale: "rate", side: 1, grid: { show: false } }]);
}

function renderRows(page: Frame["page"]): void {
  pages = page.pages;
  $("pages").textContent = `page ${page.page + 1} of ${page.pages} (${page.total} boards)`;
  $("rows").innerHTML = page.rows.map((row) => `<tr data-board="${escape(row.id)}" class="${row.id === view.board ? "chosen" : ""}">` +
    `<td>${escape(row.id)}</td>` +
    `<td class="status ${row.status.replace(" ", "-")}" data-status="${escape(row.status)}">${escape(row.status)}</td>` +
    `<td class="readings">${row.readings.map((r) => `<span>${reading(r)}</span>`).join(", ")}</td>` +
    `<td>${row.actuators.map((a) => `<button type="button" class="toggle" data-actuator="${escape(a.id)}" aria-pressed="${a.state === "ON"}">` +
      `${escape(a.name)} ${escape(a.state)}</button>`).join(" ")}</td>` +
    `<td>${row.sent} / ${row.received}</td>` +
    `<td class="error">${row.error === null ? "" : escape(row.error)}</td></tr>`).join("");
}

function renderBoard(board: Frame["board"], t: number): void {
  if (board === undefined || board.row === undefined) return;
  const row = board.row;
  $("board-id").innerHTML = `${escape(row.id)} <span class="status ${row.status.replace(" ", "-")}" data-status="${escape(row.status)}">${escape(row.status)}</span>`;
  $("network").dataset.cut = String(row.cut);
  $("network").textContent = row.cut ? "Restore network" : "Cut network";
  for (const entry of boardCharts) {
    const value = row.readings.find((r) => r.key === entry.key)?.value ?? null;
    entry.data[0].push(t / 1000);
    entry.data[1].push(value);
    if (entry.data[0].length > MAX_POINTS) {
      entry.data[0].shift();
      entry.data[1].shift();
    }
    entry.chart.setData(entry.data);
    entry.element.dataset.points = String(entry.data[0].length);
  }
  const log = $("log");
  for (const m of board.log) {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td>${new Date(m.t).toLocaleTimeString()}</td><td>${escape(m.topic)}</td><td>${escape(m.payload)}</td><td>${m.qos}</td><td>${m.retain ? "yes" : "no"}</td>`;
    log.prepend(tr);
  }
  while (log.children.length > MAX_LOG) log.lastElementChild!.remove();
}

async function choose(id: string): Promise<void> {
  view.board = id;
  $("board").hidden = false;
  $("log").innerHTML = "";
  for (const entry of boardCharts) entry.chart.destroy();
  boardCharts = [];
  const charts = $("board-charts");
  charts.innerHTML = "";
  const history = await fetch(`/api/boards/${encodeURIComponent(id)}/history`).then((r) => r.json()) as Series;
  const frame = await post("/api/view", view) as Frame;
  const row = frame.board?.row;
  if (row === undefined) return;
  const form = $("chip-form");
  form.innerHTML = row.readings.filter((r) => CHIP_OF[r.key] !== undefined).map((r) =>
    `<label>${escape(r.name)}${r.unit === null ? "" : ` (${escape(r.unit)})`}<input name="${escape(r.key)}" type="number" step="any" value="${r.value ?? ""}"></label>`).join("") +
    `<button type="submit">Set readings</button>`;
  for (const r of row.readings) {
    const element = document.createElement("div");
    element.className = "chart";
    element.dataset.chart = r.key;
    charts.append(element);
    const data: [number[], (number | null)[]] = [history.t.map((t) => t / 1000), history.values[r.key] ?? history.t.map(() => null)];
    element.dataset.points = String(data[0].length);
    boardCharts.push({ key: r.key, element, data, chart: chart(element, `${r.name}${r.unit === null ? "" : ` (${r.unit})`}`, [{ label: r.name, stroke: "#c8582f" }], data) });
  }
  renderRows(frame.page);
  renderBoard(frame.board, frame.fleet.t);
}

async function changeView(): Promise<void> {
  const frame = await post("/api/view", view) as Frame;
  renderRows(frame.page);
}

function listen(): void {
  const events = new EventSource("/events");
  events.addEventListener("hello", (event) => {
    const hello = JSON.parse((event as MessageEvent<string>).data) as { client: number; broker: string; embedded: boolean };
    view.client = hello.client;
    $("broker").textContent = `broker ${hello.broker}${hello.embedded ? " (embedded)" : ""}`;
    ($("restart-broker") as HTMLButtonElement).hidden = !hello.embedded;
    const badge = $("connection");
    badge.textContent = "live";
    badge.className = "badge live";
    // a feed opened anew (the server restarted it): the view as it was
    if (view.filter !== "" || view.status !== "" || view.page !== 0 || view.board !== undefined) changeView().catch(failed);
  });
  events.onmessage = (event) => {
    const frame = JSON.parse(event.data as string) as Frame;
    $("online").textContent = String(frame.fleet.online);
    $("boards").textContent = String(frame.fleet.boards);
    $("rate").textContent = String(frame.fleet.rate);
    if (fleetChart !== undefined) {
      fleetData[0].push(frame.fleet.t / 1000);
      fleetData[1].push(frame.fleet.online);
      fleetData[2].push(frame.fleet.rate);
      if (fleetData[0].length > MAX_POINTS) for (const column of fleetData) column.shift();
      fleetChart.setData(fleetData);
      $("fleet-chart").dataset.points = String(fleetData[0].length);
    }
    renderRows(frame.page);
    if (frame.board !== undefined && frame.board.row?.id === view.board) renderBoard(frame.board, frame.fleet.t);
  };
  events.onerror = () => {
    const badge = $("connection");
    badge.textContent = "reconnecting";
    badge.className = "badge";
  };
}

$("rows").addEventListener("click", (event) => {
  const target = event.target as HTMLElement;
  const tr = target.closest("tr");
  const id = tr?.dataset.board;
  if (id === undefined) return;
  const toggle = target.closest<HTMLButtonElement>("button.toggle");
  if (toggle !== null) {
    const state = toggle.getAttribute("aria-pressed") === "true" ? "OFF" : "ON";
    post(`/api/boards/${encodeURIComponent(id)}/actuators/${encodeURIComponent(toggle.dataset.actuator!)}`, { state }).catch(failed);
    return;
  }
  choose(id).catch(failed);
});
$("filter").addEventListener("input", () => {
  view.filter = ($("filter") as HTMLInputElement).value;
  view.page = 0;
  changeView().catch(failed);
});
$("status").addEventListener("change", () => {
  view.status = ($("status") as HTMLSelectElement).value;
  view.page = 0;
  changeView().catch(failed);
});
$("prev").addEventListener("click", () => {
  if (view.page === 0) return;
  view.page--;
  changeView().catch(failed);
});
$("next").addEventListener("click", () => {
  if (view.page + 1 >= pages) return;
  view.page++;
  changeView().catch(failed);
});
$("network").addEventListener("click", () => {
  const button = $("network");
  const up = button.dataset.cut === "true";
  post(`/api/boards/${encodeURIComponent(view.board!)}/network`, { up }).then(() => {
    button.dataset.cut = String(!up);
    button.textContent = up ? "Cut network" : "Restore network";
  }).catch(failed);
});
$("chip-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const chips: Record<string, Record<string, number>> = {};
  for (const input of Array.from($("chip-form").querySelectorAll("input"))) {
    if (input.value === "") continue;
    (chips[CHIP_OF[input.name]] ??= {})[input.name] = Number(input.value);
  }
  Promise.all(Object.entries(chips).map(([chip, values]) => post(`/api/boards/${encodeURIComponent(view.board!)}/chip`, { chip, values }))).catch(failed);
});
$("restart-broker").addEventListener("click", () => {
  post("/api/broker/restart", {}).catch(failed);
});

fetch("/api/fleet").then((r) => r.json()).then((history: Series) => drawFleet(history)).catch(failed);
listen();
