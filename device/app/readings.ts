/*
 * One sensor's readings: sampling with report-on-change (a deadband per reading, in the
 * reading's own unit) and a maximum silence, and its JSON state, e.g.
 * {"temperature":21.53,"humidity":40.1}, written into a buffer made by the constructor.
 * After construction nothing here allocates: values are kept as scaled whole numbers in
 * typed arrays, and the JSON is written byte by byte (the sensor's own sample() object is
 * the driver's business).
 */

import { asciiBytes, MAX_NUMBER_BYTES, POWERS_OF_TEN, scale, writeBytes, writeScaled } from "./ascii.js";
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

export class SensorReadings {
  readonly spec: SensorSpec;
  /** The JSON state: valid in its first `length` bytes after encode(). */
  readonly payload: Uint8Array;
  length = 0;
  /** Samples that threw in a row (0 once one succeeds). */
  failures = 0;
  lastError: unknown = undefined;

  readonly #sensor: Sensor | undefined;
  readonly #maxSilence: number;
  /** `{"key":` then `,"key":` for each reading, as bytes. */
  readonly #prefixes: Uint8Array[];
  readonly #keys: string[];
  readonly #decimals: Uint8Array;
  /** Deadband per reading, in units of its last decimal (at least 1). */
  readonly #band: Float64Array;
  /** Latest values, scaled (NaN: no value). */
  readonly #current: Float64Array;
  /** Values last published, scaled. */
  readonly #published: Float64Array;
  #hasValues = false;
  #everPublished = false;
  #publishedAt = 0;

  constructor(spec: SensorSpec, sensor: Sensor | undefined, maxSilence: number) {
    this.spec = spec;
    this.#sensor = sensor;
    this.#maxSilence = maxSilence;
    const readings = spec.readings;
    const n = readings.length;
    this.#keys = readings.map((r) => r.key);
    this.#prefixes = readings.map((r, i) => asciiBytes((i === 0 ? "{\"" : ",\"") + r.key + "\":"));
    this.#decimals = new Uint8Array(n);
    this.#band = new Float64Array(n);
    this.#current = new Float64Array(n).fill(NaN);
    this.#published = new Float64Array(n).fill(NaN);
    let size = 1;
    for (let i = 0; i < n; i++) {
      const r = readings[i];
      this.#decimals[i] = r.decimals;
      this.#band[i] = Math.max(1, Math.round(r.deadband * POWERS_OF_TEN[r.decimals]));
      size += this.#prefixes[i].length + MAX_NUMBER_BYTES;
    }
    this.payload = new Uint8Array(size);
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
    } catch (e) {
      this.failures++;
      this.lastError = e;
      return SAMPLE_FAILED;
    }
    this.failures = 0;
    if (values === undefined || values === null) return SAMPLE_NOT_READY;
    return this.update(values as { readonly [key: string]: unknown }, now);
  }

  /** Takes new values (a sample's object) and says whether they should be published. */
  update(values: { readonly [key: string]: unknown }, now: number): number {
    const keys = this.#keys;
    const current = this.#current;
    const published = this.#published;
    let due = !this.#everPublished;
    for (let i = 0; i < keys.length; i++) {
      const value = scale(values[keys[i]], this.#decimals[i]);
      current[i] = value;
      const last = published[i];
      if (value !== value || last !== last) {
        if ((value !== value) !== (last !== last)) due = true; // a value appeared or went away
      } else if (Math.abs(value - last) >= this.#band[i]) {
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
    const prefixes = this.#prefixes;
    let at = 0;
    for (let i = 0; i < prefixes.length; i++) {
      at = writeBytes(out, at, prefixes[i]);
      at = writeScaled(out, at, this.#current[i], this.#decimals[i]);
    }
    out[at++] = 0x7d; // }
    this.length = at;
    return at;
  }

  /** Records that the latest values went out at `now`. */
  markPublished(now: number): void {
    const current = this.#current;
    const published = this.#published;
    for (let i = 0; i < current.length; i++) published[i] = current[i];
    this.#publishedAt = now;
    this.#everPublished = true;
  }

  /** The latest value of reading i in its unit, or null (for displays: not on a hot path). */
  value(i: number): number | null {
    const v = this.#current[i];
    return v === v ? v / POWERS_OF_TEN[this.#decimals[i]] : null;
  }
}
