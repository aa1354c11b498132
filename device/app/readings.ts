/*
 * One sensor's readings: sampling with report-on-change (a deadband per reading, in the
 * reading's own unit) and a maximum silence, and its JSON state, e.g.
 * {"temperature":21.53,"humidity":40.1}, written into a buffer made by the constructor (or
 * one the caller shares among the sensors of a node: the client copies a payload when it is
 * published). After construction nothing here allocates: values are kept as scaled whole
 * numbers in a typed array, and the JSON is written byte by byte from key bytes encoded
 * once (the sensor's own sample() object is the driver's business).
 */

import { MAX_NUMBER_BYTES, POWERS_OF_TEN, scale, writeScaled } from "./ascii.js";
import type { SensorSpec } from "./config.js";
import type { Sensor } from "./io.js";

/** What sample() found. */
export const SAMPLE_UNCHANGED = 0;
/** New values that should be published now (changed past a deadband, first values, or max silence). */
export const SAMPLE_DUE = 1;
/** No new measurement (the sensor returned undefined, or there is no sensor object). */
export const SAMPLE_NOT_READY = 2;
/** The sensor threw: `lastError` holds what. */
export const SAMPLE_FAILED = 3;

/** Bytes of the JSON state of a sensor with these readings, at most: its key prefixes, a number after each, and `}`. */
export function payloadSize(spec: SensorSpec): number {
  return prefixesSize(spec) + spec.readings.length * MAX_NUMBER_BYTES + 1;
}

/** Bytes of a sensor's key prefixes: `{"key":` then `,"key":` for each reading. */
function prefixesSize(spec: SensorSpec): number {
  let size = 0;
  const readings = spec.readings;
  for (let i = 0; i < readings.length; i++) size += readings[i].key.length + 4;
  return size;
}

/** Numbers kept per reading (see SensorReadings). */
const NUMBERS_PER_READING = 5;

/**
 * The memory of the readings of a node's sensors, in one ArrayBuffer: every sensor's
 * numbers, then the JSON buffer they share (the client copies a state when it is
 * published), then every sensor's key prefixes. Made once at start-up.
 */
export class ReadingsMemory {
  readonly numbers: Float64Array;
  /** The JSON state at the start (`payload` of every sensor), then the key prefixes. */
  readonly bytes: Uint8Array;
  #numbersAt = 0;
  #bytesAt: number;

  constructor(specs: readonly SensorSpec[]) {
    let numbers = 0;
    let json = 0;
    let prefixes = 0;
    for (const spec of specs) {
      numbers += NUMBERS_PER_READING * spec.readings.length;
      json = Math.max(json, payloadSize(spec));
      prefixes += prefixesSize(spec);
    }
    const buffer = new ArrayBuffer(numbers * 8 + json + prefixes);
    this.numbers = new Float64Array(buffer, 0, numbers);
    this.bytes = new Uint8Array(buffer, numbers * 8, json + prefixes);
    this.#bytesAt = json;
  }

  /** @internal Where the numbers of a sensor (given when made) start. */
  _takeNumbers(count: number): number {
    const at = this.#numbersAt;
    if (at + count > this.numbers.length) throw new RangeError("ReadingsMemory: not made for this sensor");
    this.#numbersAt = at + count;
    return at;
  }

  /** @internal Where the key prefixes of a sensor (given when made) start in `bytes`. */
  _takeBytes(count: number): number {
    const at = this.#bytesAt;
    if (at + count > this.bytes.length) throw new RangeError("ReadingsMemory: not made for this sensor");
    this.#bytesAt = at + count;
    return at;
  }
}

export class SensorReadings {
  readonly spec: SensorSpec;
  /** The JSON state: valid in its first `length` bytes after encode() (shared with the node's other sensors; the key prefixes lie past it). */
  readonly payload: Uint8Array;
  length = 0;
  /** Samples that threw in a row (0 once one succeeds). */
  failures = 0;
  lastError: unknown = undefined;

  readonly #sensor: Sensor | undefined;
  readonly #maxSilence: number;
  /**
   * Per reading i of `count`, from #at on: [i] its decimals, [count + i] its deadband in
   * units of its last decimal (at least 1), [2 count + i] the latest value, scaled (NaN: no
   * value), [3 count + i] the value last published, scaled, [4 count + i] where its prefix
   * ends in payload.
   */
  readonly #numbers: Float64Array;
  readonly #at: number;
  /** Where this sensor's key prefixes start in payload, past the JSON state: `{"key":` then `,"key":` for each reading. */
  readonly #prefixesAt: number;
  #hasValues = false;
  #everPublished = false;
  #publishedAt = 0;

  /** `memory`: the node's ReadingsMemory, made for its sensors, this one included (default: memory of its own). */
  constructor(spec: SensorSpec, sensor: Sensor | undefined, maxSilence: number, memory: ReadingsMemory = new ReadingsMemory([spec])) {
    this.spec = spec;
    this.#sensor = sensor;
    this.#maxSilence = maxSilence;
    const readings = spec.readings;
    const count = readings.length;
    const numbers = this.#numbers = memory.numbers;
    const at = this.#at = memory._takeNumbers(NUMBERS_PER_READING * count);
    const bytes = this.payload = memory.bytes;
    let end = this.#prefixesAt = memory._takeBytes(prefixesSize(spec));
    numbers.fill(NaN, at, at + NUMBERS_PER_READING * count);
    for (let i = 0; i < count; i++) {
      const reading = readings[i];
      numbers[at + i] = reading.decimals;
      numbers[at + count + i] = Math.max(1, Math.round(reading.deadband * POWERS_OF_TEN[reading.decimals]));
      const prefix = (i === 0 ? "{\"" : ",\"") + reading.key + "\":"; // ASCII: resolveConfig() checks keys
      for (let k = 0; k < prefix.length; k++) bytes[end++] = prefix.charCodeAt(k);
      numbers[at + 4 * count + i] = end;
    }
  }

  /** Whether a sample has given values yet. */
  get hasValues(): boolean {
    return this.#hasValues;
  }

  /** Takes a sample and says whether it should be published (SAMPLE_DUE) or what went wrong. */
  sample(now: number): number {
    const sensor = this.#sensor;
    if (sensor === undefined) return SAMPLE_NOT_READY; // reported once, when the node started
    let values: object | undefined;
    try {
      values = sensor.sample();
    } catch (error) {
      this.failures++;
      this.lastError = error;
      return SAMPLE_FAILED;
    }
    this.failures = 0;
    if (values === undefined || values === null) return SAMPLE_NOT_READY;
    return this.update(values as { readonly [key: string]: unknown }, now);
  }

  /** Takes new values (a sample's object) and says whether they should be published. */
  update(values: { readonly [key: string]: unknown }, now: number): number {
    const readings = this.spec.readings;
    const numbers = this.#numbers;
    const at = this.#at;
    const count = readings.length;
    let due = !this.#everPublished;
    for (let i = 0; i < count; i++) {
      const value = scale(values[readings[i].key], numbers[at + i]);
      numbers[at + 2 * count + i] = value;
      const last = numbers[at + 3 * count + i];
      if (value !== value || last !== last) {
        if ((value !== value) !== (last !== last)) due = true; // a value appeared or went away
      } else if (Math.abs(value - last) >= numbers[at + count + i]) {
        due = true;
      }
    }
    this.#hasValues = true;
    if (!due && this.#maxSilence > 0 && now - this.#publishedAt >= this.#maxSilence) due = true;
    return due ? SAMPLE_DUE : SAMPLE_UNCHANGED;
  }

  /** Writes the JSON state of the latest values into `payload`; returns its length. */
  encode(): number {
    const out = this.payload;
    const numbers = this.#numbers;
    const base = this.#at;
    const count = this.spec.readings.length;
    let at = 0;
    let from = this.#prefixesAt;
    for (let i = 0; i < count; i++) {
      const to = numbers[base + 4 * count + i];
      for (let k = from; k < to; k++) out[at++] = out[k]; // the prefix, from past the state
      from = to;
      at = writeScaled(out, at, numbers[base + 2 * count + i], numbers[base + i]);
    }
    out[at++] = 0x7d; // }
    this.length = at;
    return at;
  }

  /** Records that the latest values went out at `now`. */
  markPublished(now: number): void {
    const numbers = this.#numbers;
    const at = this.#at;
    const count = this.spec.readings.length;
    for (let i = 0; i < count; i++) numbers[at + 3 * count + i] = numbers[at + 2 * count + i];
    this.#publishedAt = now;
    this.#everPublished = true;
  }

  /** The value of reading `index` last published, scaled (NaN: none): kept through deep sleep in battery mode. */
  publishedScaled(index: number): number {
    return this.#numbers[this.#at + 3 * this.spec.readings.length + index];
  }

  /**
   * Takes back what was published before a deep sleep: reading i's value, scaled, from
   * `scaled(i)` (NaN: none), published at `publishedAt`; deadband and maxSilence go on from there.
   */
  resume(scaled: (index: number) => number, publishedAt: number): void {
    const numbers = this.#numbers;
    const at = this.#at;
    const count = this.spec.readings.length;
    for (let i = 0; i < count; i++) numbers[at + 3 * count + i] = scaled(i);
    this.#publishedAt = publishedAt;
    this.#everPublished = true;
  }

  /** The latest value of reading `index` in its unit, or null (for displays: not on a hot path). */
  value(index: number): number | null {
    const numbers = this.#numbers;
    const at = this.#at;
    const count = this.spec.readings.length;
    const scaled = numbers[at + 2 * count + index];
    return scaled === scaled ? scaled / POWERS_OF_TEN[numbers[at + index]] : null;
  }
}
