/*
 * The dashboard's HTTP server: serves the built page (dist/dashboard/), a live feed over
 * Server-Sent Events (one frame per tick per client: the fleet's numbers, the client's page
 * of boards, its chosen board and that board's new log entries; a frame is skipped while
 * the client's socket still holds more than MAX_BUFFERED bytes, so nothing grows for a slow
 * client), a small JSON API for the histories and the world's controls, and an MQTT client
 * of its own: it publishes an actuator's command on the board's command topic as Home
 * Assistant does (QoS 1, not retained) and subscribes to the chosen boards' topics for their
 * message logs. Listens on 127.0.0.1 unless told otherwise. It never drives a pin: commands
 * go through the broker. Node side only.
 */

import { readFile } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "mqtt";
import type { MqttClient } from "mqtt";
import { DashboardFeed } from "./feed.js";
import type { DashboardSource } from "./source.js";
import { filterMatches } from "../watcher.js";

/** A client's frame is skipped while its socket holds more than this many bytes unsent. */
const MAX_BUFFERED = 256 * 1024;
/** Boards on a page of the grid. */
export const PAGE_SIZE = 50;
/** The largest request body, bytes. */
const MAX_BODY = 16 * 1024;
/** The page's files, as built into dist/dashboard/. */
const ASSETS: Readonly<Record<string, string>> = {
  "/": "index.html",
  "/index.html": "index.html",
  "/app.js": "app.js",
  "/app.css": "app.css",
};
const TYPES: Readonly<Record<string, string>> = { html: "text/html; charset=utf-8", js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8" };

export interface DashboardOptions {
  source: DashboardSource;
  /** 0 (default): a free port. */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  /** ms between frames (default 1000). */
  tickMs?: number;
  /** ms between two points of a board's readings history (default 30000: 120 points an hour). */
  historyStepMs?: number;
  /** The built page's folder (default: dashboard/ next to this bundle, i.e. dist/dashboard/). */
  assets?: string;
}

export interface Dashboard {
  /** http://host:port/ */
  readonly url: string;
  /** ms of this process's time spent on the ticks so far: the feed's sampling and every client's frame (for benchmarks). */
  readonly busyMs: number;
  /** Ends every feed, stops listening, disconnects its MQTT client. Safe to call twice. */
  close(): Promise<void>;
}

interface FeedClient {
  id: number;
  res: http.ServerResponse;
  filter: string;
  status: string;
  page: number;
  board: string | undefined;
  logSeq: number;
  dropped: number;
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const source = options.source;
  const tickMs = options.tickMs ?? 1000;
  const assets = options.assets ?? fileURLToPath(new URL("./dashboard/", import.meta.url));
  const feed = new DashboardFeed(source, { tickMs, historyStepMs: options.historyStepMs ?? 30_000 });
  const clients = new Map<number, FeedClient>();
  let nextClient = 1;
  /** Boards whose topics the MQTT client is subscribed to, with how many clients chose each. */
  const watched = new Map<string, number>();
  const mqtt = mqttClient(source, feed, watched);

  const watch = (id: string | undefined, delta: number): void => {
    if (id === undefined) return;
    const count = (watched.get(id) ?? 0) + delta;
    const filters = source.messageFilters(id);
    if (filters === undefined) return;
    if (count > 0 && !watched.has(id)) {
      feed.watch(id);
      mqtt.subscribe(filters, { qos: 2, rap: true });
    }
    if (count > 0) watched.set(id, count);
    else if (watched.delete(id)) {
      feed.unwatch(id);
      mqtt.unsubscribe(filters);
    }
  };

  let busyMs = 0;
  const sendFrames = (): void => {
    const began = performance.now();
    sendAll();
    busyMs += performance.now() - began;
  };
  const sendAll = (): void => {
    feed.tick();
    for (const client of clients.values()) {
      if (client.res.writableLength > MAX_BUFFERED) {
        client.dropped++;
        continue;
      }
      client.res.write(`data: ${JSON.stringify(frame(client))}\n\n`);
    }
  };

  const frame = (client: FeedClient): object => {
    const ids = source.ids();
    const needle = client.filter.toLowerCase();
    const chosen: string[] = [];
    let total = 0;
    const first = client.page * PAGE_SIZE;
    for (const id of ids) {
      if (needle !== "" && !id.toLowerCase().includes(needle)) continue;
      if (client.status !== "" && source.status(id) !== client.status) continue;
      if (total >= first && total < first + PAGE_SIZE) chosen.push(id);
      total++;
    }
    let board: object | undefined;
    if (client.board !== undefined) {
      const log = feed.log(client.board, client.logSeq);
      if (log.length > 0) client.logSeq = log[log.length - 1].seq;
      board = { row: source.row(client.board), log };
    }
    return {
      fleet: feed.latest,
      page: { page: client.page, pages: Math.max(1, Math.ceil(total / PAGE_SIZE)), total, rows: chosen.map((id) => source.row(id)) },
      board,
      dropped: client.dropped,
    };
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: Error) => reply(res, 500, { error: error.message }));
  });

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://dashboard");
    const path = url.pathname;
    if (req.method === "GET" && ASSETS[path] !== undefined) {
      const file = ASSETS[path];
      const body = await readFile(join(assets, file)).catch(() => undefined);
      if (body === undefined) return reply(res, 500, { error: `the page is not built: ${join(assets, file)} is missing (npm run build)` });
      res.writeHead(200, { "content-type": TYPES[file.slice(file.lastIndexOf(".") + 1)], "cache-control": "no-cache" });
      res.end(body);
      return;
    }
    if (req.method === "GET" && path === "/events") {
      const client: FeedClient = { id: nextClient++, res, filter: "", status: "", page: 0, board: undefined, logSeq: 0, dropped: 0 };
      clients.set(client.id, client);
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
      res.write(`event: hello\ndata: ${JSON.stringify({ client: client.id, broker: source.brokerUrl, embedded: source.embeddedBroker, tickMs })}\n\n`);
      res.write(`data: ${JSON.stringify(frame(client))}\n\n`);
      req.once("close", () => {
        clients.delete(client.id);
        watch(client.board, -1);
      });
      return;
    }
    if (req.method === "GET" && path === "/api/fleet") return reply(res, 200, feed.fleetHistory());
    const boardPath = /^\/api\/boards\/([^/]+)\/(history|actuators\/([^/]+)|chip|network)$/.exec(path);
    if (req.method === "GET" && boardPath?.[2] === "history") {
      const history = feed.boardHistory(decodeURIComponent(boardPath[1]));
      return history === undefined ? reply(res, 404, { error: "no such board" }) : reply(res, 200, history);
    }
    if (req.method !== "POST") return reply(res, 404, { error: `no ${req.method} ${path}` });
    // a JSON body only: a form of another site cannot send one without the browser asking first
    if (!(req.headers["content-type"] ?? "").startsWith("application/json")) return reply(res, 415, { error: "send application/json" });
    const body = await readBody(req);
    if (body === undefined) return reply(res, 400, { error: `the body must be a JSON object of at most ${MAX_BODY} bytes` });
    if (path === "/api/view") {
      const client = clients.get(Number(body.client));
      if (client === undefined) return reply(res, 404, { error: "no such feed client" });
      client.filter = typeof body.filter === "string" ? body.filter.slice(0, 100) : "";
      client.status = typeof body.status === "string" ? body.status : "";
      client.page = Number.isInteger(body.page) && (body.page as number) >= 0 ? body.page as number : 0;
      const board = typeof body.board === "string" && source.row(body.board) !== undefined ? body.board : undefined;
      if (board !== client.board) {
        watch(client.board, -1);
        watch(board, 1);
        client.board = board;
        client.logSeq = 0;
      }
      reply(res, 200, frame(client));
      return;
    }
    if (path === "/api/broker/restart") {
      if (!source.embeddedBroker) return reply(res, 409, { error: "only the embedded broker can be restarted from here" });
      await source.restartBroker();
      return reply(res, 200, { restarted: true });
    }
    if (boardPath === null) return reply(res, 404, { error: `no POST ${path}` });
    const id = decodeURIComponent(boardPath[1]);
    if (source.row(id) === undefined) return reply(res, 404, { error: `no board ${JSON.stringify(id)}` });
    if (boardPath[3] !== undefined) {
      const topic = source.commandTopic(id, decodeURIComponent(boardPath[3]));
      if (topic === undefined) return reply(res, 404, { error: `${id} has no actuator ${JSON.stringify(boardPath[3])}` });
      if (body.state !== "ON" && body.state !== "OFF") return reply(res, 400, { error: 'state must be "ON" or "OFF"' });
      if (!await connected(mqtt)) return reply(res, 503, { error: `not connected to the broker ${source.brokerUrl}` });
      await mqtt.publishAsync(topic, body.state, { qos: 1, retain: false });
      return reply(res, 200, { topic, payload: body.state });
    }
    const problem = boardPath[2] === "chip"
      ? await source.setChip(id, String(body.chip), (body.values ?? {}) as Record<string, number>)
      : source.setNetwork(id, body.up === true);
    return problem === undefined ? reply(res, 200, { done: true }) : reply(res, 400, { error: problem });
  };

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  }).catch(async (error: Error) => {
    await mqtt.endAsync(true);
    throw error;
  });
  const timer = setInterval(sendFrames, tickMs);
  feed.tick();
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}/`,
    get busyMs() {
      return busyMs;
    },
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        for (const client of clients.values()) client.res.end();
        clients.clear();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        await mqtt.endAsync(true);
      })();
      return closing;
    },
  };
}

/** The dashboard's MQTT client: commands out, the watched boards' messages into the feed. */
function mqttClient(source: DashboardSource, feed: DashboardFeed, watched: Map<string, number>): MqttClient {
  const client = connect(source.brokerUrl, {
    // MQTT 5.0 keeps each message's retain flag as published (an external broker, unless it
    // speaks 3.1.1 only: below); the embedded aedes speaks 3.1.1, where a live message
    // arrives with retain 0
    protocolVersion: source.embeddedBroker ? 4 : 5,
    clientId: `xs-mqtt-dashboard-${process.pid}-${Math.floor(Math.random() * 1e9).toString(36)}`,
    clean: true,
    reconnectPeriod: 500,
    connectTimeout: 5_000,
    ca: source.ca,
  });
  client.on("error", (error: Error & { code?: unknown }) => {
    // a broker that speaks 3.1.1 only refuses 5.0 (CONNACK 1): the next attempt speaks 3.1.1;
    // any other error: it reconnects by itself, and a command meanwhile gets a 503
    if (error.code === 1 && client.options.protocolVersion === 5) {
      client.options.protocolVersion = 4;
      // MQTT.js does not retry after a refusing CONNACK by itself
      setImmediate(() => {
        if (!client.disconnecting && !client.disconnected) client.reconnect();
      });
    }
  });
  client.on("connect", () => {
    // a fresh session (clean, or a restarted broker): subscribe again
    for (const id of watched.keys()) client.subscribe(source.messageFilters(id) ?? [], { qos: 2, rap: true });
  });
  client.on("message", (topic, payload, packet) => {
    for (const id of watched.keys()) {
      if ((source.messageFilters(id) ?? []).some((filter) => filterMatches(filter, topic))) {
        feed.message(id, topic, payload.toString("utf8"), packet.qos, packet.retain);
      }
    }
  });
  return client;
}

/** How long a command waits for the MQTT client to (re)connect, ms. */
const CONNECT_WAIT = 5_000;

/** Whether the client is connected, or connects within CONNECT_WAIT (after a broker restart, say). */
async function connected(client: MqttClient): Promise<boolean> {
  if (client.connected) return true;
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      client.off("connect", onConnect);
      resolve(ok);
    };
    const onConnect = () => done(true);
    const timer = setTimeout(() => done(false), CONNECT_WAIT);
    client.on("connect", onConnect);
  });
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-cache" });
  res.end(JSON.stringify(body));
}

/** The request's JSON object, or undefined when it is too long, not JSON or not an object. */
async function readBody(req: http.IncomingMessage): Promise<Record<string, unknown> | undefined> {
  let text = "";
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > MAX_BODY) return undefined;
  }
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

export { simulatorSource } from "./source.js";
export type { BoardRow, DashboardSource, FleetTotals } from "./source.js";
