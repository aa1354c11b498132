// Saves docs/dashboard.png: a real screenshot of the dashboard. Starts the built CLI
// (dist/sim.mjs, 12 boards, the embedded broker on 127.0.0.1) and a headless Chromium
// ($CHROMIUM, default Debian's /usr/bin/chromium, driven by playwright-core) with a fresh
// profile; chooses board-1, switches board-2's relay on, sets board-1's temperature, lets
// the charts fill for SECONDS, and shoots. Stops the simulator (Ctrl-C, its whole process
// group) and the browser, also after an error. Writes only docs/dashboard.png.
// Usage: npm run screenshot:dashboard (builds dist/ first).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const SECONDS = 25;
const sim = spawn(process.execPath, [join(root, "dist/sim.mjs"), "--devices", "12", "--duration", "120"], { cwd: root, detached: true, stdio: ["ignore", "pipe", "inherit"] });
const exited = new Promise((resolve) => sim.once("close", resolve));
const profile = mkdtempSync(join(tmpdir(), "xs-mqtt-chromium-"));
let context;
try {
  const url = await new Promise((resolve, reject) => {
    let out = "";
    sim.stdout.on("data", (chunk) => {
      out += chunk;
      const found = /^dashboard: +(http:\/\/\S+)$/m.exec(out);
      if (found !== null) resolve(found[1]);
    });
    exited.then(() => reject(new Error(`the simulator ended:\n${out}`)));
  });
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1400, height: 1000 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(url);
  await page.locator("#connection.live").waitFor();
  await page.locator("#rows tr[data-board='board-1'] td").first().click();
  await page.locator("#rows tr[data-board='board-2'] button[data-actuator='relay']").click();
  await page.waitForTimeout(SECONDS * 500);
  await page.locator("#chip-form input[name='temperature']").fill("27.5");
  await page.locator("#chip-form button[type='submit']").click();
  await page.waitForTimeout(SECONDS * 500);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(root, "docs/dashboard.png") });
  console.log("docs/dashboard.png saved");
} finally {
  await context?.close();
  rmSync(profile, { recursive: true, force: true });
  try {
    process.kill(-sim.pid, "SIGINT");
  } catch {
    // gone already
  }
  await exited;
}
