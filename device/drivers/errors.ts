/*
 * The drivers' one error type, its stable codes, and the errors every driver throws alike
 * (closed, no answer, no options), each worded with the chip's name. A driver throws a
 * SensorError when a reading cannot be trusted or the driver cannot be used; "not ready
 * yet" is not an error (sample() returns undefined). Must not hold run-time state:
 * preloaded and frozen on the device.
 */

export type SensorErrorCode =
  /** A word's CRC-8 did not match: bus noise or a loose wire. The next sample measures again. */
  | "crc-mismatch"
  /** The chip stopped acknowledging: unplugged, unpowered, or a wrong address. */
  | "no-answer"
  /** A configure() or constructor option is out of range. */
  | "option-invalid"
  /** The driver was closed. */
  | "closed";

export class SensorError extends Error {
  override readonly name = "SensorError"; // a field: see MqttError (frozen Error.prototype)
  readonly code: SensorErrorCode;
  constructor(code: SensorErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** "closed": `chip`'s driver was used after close(). */
export function closedError(chip: string): SensorError {
  return new SensorError("closed", `${chip}: the driver was closed`);
}

/** "no-answer": `chip` at `address` did not acknowledge; `check` says what to check. */
export function noAnswerError(chip: string, address: number, check: string): SensorError {
  return new SensorError("no-answer", `${chip} at 0x${address.toString(16)} did not acknowledge: check ${check}`);
}

/** Throws "option-invalid" unless `chip`'s configure() was given an options object. */
export function checkOptions(chip: string, options: unknown): void {
  if (options === undefined || options === null) throw new SensorError("option-invalid", `${chip}: configure() needs an options object`);
}
