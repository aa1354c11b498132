/*
 * Where the broker suites find mosquitto and mosquitto_passwd (test/brokers/mosquitto.ts):
 * $MOSQUITTO when set, else the PATH, and an error naming both when neither has it. The
 * lookups get an environment of their own, with small executable scripts in temp dirs
 * standing for the programs; the last test starts the real mosquitto found this way.
 * Temp dirs are removed and the broker stopped in afterAll.
 */

import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Mosquitto, mosquittoPasswdPath, mosquittoPath, stopAllMosquittos } from "./brokers/mosquitto.js";

const work = mkdtempSync(join(tmpdir(), "xs-mqtt-mosquitto-path-"));

/** A folder under the temp dir holding these files, executable unless `plain` lists them. */
function folder(name: string, files: string[], plain: string[] = []): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const file of [...files, ...plain]) {
    writeFileSync(join(dir, file), "#!/bin/sh\nexit 0\n");
    chmodSync(join(dir, file), plain.includes(file) ? 0o644 : 0o755);
  }
  return dir;
}

const systemDir = folder("system", ["mosquitto"]);
const userDir = folder("user", ["mosquitto", "mosquitto_passwd"]);
const notExecutable = folder("plain", [], ["mosquitto", "mosquitto_passwd"]);
const empty = folder("empty", []);
const own = folder("own", ["mosquitto", "mosquitto_passwd"]);

afterAll(async () => {
  await stopAllMosquittos();
  rmSync(work, { recursive: true, force: true });
});

describe("mosquittoPath()", () => {
  it("takes the first executable mosquitto on the PATH, skipping relative entries and non-executable files", () => {
    const PATH = ["", "relative/dir", notExecutable, empty, systemDir, userDir].join(delimiter);
    expect(mosquittoPath({ PATH })).toBe(join(systemDir, "mosquitto"));
  });

  it("takes $MOSQUITTO over the PATH", () => {
    expect(mosquittoPath({ PATH: systemDir, MOSQUITTO: join(own, "mosquitto") })).toBe(join(own, "mosquitto"));
  });

  it("an empty $MOSQUITTO counts as unset", () => {
    expect(mosquittoPath({ PATH: userDir, MOSQUITTO: "" })).toBe(join(userDir, "mosquitto"));
  });

  it("fails naming the PATH and $MOSQUITTO when neither has it", () => {
    const lookup = () => mosquittoPath({ PATH: [empty, notExecutable].join(delimiter) });
    expect(lookup).toThrow(/not on the PATH, and \$MOSQUITTO is not set/);
    expect(() => mosquittoPath({})).toThrow(/set MOSQUITTO to its path/);
  });

  it("fails naming $MOSQUITTO when it is not an executable file", () => {
    expect(() => mosquittoPath({ PATH: userDir, MOSQUITTO: join(notExecutable, "mosquitto") })).toThrow(
      `$MOSQUITTO is ${join(notExecutable, "mosquitto")}, which is not an executable file`,
    );
    expect(() => mosquittoPath({ PATH: userDir, MOSQUITTO: own })).toThrow(/\$MOSQUITTO is .*own, which is not an executable file/);
  });
});

describe("mosquittoPasswdPath()", () => {
  it("takes $MOSQUITTO_PASSWD first, then the one next to mosquitto, then the PATH", () => {
    const PATH = [systemDir, userDir].join(delimiter);
    expect(mosquittoPasswdPath({ PATH, MOSQUITTO_PASSWD: join(own, "mosquitto_passwd") })).toBe(join(own, "mosquitto_passwd"));
    expect(mosquittoPasswdPath({ PATH, MOSQUITTO: join(own, "mosquitto") })).toBe(join(own, "mosquitto_passwd"));
    // mosquitto in one folder (as Debian installs them), mosquitto_passwd in another on the PATH
    expect(mosquittoPasswdPath({ PATH })).toBe(join(userDir, "mosquitto_passwd"));
  });

  it("fails naming where it looked", () => {
    expect(() => mosquittoPasswdPath({ PATH: systemDir })).toThrow(
      `mosquitto_passwd was not found: not next to ${join(systemDir, "mosquitto")}, not on the PATH, and $MOSQUITTO_PASSWD is not set`,
    );
  });
});

describe("the broker suites' mosquitto", () => {
  it("runs the mosquitto that mosquittoPath() finds in this environment", async () => {
    const broker = await Mosquitto.start({ users: { user: "secret" } });
    expect(broker.executable).toBe(mosquittoPath());
    expect(broker.running).toBe(true);
    await broker.close();
  });
});
