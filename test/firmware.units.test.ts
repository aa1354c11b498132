// Unit tests of the firmware's pieces that need no broker: fixed-point JSON numbers,
// report-on-change with deadbands and max silence, the pacer, configuration checks (Home
// Assistant's device classes, state classes and units among them) and the discovery payloads.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MAX_NUMBER_BYTES, scale, writeScaled } from "../device/app/ascii.js";
import { ConfigError, resolveConfig } from "../device/app/config.js";
import type { FirmwareConfig } from "../device/app/config.js";
import { actuatorDiscoveryPayload, Discovery, ORIGIN, sensorDiscoveryPayload } from "../device/app/discovery.js";
import { Pacer, SKIP, WAIT } from "../device/app/pacer.js";
import type { PacerItems } from "../device/app/pacer.js";
import {
  SAMPLE_DUE, SAMPLE_FAILED, SAMPLE_NOT_READY, SAMPLE_UNCHANGED, SensorReadings,
} from "../device/app/readings.js";

function text(value: number, decimals: number): string {
  const out = new Uint8Array(MAX_NUMBER_BYTES + 8).fill(0x3f);
  const end = writeScaled(out, 2, scale(value, decimals), decimals);
  expect(out[0]).toBe(0x3f); // nothing written before
  expect(out[end]).toBe(0x3f); // nor after
  expect(end - 2).toBeLessThanOrEqual(MAX_NUMBER_BYTES);
  return Buffer.from(out.subarray(2, end)).toString("latin1");
}

describe("fixed-point numbers as JSON text", () => {
  it("writes exactly the decimals asked for, rounding half away from zero", () => {
    expect(text(21.534, 2)).toBe("21.53");
    expect(text(40.06, 1)).toBe("40.1");
    expect(text(7, 0)).toBe("7");
    expect(text(0, 2)).toBe("0.00");
    expect(text(-0.5, 1)).toBe("-0.5");
    expect(text(-3.005, 2)).toBe("-3.01");
    expect(text(2.5, 0)).toBe("3");
    expect(text(-2.5, 0)).toBe("-3");
    expect(text(-0.004, 2)).toBe("0.00"); // no "-0.00"
    expect(text(1000.05, 6)).toBe("1000.050000");
    expect(text(0.000001, 6)).toBe("0.000001");
    expect(text(123456789012345, 0)).toBe("123456789012345");
  });

  it("matches toFixed() for values that are exact in binary, and JSON.parse reads every output back", () => {
    for (let i = -2000; i <= 2000; i += 7) {
      const value = i / 8;
      for (const decimals of [0, 1, 2, 3, 6]) {
        const printed = text(value, decimals);
        if (decimals >= 3) expect(printed).toBe(value.toFixed(decimals));
        expect(Math.abs(JSON.parse(printed) - value)).toBeLessThanOrEqual(0.5 / 10 ** decimals + 1e-9);
      }
    }
  });

  it("writes null for what is not a finite number it can write exactly", () => {
    for (const bad of [NaN, Infinity, -Infinity, 1e300, 2 ** 53, "21" as unknown as number, undefined as unknown as number]) {
      expect(text(bad, 0)).toBe("null");
    }
    expect(text(9e15, 0)).toBe("9000000000000000");
    expect(text(9e9, 6)).toBe("9000000000.000000"); // 9e15 units of 1e-6: still exact
    expect(text(1e10, 6)).toBe("null"); // 1e16 units: past 2^53
  });
});

function climate(overrides: Partial<{ deadband: number; maxSilence: number }> = {}) {
  const config = resolveConfig({
    nodeId: "n",
    broker: { host: "10.0.0.1" },
    sensors: [{
      id: "climate", driver: "test",
      readings: [
        { key: "temperature", decimals: 2, deadband: overrides.deadband ?? 0.2 },
        { key: "humidity", decimals: 1 },
      ],
    }],
  });
  return config.sensors[0];
}

function json(readings: SensorReadings): string {
  const length = readings.encode();
  return Buffer.from(readings.payload.subarray(0, length)).toString("utf8");
}

describe("report on change", () => {
  it("is due at first, then only past a deadband (in the reading's unit) or after max silence", () => {
    const readings = new SensorReadings(climate(), undefined, 1000);
    expect(readings.hasValues).toBe(false);
    expect(readings.update({ temperature: 20, humidity: 50 }, 0)).toBe(SAMPLE_DUE);
    expect(json(readings)).toBe('{"temperature":20.00,"humidity":50.0}');
    readings.markPublished(0);
    expect(readings.update({ temperature: 20.19, humidity: 50 }, 100)).toBe(SAMPLE_UNCHANGED); // 0.19 < 0.2
    expect(readings.update({ temperature: 19.81, humidity: 50 }, 200)).toBe(SAMPLE_UNCHANGED);
    expect(readings.update({ temperature: 20.2, humidity: 50 }, 300)).toBe(SAMPLE_DUE); // exactly the deadband
    expect(readings.update({ temperature: 20, humidity: 50.04 }, 400)).toBe(SAMPLE_UNCHANGED); // not visible at 1 decimal
    expect(readings.update({ temperature: 20, humidity: 50.05 }, 500)).toBe(SAMPLE_DUE); // deadband 0: any visible change
    expect(readings.update({ temperature: 20, humidity: 50 }, 999)).toBe(SAMPLE_UNCHANGED);
    expect(readings.update({ temperature: 20, humidity: 50 }, 1000)).toBe(SAMPLE_DUE); // max silence
    readings.markPublished(1000);
    expect(readings.update({ temperature: 20, humidity: 50 }, 1999)).toBe(SAMPLE_UNCHANGED);
  });

  it("measures the deadband from the last published value, not the last sample (no creeping)", () => {
    const readings = new SensorReadings(climate(), undefined, 0);
    readings.update({ temperature: 20, humidity: 50 }, 0);
    readings.markPublished(0);
    let due = 0;
    for (let i = 1; i <= 30 && due === 0; i++) if (readings.update({ temperature: 20 + i * 0.01, humidity: 50 }, i) === SAMPLE_DUE) due = i;
    expect(due).toBe(20); // 0.20 above the published 20.00, though each step is 0.01
  });

  it("never publishes for silence when maxSilence is 0", () => {
    const readings = new SensorReadings(climate(), undefined, 0);
    readings.update({ temperature: 20, humidity: 50 }, 0);
    readings.markPublished(0);
    expect(readings.update({ temperature: 20, humidity: 50 }, 1e9)).toBe(SAMPLE_UNCHANGED);
  });

  it("writes null for a missing or non-numeric reading, and a reading appearing or vanishing is a change", () => {
    const readings = new SensorReadings(climate(), undefined, 0);
    readings.update({ temperature: 20 }, 0);
    expect(json(readings)).toBe('{"temperature":20.00,"humidity":null}');
    readings.markPublished(0);
    expect(readings.update({ temperature: 20, humidity: "wet" }, 1)).toBe(SAMPLE_UNCHANGED);
    expect(readings.update({ temperature: 20, humidity: 10 }, 2)).toBe(SAMPLE_DUE);
    readings.markPublished(2);
    expect(readings.update({ temperature: NaN, humidity: 10 }, 3)).toBe(SAMPLE_DUE);
    expect(readings.value(0)).toBeNull();
    expect(readings.value(1)).toBe(10);
  });

  it("fits the largest values in its buffer", () => {
    const readings = new SensorReadings(climate(), undefined, 0);
    readings.update({ temperature: -9e13, humidity: -9e14 }, 0);
    expect(JSON.parse(json(readings))).toEqual({ temperature: -9e13, humidity: -9e14 });
    expect(readings.length).toBeLessThanOrEqual(readings.payload.length);
  });

  it("tells a sensor that is not ready from one that throws, and counts failures in a row", () => {
    let mode = "ok";
    const sensor = {
      sample() {
        if (mode === "throw") throw new Error("no answer");
        return mode === "ok" ? { temperature: 1, humidity: 2 } : undefined;
      },
    };
    const readings = new SensorReadings(climate(), sensor, 0);
    expect(readings.sample(0)).toBe(SAMPLE_DUE);
    mode = "undefined";
    expect(readings.sample(1)).toBe(SAMPLE_NOT_READY);
    mode = "throw";
    expect(readings.sample(2)).toBe(SAMPLE_FAILED);
    expect(readings.sample(3)).toBe(SAMPLE_FAILED);
    expect(readings.failures).toBe(2);
    expect(String(readings.lastError)).toContain("no answer");
    mode = "ok";
    expect(readings.sample(4)).toBe(SAMPLE_DUE); // never published yet
    expect(readings.failures).toBe(0);
    expect(new SensorReadings(climate(), undefined, 0).sample(0)).toBe(SAMPLE_NOT_READY);
  });
});

describe("pacer", () => {
  function makePacer(results: (string | Error)[][]) {
    const calls: number[] = [];
    const errors: [number, unknown][] = [];
    const items: PacerItems = {
      publishItem(index) {
        calls.push(index);
        const queue = results[index];
        const next = queue.length > 1 ? queue.shift()! : queue[0];
        if (next instanceof Error) throw next;
        return next as ReturnType<PacerItems["publishItem"]>;
      },
      itemFailed(index, error) {
        errors.push([index, error]);
      },
    };
    return { pacer: new Pacer(results.length, items), calls, errors };
  }

  it("publishes pending items in order and keeps the one the outbox refused (and those after it) for the next pump", () => {
    const { pacer, calls } = makePacer([["sent"], ["outbox-full", "outbox-full", "queued"], ["sent"]]);
    pacer.request(0, 3);
    expect(pacer.pending).toBe(3);
    expect(pacer.pump()).toBe(false);
    expect(calls).toEqual([0, 1]);
    expect(pacer.pending).toBe(2);
    expect(pacer.pump()).toBe(false);
    expect(pacer.pump()).toBe(true);
    expect(calls).toEqual([0, 1, 1, 1, 2]);
    expect(pacer.pump()).toBe(true); // nothing left: nothing called
    expect(calls).toHaveLength(5);
  });

  it("treats dropped and WAIT like a full outbox, SKIP like done, and reports an item that throws", () => {
    const { pacer, calls, errors } = makePacer([[SKIP], [new Error("too large"), "sent"], [WAIT, "dropped", "sent"], ["sent"]]);
    pacer.request(0, 4);
    expect(pacer.pump()).toBe(false); // WAIT
    expect(errors).toHaveLength(1);
    expect(errors[0][0]).toBe(1);
    expect(pacer.isPending(1)).toBe(false);
    expect(pacer.pump()).toBe(false); // dropped
    expect(pacer.pump()).toBe(true);
    expect(calls).toEqual([0, 1, 2, 2, 2, 3]);
  });

  it("requests an item once however often it is asked for, and cancels", () => {
    const { pacer, calls } = makePacer([["sent"], ["sent"]]);
    pacer.request(1);
    pacer.request(1);
    expect(pacer.pending).toBe(1);
    pacer.request(0);
    pacer.cancel(0);
    expect(pacer.pump()).toBe(true);
    expect(calls).toEqual([1]);
  });

  it("keeps a long list's items apart (its pending marks span several words) and ignores items past its end", () => {
    const { pacer, calls } = makePacer(Array.from({ length: 70 }, (_, index) => (index === 45 ? ["outbox-full", "sent"] : ["sent"])));
    pacer.request(28, 33);
    pacer.request(44, 47);
    pacer.request(59, 75);
    expect(pacer.pending).toBe(5 + 3 + 11);
    expect([29, 30, 44, 60, 69].every((i) => pacer.isPending(i))).toBe(true);
    expect([27, 33, 43, 47, 58, 70].some((i) => pacer.isPending(i))).toBe(false);
    pacer.cancel(30);
    expect(pacer.pump()).toBe(false); // 45: outbox full
    expect(calls).toEqual([28, 29, 31, 32, 44, 45]);
    expect(pacer.pump()).toBe(true);
    expect(calls.slice(6)).toEqual([45, 46, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69]);
    expect(pacer.pending).toBe(0);
  });
});

const minimal: FirmwareConfig = { nodeId: "kitchen", broker: { host: "broker.local" } };

describe("configuration", () => {
  it("fills in every default", () => {
    const config = resolveConfig({
      ...minimal,
      sensors: [{ id: "climate", driver: "sht3x", readings: [{ key: "air_quality" }] }],
      actuators: [{ id: "fan", pin: 5 }],
    });
    expect(config).toEqual({
      nodeId: "kitchen",
      prefix: "xs-mqtt",
      broker: {
        host: "broker.local", port: 1883, username: undefined, password: undefined, tls: false, keepAlive: 60,
        clientId: "xs-mqtt-kitchen", protocolVersion: 4, sessionExpiry: 0,
      },
      sampleInterval: 10_000,
      maxSilence: 300_000,
      sensors: [{
        id: "climate", name: "climate", driver: "sht3x", address: undefined,
        readings: [{
          key: "air_quality", name: "Air quality", unit: undefined, device_class: undefined, state_class: "measurement",
          decimals: 2, deadband: 0,
        }],
      }],
      actuators: [{ id: "fan", name: "fan", pin: 5, component: "switch", initial: "OFF", activeLow: false }],
      discovery: true,
      discoveryPrefix: "homeassistant",
      device: { name: "kitchen", model: "xs-mqtt sensor node", manufacturer: "xs-mqtt", sw_version: undefined, configuration_url: undefined },
      statusLed: undefined,
      diagnosticsInterval: 60_000,
    });
    expect(resolveConfig({ ...minimal, broker: { host: "h", tls: true } }).broker.port).toBe(8883);
  });

  it("names the field of each mistake", () => {
    const cases: [FirmwareConfig, string][] = [
      [{ ...minimal, nodeId: "" }, "nodeId"],
      [{ ...minimal, nodeId: "a/b" }, "nodeId"],
      [{ ...minimal, nodeId: "x".repeat(33) }, "nodeId"],
      [{ ...minimal, broker: { host: "" } }, "broker.host"],
      [{ ...minimal, broker: { host: "h", port: 70_000 } }, "broker.port"],
      [{ ...minimal, broker: { host: "h", password: "secret" } }, "broker.password"],
      [{ ...minimal, prefix: "home/#" }, "prefix"],
      [{ ...minimal, discoveryPrefix: "/ha" }, "discoveryPrefix"],
      [{ ...minimal, sampleInterval: 5 }, "sampleInterval"],
      [{ ...minimal, maxSilence: -1 }, "maxSilence"],
      [{ ...minimal, diagnosticsInterval: 999 }, "diagnosticsInterval"],
      [{ ...minimal, device: { configuration_url: "ftp://board.local/" } }, "device.configuration_url"],
      [{ ...minimal, sensors: [{ id: "s", driver: "x", readings: [] }] }, "sensors[0].readings"],
      [{ ...minimal, sensors: [{ id: "s", driver: "x", readings: [{ key: "dew-point" }] }] }, "sensors[0].readings[0].key"],
      [{ ...minimal, sensors: [{ id: "s", driver: "x", readings: [{ key: "t", decimals: 7 }] }] }, "sensors[0].readings[0].decimals"],
      [{ ...minimal, sensors: [{ id: "s", driver: "x", readings: [{ key: "t", deadband: -1 }] }] }, "sensors[0].readings[0].deadband"],
      [{ ...minimal, sensors: [{ id: "s", driver: "x", readings: [{ key: "t" }, { key: "t" }] }] }, "sensors[0].readings[1].key"],
      [{ ...minimal, sensors: [{ id: "s", driver: "", readings: [{ key: "t" }] }] }, "sensors[0].driver"],
      [{ ...minimal, actuators: [{ id: "a", pin: 1.5 }] }, "actuators[0].pin"],
      [{ ...minimal, actuators: [{ id: "a", pin: 1, component: "fan" as "switch" }] }, "actuators[0].component"],
      [{ ...minimal, actuators: [{ id: "a", pin: 1, initial: "on" as "ON" }] }, "actuators[0].initial"],
      [{ ...minimal, actuators: [{ id: "a", pin: 1 }, { id: "a", pin: 2 }] }, "actuators[1].id"],
      [{ ...minimal, statusLed: { pin: -2 } }, "statusLed.pin"],
      [{ ...minimal, discovery: "yes" as unknown as boolean }, "discovery"],
    ];
    for (const [config, field] of cases) {
      let error: unknown;
      try {
        resolveConfig(config);
      } catch (caught) {
        error = caught;
      }
      expect(error, field).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe(field);
    }
  });
});

describe("discovery payloads", () => {
  const config = resolveConfig({
    ...minimal,
    prefix: "home",
    discoveryPrefix: "ha",
    sensors: [{ id: "climate", driver: "x", readings: [{ key: "temperature", unit: "°C" }] }],
    actuators: [{ id: "lamp", pin: 2, component: "light" }],
  });

  it("are valid JSON with the topics derived from the prefixes", () => {
    const sensor = JSON.parse(sensorDiscoveryPayload(config, config.sensors[0], config.sensors[0].readings[0]));
    expect(sensor).toMatchObject({
      name: "Temperature",
      state_topic: "home/kitchen/climate/state",
      availability_topic: "home/kitchen/status",
      unit_of_measurement: "°C",
      device: { identifiers: ["home_kitchen"], name: "kitchen" },
    });
    expect(sensor).not.toHaveProperty("device_class");
    expect(sensor.device).not.toHaveProperty("sw_version");
    const light = JSON.parse(actuatorDiscoveryPayload(config, config.actuators[0]));
    expect(light.command_topic).toBe("home/kitchen/lamp/set");
    expect(light).not.toHaveProperty("state_on"); // a switch field
  });

  it("list every reading, then every actuator", () => {
    const discovery = new Discovery(config, config.sensors);
    expect(discovery.topics).toEqual(["ha/sensor/kitchen/home_climate_temperature/config", "ha/light/kitchen/home_lamp/config"]);
    expect(JSON.parse(discovery.payload(1)).unique_id).toBe("home_kitchen_lamp");
  });

  it("put the topic prefix in every unique id and object id: two installations with one node id never share a config", () => {
    const other = resolveConfig({ ...minimal, prefix: "flat/2", discoveryPrefix: "ha", sensors: config.sensors, actuators: config.actuators });
    const mine = new Discovery(config, config.sensors);
    const theirs = new Discovery(other, other.sensors);
    // "/" is not allowed in an object id: it becomes "_"
    expect(theirs.topics).toEqual(["ha/sensor/kitchen/flat_2_climate_temperature/config", "ha/light/kitchen/flat_2_lamp/config"]);
    expect(theirs.manifest).toBe("sensor/flat_2_climate_temperature light/flat_2_lamp");
    for (let i = 0; i < 2; i++) {
      expect(mine.topics[i]).not.toBe(theirs.topics[i]);
      expect(JSON.parse(mine.payload(i)).unique_id).not.toBe(JSON.parse(theirs.payload(i)).unique_id);
    }
    expect(JSON.parse(theirs.payload(0)).unique_id).toBe("flat/2_kitchen_climate_temperature");
  });

  it("clear the configs an earlier version announced under object ids without the prefix", () => {
    const discovery = new Discovery(config, config.sensors);
    // the manifest as the version before the prefix wrote it: the same node level, old object ids
    expect(discovery.staleTopics("sensor/climate_temperature light/lamp")).toEqual([
      "ha/sensor/kitchen/climate_temperature/config", "ha/light/kitchen/lamp/config",
    ]);
    expect(discovery.staleTopics(discovery.manifest)).toEqual([]);
  });

  it("name their origin in every config: this firmware, its package version and where to get help", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { name: string; version: string };
    expect(ORIGIN).toEqual({ name: pkg.name, sw_version: pkg.version, support_url: `https://www.npmjs.com/package/${pkg.name}` });
    const discovery = new Discovery(config, config.sensors);
    for (let i = 0; i < discovery.count; i++) expect(JSON.parse(discovery.payload(i)).origin).toEqual(ORIGIN);
  });

  it("give sensors an expire_after longer than maxSilence plus two samples, and none when maxSilence is 0", () => {
    const sensor = (c: typeof config) => JSON.parse(sensorDiscoveryPayload(c, c.sensors[0], c.sensors[0].readings[0]));
    // defaults: maxSilence 300 s, sampleInterval 10 s
    expect(sensor(config).expire_after).toBe(300 + 20 + 10);
    expect(sensor(config).expire_after).toBeGreaterThan(config.maxSilence / 1000);
    const quick = resolveConfig({ ...minimal, maxSilence: 1_500, sampleInterval: 100, sensors: config.sensors });
    expect(sensor(quick).expire_after).toBe(Math.ceil((1_500 + 200) / 1000) + 10);
    const never = resolveConfig({ ...minimal, maxSilence: 0, sensors: config.sensors });
    expect(sensor(never)).not.toHaveProperty("expire_after");
    // actuators publish only on change: they never expire
    expect(JSON.parse(actuatorDiscoveryPayload(config, config.actuators[0]))).not.toHaveProperty("expire_after");
  });
});

/** The mistakes resolveConfig() names for `config`, as "field: problem" lines. */
function mistakesOf(config: FirmwareConfig): string[] {
  try {
    resolveConfig(config);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).mistakes.map((m) => m.message);
  }
  return [];
}

describe("configuration mistakes Home Assistant would reject", () => {
  const reading = (extra: Record<string, unknown>): FirmwareConfig =>
    ({ ...minimal, sensors: [{ id: "s", driver: "x", readings: [{ key: "t", ...extra } as never] }] });

  it("names every mistake at once: a typo key, a device_class, a state_class and a unit", () => {
    const config = {
      ...minimal, sampleIntervl: 5_000,
      sensors: [{ id: "climate", driver: "sht3x", readings: [
        { key: "temperature", device_class: "temp", unit: "°C" },
        { key: "humidity", device_class: "humidity", state_class: "avg", unit: "%" },
        { key: "dew", device_class: "temperature", unit: "C" },
      ] }],
    } as unknown as FirmwareConfig;
    let error: unknown;
    try {
      resolveConfig(config);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const mistakes = (error as ConfigError).mistakes;
    expect(mistakes.map((m) => m.field)).toEqual([
      "sampleIntervl", "sensors[0].readings[0].device_class", "sensors[0].readings[1].state_class", "sensors[0].readings[2].unit",
    ]);
    expect(mistakes.map((m) => m.message)).toEqual([
      'config sampleIntervl: unknown key; did you mean "sampleInterval"?',
      'config sensors[0].readings[0].device_class: "temp" is not a Home Assistant sensor device class accepted here; did you mean "temperature"?',
      'config sensors[0].readings[1].state_class: "avg" is not a Home Assistant state class (one of: measurement, total, total_increasing)',
      'config sensors[0].readings[2].unit: "C" is not a unit of device_class temperature; did you mean "°C"? (one of: °C, °F, K)',
    ]);
    const message = (error as ConfigError).message;
    expect(message.split("\n")).toEqual(["config has 4 mistakes:", ...mistakes.map((m) => "  " + m.message)]);
  });

  it("names a part that is not an object once, not each of its fields", () => {
    expect(mistakesOf({ nodeId: "n" } as FirmwareConfig)).toEqual(["config broker: must be an object"]);
    expect(mistakesOf({ ...minimal, sensors: [7 as never, { id: "s", driver: "x", readings: [null as never] }], actuators: ["a" as never] })).toEqual([
      "config sensors[0]: must be an object", "config sensors[1].readings[0]: must be an object", "config actuators[0]: must be an object",
    ]);
  });

  it("refuses an unknown key in every part, with a suggestion only for a near miss", () => {
    expect(mistakesOf({ ...minimal, broker: { host: "h", prot: 1883 } as never })).toEqual(['config broker.prot: unknown key; did you mean "port"?']);
    expect(mistakesOf({ ...minimal, device: { modle: "m" } as never })).toEqual(['config device.modle: unknown key; did you mean "model"?']);
    expect(mistakesOf({ ...minimal, statusLed: { pin: 2, active_low: true } as never })).toEqual(['config statusLed.active_low: unknown key; did you mean "activeLow"?']);
    expect(mistakesOf({ ...minimal, actuators: [{ id: "a", pin: 1, colour: "red" } as never] })).toEqual(["config actuators[0].colour: unknown key"]);
    expect(mistakesOf({ ...minimal, sensors: [{ id: "s", driver: "x", adress: 68, readings: [{ key: "t" }] } as never] }))
      .toEqual(['config sensors[0].adress: unknown key; did you mean "address"?']);
    expect(mistakesOf(reading({ unti: "°C", decimal: 1 }))).toEqual([
      'config sensors[0].readings[0].unti: unknown key; did you mean "unit"?',
      'config sensors[0].readings[0].decimal: unknown key; did you mean "decimals"?',
    ]);
  });

  it("takes Home Assistant's device classes, state classes and the units of each class", () => {
    const spec = (extra: Record<string, unknown>) => resolveConfig(reading(extra)).sensors[0].readings[0];
    expect(spec({ device_class: "temperature", unit: "°F" })).toMatchObject({ device_class: "temperature", unit: "°F", state_class: "measurement" });
    expect(spec({ device_class: "pressure", unit: "hPa" }).unit).toBe("hPa");
    expect(spec({ device_class: "pm25", unit: "µg/m³" }).unit).toBe("µg/m³");
    expect(spec({ device_class: "aqi" }).unit).toBeUndefined();
    // an energy meter counts up: its default state class is total_increasing, and measurement is refused
    expect(spec({ device_class: "energy", unit: "kWh" }).state_class).toBe("total_increasing");
    expect(spec({ device_class: "energy", unit: "kWh", state_class: "total" }).state_class).toBe("total");
    expect(spec({ unit: "rpm", state_class: "total" })).toMatchObject({ unit: "rpm", state_class: "total", device_class: undefined });

    expect(mistakesOf(reading({ device_class: "energy", unit: "kWh", state_class: "measurement" })))
      .toEqual(["config sensors[0].readings[0].state_class: device_class energy takes state_class total_increasing or total"]);
    expect(mistakesOf(reading({ device_class: "humidity" }))).toEqual(["config sensors[0].readings[0].unit: device_class humidity needs a unit: %"]);
    expect(mistakesOf(reading({ device_class: "aqi", unit: "%" }))).toEqual(["config sensors[0].readings[0].unit: device_class aqi takes no unit: leave unit out"]);
    expect(mistakesOf(reading({ device_class: "illuminance", unit: "lux" })))
      .toEqual(['config sensors[0].readings[0].unit: "lux" is not a unit of device_class illuminance; did you mean "lx"? (one of: lx)']);
    expect(mistakesOf(reading({ state_class: "totl" })))
      .toEqual(['config sensors[0].readings[0].state_class: "totl" is not a Home Assistant state class; did you mean "total"? (one of: measurement, total, total_increasing)']);
    const [far] = mistakesOf(reading({ device_class: "dew_point", unit: "°C" }));
    expect(far).toContain('"dew_point" is not a Home Assistant sensor device class accepted here (one of: temperature, humidity,');
  });

  it("with leaveOut (the board): reports each mistake and leaves that part out, and still throws for the node's own fields", () => {
    const heard: string[] = [];
    const config = resolveConfig({
      ...minimal, sampleIntervl: 5, statusLed: { pin: -1 },
      sensors: [
        { id: "climate", driver: "sht3x", readings: [{ key: "temperature", device_class: "temp", unit: "°C" }, { key: "humidity", unit: "%" }] },
        { id: "light", driver: "bh1750", address: 300, readings: [{ key: "lux" }] },
        { id: "soil", driver: "x", readings: [{ key: "moisture", device_class: "moisture" }] },
      ],
      actuators: [{ id: "relay", pin: 1.5 }, { id: "fan", pin: 4 }, { id: "climate", pin: 5 }],
    } as unknown as FirmwareConfig, (mistake) => heard.push(mistake.message));
    expect(config.sensors.map((s) => [s.id, s.readings.map((r) => r.key)])).toEqual([["climate", ["humidity"]]]);
    expect(config.actuators.map((a) => a.id)).toEqual(["fan"]);
    expect(config.statusLed).toBeUndefined();
    expect(config.sampleInterval).toBe(10_000);
    expect(heard).toEqual([
      'config sampleIntervl: unknown key; did you mean "sampleInterval"? (ignored)',
      'config sensors[0].readings[0].device_class: "temp" is not a Home Assistant sensor device class accepted here; did you mean "temperature"? (sensors[0].readings[0] is left out)',
      "config sensors[1].address: must be a whole number from 0 to 127 (sensors[1] is left out)",
      "config sensors[2].readings[0].unit: device_class moisture needs a unit: % (sensors[2].readings[0] is left out)",
      "config sensors[2].readings: must list at least one reading (sensors[2] is left out)",
      "config actuators[0].pin: must be a whole number from 0 to 1023 (actuators[0] is left out)",
      'config actuators[2].id: "climate" is used twice (actuators[2] is left out)',
      "config statusLed.pin: must be a whole number from 0 to 1023 (statusLed is left out)",
    ]);
    expect(() => resolveConfig({ ...minimal, nodeId: "a b", sensors: [{ id: "s", driver: "x", readings: [{ key: "t", unit: "x", device_class: "x" }] }] }, () => {}))
      .toThrow("config nodeId: must be 1 to 32 characters of A-Z a-z 0-9 _ -");
  });
});
