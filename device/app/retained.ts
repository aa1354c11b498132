/*
 * What a board in battery mode keeps through deep sleep (battery.ts), in the 32 retained
 * 32-bit words of its SleepIo (io.ts): word 0 a check word (a fingerprint of the node's
 * id, topics, sensors and readings: after a power-on, or a new configuration, the words
 * mean nothing and are started afresh), word 1 the packet id used last and whether the
 * discovery configs went out, word 2 the wake count, then per sensor the wake at which its
 * state was last acknowledged, then per reading the value last acknowledged (scaled to a
 * whole number, as readings.ts keeps it), so that packet ids and the deadband go on across
 * sleeps. Reads and writes words only; allocates nothing after construction.
 */

import type { Config } from "./config.js";
import type { SleepIo } from "./io.js";
import type { SensorReadings } from "./readings.js";

/**
 * The 32-bit words a board keeps through deep sleep: as many as Moddable's retained values
 * (build/devices/nrf52/modules/sleep). The first 3 hold the wake state; config.ts refuses
 * a configuration with more sensors and readings than the rest hold.
 */
export const RETAINED_WORDS = 32;
export const RETAINED_HEADER_WORDS = 3;

const CHECK_WORD = 0;
const STATE_WORD = 1;
const WAKE_WORD = 2;
/** In the state word, past the 16-bit packet id: the discovery configs were acknowledged. */
const DISCOVERY_DONE = 0x1_0000;
/** A reading or wake not recorded (and the stand-in for a value outside 32 bits). */
const NONE = -0x8000_0000;
/** Mixed into the check word, so that words never written are unlikely to pass. */
const MAGIC = 0x58534d51; // "XSMQ"

/** The check word of a configuration: FNV-1a over what the words describe. */
export function retainedFingerprint(config: Config): number {
  let text = config.prefix + "/" + config.nodeId;
  for (const sensor of config.sensors) {
    text += "|" + sensor.id;
    for (const reading of sensor.readings) text += ":" + reading.key + "." + reading.decimals;
  }
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash ^ MAGIC) | 0;
}

export class WakeMemory {
  /** The words held this configuration's state when the board woke (false after a power-on or a new configuration). */
  readonly valid: boolean;
  /** This wake's number: 0 on the first, one more on each. */
  readonly wake: number;
  /** The packet id used last (0: none). */
  readonly lastPacketId: number;
  readonly discoveryDone: boolean;
  readonly #io: SleepIo;
  readonly #fingerprint: number;
  /** Where each sensor's first reading word is. */
  readonly #readingsAt: number[];

  constructor(io: SleepIo, config: Config) {
    this.#io = io;
    const fingerprint = this.#fingerprint = retainedFingerprint(config);
    const valid = this.valid = (io.getRetainedValue(CHECK_WORD) | 0) === fingerprint;
    const sensors = config.sensors;
    let at = RETAINED_HEADER_WORDS + sensors.length;
    this.#readingsAt = sensors.map((sensor) => {
      at += sensor.readings.length;
      return at - sensor.readings.length;
    });
    if (valid) {
      const state = io.getRetainedValue(STATE_WORD) | 0;
      this.lastPacketId = state & 0xffff;
      this.discoveryDone = (state & DISCOVERY_DONE) !== 0;
      this.wake = ((io.getRetainedValue(WAKE_WORD) | 0) + 1) & 0x7fff_ffff;
      return;
    }
    this.lastPacketId = 0;
    this.discoveryDone = false;
    this.wake = 0;
    for (let word = RETAINED_HEADER_WORDS; word < at; word++) io.setRetainedValue(word, NONE);
  }

  /** The wake at which sensor `index`'s state was last acknowledged, or -1. */
  publishedWake(index: number): number {
    if (!this.valid) return -1;
    const wake = this.#io.getRetainedValue(RETAINED_HEADER_WORDS + index) | 0;
    return wake === NONE ? -1 : wake;
  }

  /** Reading `reading` of sensor `sensor` as last acknowledged, scaled, or NaN. */
  publishedValue(sensor: number, reading: number): number {
    const value = this.#io.getRetainedValue(this.#readingsAt[sensor] + reading) | 0;
    return value === NONE ? NaN : value;
  }

  /** Sensor `index`'s state was acknowledged in this wake: keeps its values (the deadband's base) and the wake. */
  recordPublished(index: number, channel: SensorReadings): void {
    const io = this.#io;
    const count = channel.spec.readings.length;
    const first = this.#readingsAt[index];
    for (let i = 0; i < count; i++) {
      const value = channel.publishedScaled(i);
      io.setRetainedValue(first + i, value === value && value > NONE && value <= 0x7fff_ffff ? value : NONE);
    }
    io.setRetainedValue(RETAINED_HEADER_WORDS + index, this.wake);
  }

  /** Keeps this wake's state for the next: the packet id used last and whether discovery is done; the check word last. */
  save(lastPacketId: number, discoveryDone: boolean): void {
    const io = this.#io;
    io.setRetainedValue(STATE_WORD, (lastPacketId & 0xffff) | (discoveryDone ? DISCOVERY_DONE : 0));
    io.setRetainedValue(WAKE_WORD, this.wake);
    io.setRetainedValue(CHECK_WORD, this.#fingerprint);
  }
}
