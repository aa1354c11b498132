/*
 * The board's entry: Moddable's "main" module. It reads the node's settings from
 * "mc/config" (the manifest's "config", overridden by key=value on the mcconfig command
 * line), builds the I²C sensor drivers on the board's pins (the board wiring of
 * board/sensors.ts), and starts the firmware with Moddable's own ECMA-419 classes. Nothing runs at module load: Moddable calls the default
 * export at start-up, so this module (and everything it imports) can be preloaded.
 *
 * mc/config keys (all optional but broker; a pin or address of -1, "" or "none" leaves that
 * part out):
 *   broker, port, mqttUser, mqttPassword, node, prefix, discovery ("false" turns it off)
 *   sda, scl, sht3x (I²C address, 68 = 0x44), bh1750 (I²C address, 35 = 0x23)
 *   relay (GPIO), relayActiveLow, led (GPIO), ledActiveLow
 *   sampleInterval (ms), maxSilence (ms), dns (a DNS server used when DHCP gave none), version
 *   diagnosticsInterval (ms; 0: no diagnostics), configurationUrl (Home Assistant's link to the board)
 *   tls ("true": connect over TLS, port 8883 by default; needs a build of manifest_tls.json,
 *   whose main is device/main-tls.ts), tlsCa, tlsCert, tlsKey (names of DER files among the manifest's
 *   resources: the CA to trust, the client certificate and its PKCS #8 key; tlsCert and
 *   tlsKey go together), tlsServerName (the name the broker's certificate carries, when the
 *   broker is given by IP address)
 * ssid, password: the Wi-Fi access point. Moddable's setup/network (examples/manifest_net.json)
 * joins it once at boot; the firmware rejoins it with the same keys when the link is lost
 * (device/app/wifi.ts). Without ssid there is no Wi-Fi to rejoin (as setup/network).
 * Battery mode comes with a build of manifest_sleep.json, whose main, device/main-sleep.ts,
 * hands startBoard() the board's sleep module and its keys (sleep, sleepAckTimeout,
 * sleepPipeline: docs/battery.md); the relay and the LED are then left out.
 * The firmware watches Moddable's ECMA-419 Wi-Fi interface (embedded:network/interface/wifi:
 * no connection attempts while the link is down, and a rejoin with backoff), reads the board's address with
 * Net.get("IP"), and restarts the board with System.restart() when Home Assistant's restart
 * button is pressed. The desktop build has neither Wi-Fi nor System.restart(): there the
 * firmware treats the network as always up, announces no RSSI, and a restart starts the
 * firmware again in the running app.
 * A value resolveConfig() refuses for a sensor (its address), the relay or the LED is
 * logged and that part left out; one it refuses for the node itself (broker, node,
 * intervals) is logged and the board does not start.
 */

import Digital from "embedded:io/digital";
import I2C from "embedded:io/i2c";
import TCP from "embedded:io/socket/tcp";
import UDP from "embedded:io/socket/udp";
import Resolver from "embedded:network/dns/resolver/udp";
import WiFi from "embedded:network/interface/wifi";
import config from "mc/config";
import Net from "net";
import TextDecoder from "text/decoder";
import TextEncoder from "text/encoder";
import Timer from "timer";
import { buildSensors, climateSensor, lightSensor, resolveConfig, startFirmware } from "./board/index.js";
import type { ActuatorConfig, Config, FirmwareConfig, FirmwareIo, Sensor, SensorSpec, SleepIo, WiFiInterfaceClass, WifiCredentials } from "./board/index.js";
import type { I2CClass } from "./drivers/io.js";
import type { SocketClass, TlsOptions } from "./mqtt/index.js";

/** What a TLS build (device/main-tls.ts) hands the board: Moddable's TLS socket and Resource class. */
export interface BoardTls {
  readonly TLS: unknown;
  readonly Resource: new (name: string) => ArrayBuffer;
}

/**
 * What a sleep build (device/main-sleep.ts) hands the board: a sleep module in the shape of
 * Moddable's (Sleep.deep, getRetainedValue, setRetainedValue: device/app/io.ts SleepIo) and
 * its mc/config values, as read there (numbers or strings; "" or "none" for none).
 */
export interface BoardSleep {
  readonly io: SleepIo;
  readonly interval: unknown;
  readonly ackTimeout: unknown;
  readonly pipeline: unknown;
}

export default function main(): void {
  startBoard(undefined);
}

/** Starts the node from mc/config; `boardTls` is given by a TLS build (manifest_tls.json), `boardSleep` by a sleep build (manifest_sleep.json). */
export function startBoard(boardTls: BoardTls | undefined, boardSleep?: BoardSleep): void {
  const log = (line: string) => trace(line + "\n");
  let settings: Config;
  try {
    // a mistake in a sensor, the relay or the LED is logged and that part left out: the
    // board starts with the rest rather than not at all
    settings = resolveConfig(nodeConfig(boardSleep), (mistake) => log("xs-mqtt: " + mistake.message));
  } catch (error) {
    log("xs-mqtt: cannot start: " + String(error));
    return;
  }
  const io: FirmwareIo = {
    // Moddable's TCP.write returns the writable count, though @moddable/typings says void
    TCP: TCP as unknown as SocketClass,
    resolver: new Resolver({ socket: { io: UDP }, servers: dnsServers() }),
    Timer,
    TextEncoder,
    // the client only decodes Uint8Arrays; device/mqtt/io.ts types decode() wider than Moddable's typings
    TextDecoder,
    address: boardAddress,
  };
  if (WiFi !== undefined) {
    io.WiFi = WiFi as WiFiInterfaceClass;
    io.wifiCredentials = wifiCredentials();
  }
  try {
    if (settings.broker.tls === true) addTls(io, boardTls);
    startFirmware({
      resolved: settings,
      io,
      sensors: boardSensors(settings.sensors, log),
      Digital,
      log,
      sleep: boardSleep?.io,
      restart: () => restartBoard(boardTls, boardSleep),
    });
  } catch (error) {
    log("xs-mqtt: cannot start: " + String(error));
  }
}

/** connect()'s options from mc/config's ssid and password, as setup/network reads them; undefined without an ssid. */
function wifiCredentials(): WifiCredentials | undefined {
  const SSID = optionalText(config.ssid);
  if (SSID === undefined) return undefined;
  const password = optionalText(config.password);
  return password === undefined ? { SSID } : { SSID, password };
}

/** The board's IP address (Net.get("IP")), or undefined before it has one. */
function boardAddress(): string | undefined {
  const address = Net.get("IP");
  return typeof address === "string" && address !== "" && address !== "0.0.0.0" ? address : undefined;
}

/** Restarts the board: System.restart() where there is one (ESP32), else the firmware starts again in this app (the desktop build). */
function restartBoard(boardTls: BoardTls | undefined, boardSleep: BoardSleep | undefined): void {
  const system = typeof System === "undefined" ? undefined : System;
  if (system?.restart !== undefined) system.restart();
  else startBoard(boardTls, boardSleep);
}

/** The firmware's configuration from mc/config (and a sleep build's values). */
function nodeConfig(boardSleep: BoardSleep | undefined): FirmwareConfig {
  const sensors: SensorSpec[] = [];
  const sht3x = optionalNumber(config.sht3x);
  if (sht3x !== undefined) sensors.push(climateSensor(sht3x));
  const bh1750 = optionalNumber(config.bh1750);
  if (bh1750 !== undefined) sensors.push(lightSensor(bh1750));
  const actuators: ActuatorConfig[] = [];
  const relay = optionalNumber(config.relay);
  if (relay !== undefined) actuators.push({ id: "relay", name: "Relay", pin: relay, activeLow: yes(config.relayActiveLow) });
  const led = optionalNumber(config.led);
  const interval = boardSleep === undefined ? undefined : optionalNumber(boardSleep.interval);
  return {
    nodeId: String(config.node ?? "xs-node"),
    prefix: optionalText(config.prefix),
    broker: {
      host: String(config.broker ?? ""),
      port: optionalNumber(config.port),
      username: optionalText(config.mqttUser),
      password: optionalText(config.mqttPassword),
      tls: yes(config.tls),
    },
    sampleInterval: optionalNumber(config.sampleInterval),
    maxSilence: optionalNumber(config.maxSilence),
    diagnosticsInterval: optionalNumber(config.diagnosticsInterval),
    discovery: config.discovery === undefined ? undefined : yes(config.discovery),
    sensors,
    actuators,
    statusLed: led === undefined ? undefined : { pin: led, activeLow: yes(config.ledActiveLow) },
    sleep: boardSleep === undefined || interval === undefined ? undefined : {
      interval,
      ackTimeout: optionalNumber(boardSleep.ackTimeout),
      pipeline: boardSleep.pipeline === undefined || boardSleep.pipeline === "" ? undefined : yes(boardSleep.pipeline),
    },
    device: {
      model: "ESP32 sensor node", manufacturer: "xs-mqtt", sw_version: optionalText(config.version),
      configuration_url: optionalText(config.configurationUrl),
    },
  };
}

/**
 * Moddable's TLS socket for ECMA-419 (examples/io/tcp/tlssocket) and the certificates
 * mc/config names, read from the build's resources as Moddable apps read theirs (`new
 * Resource(name)`, no copy out of flash). Throws when the build has no TLS (manifest.json
 * rather than manifest_tls.json) or a resource named is missing.
 */
function addTls(io: FirmwareIo, boardTls: BoardTls | undefined): void {
  if (boardTls === undefined) throw new Error("tls needs Moddable's TLS socket: build manifest_tls.json");
  io.TLS = boardTls.TLS as SocketClass;
  const Resource = boardTls.Resource;
  const resource = (value: unknown): Uint8Array | undefined => {
    const name = optionalText(value);
    return name === undefined ? undefined : new Uint8Array(new Resource(name));
  };
  const tls: TlsOptions = { ca: resource(config.tlsCa), cert: resource(config.tlsCert), key: resource(config.tlsKey) };
  const serverName = optionalText(config.tlsServerName);
  if (serverName !== undefined) tls.serverName = serverName;
  io.tls = tls;
}

/** The drivers for the configured sensors on the I²C bus from mc/config; a chip that does not answer is reported and left out. */
function boardSensors(sensors: Config["sensors"], log: (line: string) => void): Record<string, Sensor> {
  const data = optionalNumber(config.sda);
  const clock = optionalNumber(config.scl);
  if (sensors === undefined || sensors.length === 0) return {};
  if (data === undefined || clock === undefined) {
    log("xs-mqtt: sensors need the I2C pins: set sda and scl");
    return {};
  }
  // @moddable/typings leaves close() out of I2C; the class has it
  const bus = { io: I2C as unknown as I2CClass, data, clock };
  return buildSensors(sensors, bus, (line) => log("xs-mqtt: " + line));
}

/** The DNS servers DHCP gave, else mc/config's dns, else 1.1.1.1. */
function dnsServers(): string[] {
  let servers: string[] | undefined;
  try {
    servers = Net.get("DNS");
  } catch {
    servers = undefined;
  }
  const usable = (servers ?? []).filter((server) => typeof server === "string" && server.length > 0 && server !== "0.0.0.0");
  if (usable.length > 0) return usable;
  return [optionalText(config.dns) ?? "1.1.1.1"];
}

/** A number from a config value (numbers in the manifest, strings from the command line); undefined for -1, "" or "none". */
function optionalNumber(value: unknown): number | undefined {
  if (value === undefined || value === null || value === "" || value === "none") return undefined;
  const number = typeof value === "number" ? value : Number(value);
  return number === -1 ? undefined : number;
}

function optionalText(value: unknown): string | undefined {
  return value === undefined || value === null || value === "" ? undefined : String(value);
}

function yes(value: unknown): boolean {
  return value === true || value === "true" || value === 1 || value === "1";
}
