/*
 * The web dashboard as a user sees it: the built CLI (dist/sim.mjs) run as a child process
 * serves the page, and a real headless Chromium (Debian's /usr/bin/chromium, or
 * $CHROMIUM, driven by playwright-core) opens it. Checked: the page lists every board
 * (paged, with a filter), a chart grows with the live feed, a relay toggle sends the command
 * through the broker so that an independent mosquitto_sub sees the retained state ON,
 * cutting a board's network shows it offline, a chip's reading set from the page appears in
 * the board's message log, restarting the embedded broker brings the boards back; also on
 * the XS engine and with --broker pointing at an external mosquitto; no console errors.
 * Everything listens on 127.0.0.1; every child (its whole process group) and the browser are
 * stopped after each test, and a child runs at most CHILD_TIMEOUT.
 */

import { execFile, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { promisify } from "node:util";
import { chromium } from "playwright-core";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { Mosquitto, mosquittoPath, stopAllMosquittos } from "./brokers/mosquitto.js";

const root = join(import.meta.dirname, "..");
const SIM = join(root, "dist/sim.mjs");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
/** The longest a simulator child runs before it is killed. */
const CHILD_TIMEOUT = 90_000;
/** How long the page gets to show a change. */
const SHOWN = 15_000;
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => stopAllMosquittos());

interface Sim {
  dashboard: string;
  brokerPort: number;
  output(): string;
}

/** Starts `node dist/sim.mjs args` in a process group of its own; resolves once its header named the dashboard. */
function startSim(args: string[]): Promise<Sim> {
  const child = spawn(process.execPath, [SIM, "--duration", String(CHILD_TIMEOUT / 1000), ...args], { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  cleanups.push(async () => {
    // Ctrl-C as a user would stop it; the whole group is killed if it does not end
    try {
      process.kill(-child.pid!, "SIGINT");
    } catch {
      return; // gone already
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }, 15_000);
    await exited;
    clearTimeout(timer);
  });
  return new Promise((resolve, reject) => {
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const dashboard = /^dashboard: +(http:\/\/\S+)$/m.exec(stdout);
      const broker = /mosquitto_sub -h 127\.0\.0\.1 -p (\d+)/.exec(stdout);
      if (dashboard !== null && broker !== null) resolve({ dashboard: dashboard[1], brokerPort: Number(broker[1]), output: () => stdout + stderr });
    });
    void exited.then(() => reject(new Error(`the simulator ended before its dashboard was up:\n${stdout}${stderr}`)));
  });
}

/** A fresh browser profile and a page that records console errors and uncaught exceptions. */
async function openPage(url: string): Promise<{ page: Page; errors: string[] }> {
  const profile = mkdtempSync(join(tmpdir(), "xs-mqtt-chromium-"));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1400, height: 900 },
  });
  cleanups.push(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const page = context.pages()[0] ?? await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(url);
  await page.locator("#connection.live").waitFor({ timeout: SHOWN });
  return { page, errors };
}

/** mosquitto_sub: on the PATH, else next to mosquitto (Debian puts mosquitto in /usr/sbin, the clients in /usr/bin). */
function mosquittoSubPath(): string {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), dirname(mosquittoPath()), join(dirname(mosquittoPath()), "../bin")];
  for (const dir of dirs) {
    try {
      accessSync(join(dir, "mosquitto_sub"), constants.X_OK);
      return join(dir, "mosquitto_sub");
    } catch {
      // not here
    }
  }
  throw new Error("mosquitto_sub is not on the PATH nor next to mosquitto (Debian: apt-get install mosquitto-clients)");
}

/** The retained message on a topic as an independent mosquitto_sub sees it: "<retain flag> <payload>". */
async function retained(port: number, topic: string): Promise<string> {
  const { stdout } = await promisify(execFile)(mosquittoSubPath(), ["-h", "127.0.0.1", "-p", String(port), "-t", topic, "-C", "1", "-W", "5", "-F", "%r %p"]);
  return stdout.trim();
}

/** Clicks a board's relay toggle and checks that the retained state becomes ON for an outside subscriber. */
async function toggleRelay(page: Page, brokerPort: number, board: string): Promise<void> {
  const toggle = page.locator(`#rows tr[data-board="${board}"] button[data-actuator="relay"]`);
  await expect.poll(() => toggle.getAttribute("aria-pressed"), { timeout: SHOWN }).toBe("false");
  await toggle.click();
  await expect.poll(() => toggle.getAttribute("aria-pressed"), { timeout: SHOWN }).toBe("true");
  expect(await retained(brokerPort, `xs-mqtt/${board}/relay/state`)).toBe("1 ON");
}

function statusOf(page: Page, board: string) {
  return () => page.locator(`#rows tr[data-board="${board}"] td.status`).getAttribute("data-status");
}

describe("the dashboard in Chromium", () => {
  it("lists every board, pages and filters them, and a chart grows with the live feed", async () => {
    const sim = await startSim(["--devices", "60"]);
    expect(sim.dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const { page, errors } = await openPage(sim.dashboard);
    await expect.poll(() => page.locator("#online").textContent(), { timeout: SHOWN }).toBe("60");
    expect(await page.locator("#boards").textContent()).toBe("60");
    expect(await page.locator("#rows tr").count()).toBe(50);
    expect(await page.locator("#pages").textContent()).toBe("page 1 of 2 (60 boards)");
    await page.locator("#next").click();
    await expect.poll(() => page.locator("#rows tr").count(), { timeout: SHOWN }).toBe(10);
    expect(await page.locator("#rows tr").first().getAttribute("data-board")).toBe("board-51");
    await page.locator("#filter").fill("board-1");
    // board-1, board-10 ... board-19
    await expect.poll(() => page.locator("#rows tr").count(), { timeout: SHOWN }).toBe(11);
    await page.locator("#rows tr[data-board='board-12'] td").first().click();
    const chart = page.locator("#board-charts [data-chart='temperature']");
    await chart.waitFor({ timeout: SHOWN });
    const points = Number(await chart.getAttribute("data-points"));
    await expect.poll(async () => Number(await chart.getAttribute("data-points")), { timeout: SHOWN }).toBeGreaterThan(points + 1);
    expect(Number(await page.locator("#fleet-chart").getAttribute("data-points"))).toBeGreaterThan(1);
    expect(errors).toEqual([]);
  });

  it("a relay toggle sends the command through the broker: the retained state turns ON [MQTT-3.3.1-5]", async () => {
    const sim = await startSim(["--devices", "3"]);
    const { page, errors } = await openPage(sim.dashboard);
    await toggleRelay(page, sim.brokerPort, "board-2");
    // the other boards' relays stay off: the command went to board-2's topic only
    expect(await page.locator(`#rows tr[data-board="board-1"] button[data-actuator="relay"]`).getAttribute("aria-pressed")).toBe("false");
    expect(errors).toEqual([]);
  });

  it("cutting a board's network shows it offline; restoring it brings it back online", async () => {
    const sim = await startSim(["--devices", "3"]);
    const { page, errors } = await openPage(sim.dashboard);
    await expect.poll(statusOf(page, "board-3"), { timeout: SHOWN }).toBe("online");
    await page.locator("#rows tr[data-board='board-3'] td").first().click();
    await page.locator("#network", { hasText: "Cut network" }).click();
    await expect.poll(statusOf(page, "board-3"), { timeout: SHOWN }).toBe("offline");
    expect(await statusOf(page, "board-1")()).toBe("online");
    await page.locator("#network", { hasText: "Restore network" }).click();
    await expect.poll(statusOf(page, "board-3"), { timeout: SHOWN }).toBe("online");
    expect(errors).toEqual([]);
  });

  it("a reading set from the page is published, and the board's message log shows it with its QoS and retain flag", async () => {
    const sim = await startSim(["--devices", "2"]);
    const { page, errors } = await openPage(sim.dashboard);
    await page.locator("#rows tr[data-board='board-1'] td").first().click();
    await page.locator("#chip-form input[name='temperature']").fill("31.5");
    await page.locator("#chip-form button[type='submit']").click();
    const row = page.locator("#log tr", { hasText: "xs-mqtt/board-1/climate/state" }).filter({ hasText: '"temperature":31.50' });
    await row.first().waitFor({ timeout: SHOWN });
    const cells = await row.first().locator("td").allTextContents();
    expect(cells.slice(3)).toEqual(["0", "no"]); // QoS 0; live on 3.1.1 (aedes), delivered with retain 0 [MQTT-3.3.1-9]
    await expect.poll(() => page.locator("#rows tr[data-board='board-1'] td").nth(2).textContent(), { timeout: SHOWN }).toContain("31.5");
    expect(errors).toEqual([]);
  });

  it("restarting the embedded broker: the boards go back online on the same port", async () => {
    const sim = await startSim(["--devices", "3"]);
    const { page, errors } = await openPage(sim.dashboard);
    await expect.poll(() => page.locator("#online").textContent(), { timeout: SHOWN }).toBe("3");
    const restart = page.waitForResponse((response) => response.url().endsWith("/api/broker/restart"));
    await page.locator("#restart-broker").click();
    expect((await restart).status()).toBe(200);
    // the restarted broker keeps nothing: each board's retained "online" is there once it has reconnected
    for (const board of ["board-1", "board-2", "board-3"]) {
      await expect.poll(() => retained(sim.brokerPort, `xs-mqtt/${board}/status`).catch(() => ""), { timeout: SHOWN }).toBe("1 online");
    }
    await expect.poll(() => page.locator("#online").textContent(), { timeout: SHOWN }).toBe("3");
    await toggleRelay(page, sim.brokerPort, "board-1");
    expect(errors).toEqual([]);
  });

  it("on the XS engine: the boards are listed and a toggle reaches the board through the broker", async () => {
    const sim = await startSim(["--devices", "2", "--engine", "xs"]);
    const { page, errors } = await openPage(sim.dashboard);
    await expect.poll(() => page.locator("#online").textContent(), { timeout: 30_000 }).toBe("2");
    await toggleRelay(page, sim.brokerPort, "board-1");
    expect(errors).toEqual([]);
  });

  it("with --broker and an external mosquitto: a toggle, and the log keeps the retain flag as published (MQTT 5.0)", async () => {
    const mosquitto = await Mosquitto.start();
    const sim = await startSim(["--devices", "2", "--broker", `mqtt://127.0.0.1:${mosquitto.port}`]);
    expect(sim.brokerPort).toBe(mosquitto.port);
    const { page, errors } = await openPage(sim.dashboard);
    expect(await page.locator("#restart-broker").isHidden()).toBe(true);
    await page.locator("#rows tr[data-board='board-2'] td").first().click();
    await page.locator("#log tr").first().waitFor({ timeout: SHOWN });
    await toggleRelay(page, sim.brokerPort, "board-2");
    const state = page.locator("#log tr", { hasText: "xs-mqtt/board-2/relay/state" }).filter({ hasText: "ON" });
    await state.first().waitFor({ timeout: SHOWN });
    expect((await state.first().locator("td").allTextContents()).slice(3)).toEqual(["1", "yes"]);
    const command = page.locator("#log tr", { hasText: "xs-mqtt/board-2/relay/set" });
    expect((await command.first().locator("td").allTextContents()).slice(2)).toEqual(["ON", "1", "no"]);
    expect(errors).toEqual([]);
  });
});
