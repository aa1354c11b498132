/*
 * A virtual I²C bus for the simulated board: `bus.I2C` is a class with the ECMA-419
 * `embedded:io/i2c` shape (synchronous), behaving as Moddable's ESP32 implementation does
 * (modules/io/i2c/_i2c.js over modules/io/i2c/esp32/_i2c.c; the rows of docs/moddable-io.md
 * "## I²C"): the same constructor checks, in the same order, with the same errors ("data
 * required", "clock required", "address required", "invalid" for an undefined pin or address,
 * "negative", RangeError "inUse" when a Digital holds a pin, "invalid address", "duplicate
 * address", "unusable pins" on input-only pins, "invalid hz" (hz missing too), "invalid
 * timeout", "invalid port", "invalid format"); `read(count)` returns a new ArrayBuffer,
 * `read(buffer)` fills the buffer and returns its length; `write(buffer)` returns nothing;
 * a `stop` argument changes nothing (Moddable's native reads it and never uses it), so every
 * transaction ends with a stop; a chip that does not acknowledge makes read/write throw
 * Error("read failed") / ("write failed"); a zero-length write is a probe that returns 1 when
 * nobody answers; after close() read and write throw SyntaxError (XS's "invalid host data").
 *
 * Simulated chips (host-sim/chips/) attach at an address and see each transaction's bytes
 * (command/register level). The bus is wired to one SDA/SCL pin pair (ESP32 defaults 21
 * and 22): a connection opened on other pins reaches no chip. The pins in use are the
 * board's VirtualPins register (host-sim/io/digital.ts), shared with Digital: a connection holds
 * its two pins until the last connection on them closes. A chip may declare the fastest
 * clock it follows (`maxHz`); a faster connection gets no acknowledge from it. Each
 * simulated board gets its own bus. Node side only.
 */

import { bytesOf } from "./bytes.js";
import type { ByteBuffer } from "./bytes.js";
import { closedError, toInteger, VirtualPins } from "./digital.js";
import { EMPTY, withItem, withoutAt, withoutItem } from "./lists.js";

export interface I2CChip {
  /** The fastest bus clock the chip follows; faster and it does not acknowledge. */
  readonly maxHz?: number;
  /**
   * A write transaction: the bytes after the address byte (none for a probe). Return false
   * for "not acknowledged". The bytes are valid only during the call.
   */
  write(bytes: Uint8Array, stop: boolean): boolean;
  /** A read transaction: fill all of `into` and return true, or return false for "not acknowledged". */
  read(into: Uint8Array, stop: boolean): boolean;
}

/** One transaction, as seen on the wire (for tests and simulator logs). */
export interface I2CTransfer {
  address: number;
  direction: "read" | "write";
  /** A copy of the bytes written, or read when acknowledged. */
  bytes: Uint8Array;
  acknowledged: boolean;
}

/** The ECMA-419 I²C constructor options. */
export interface SimI2COptions {
  data: number;
  clock: number;
  hz: number;
  address: number;
  port?: number;
  timeout?: number;
  pullup?: boolean;
  format?: "buffer";
  target?: unknown;
}


/** An open connection to one address on an I2CBus. Construct it through `bus.I2C`. */
export class SimI2C {
  #bus: I2CBus | null;
  #key: number;
  readonly data: number;
  readonly clock: number;
  readonly hz: number;
  readonly address: number;
  /** Only when the options give one, as on Moddable (no field otherwise). */
  declare target?: unknown;

  /** Not for direct use: `new bus.I2C(options)` (this class bound to the bus). Checks in Moddable's order. */
  constructor(bus: I2CBus, options: SimI2COptions) {
    if (options === undefined || options === null || typeof options !== "object") throw new TypeError("options required");
    if (!("data" in options)) throw new RangeError("data required");
    if (!("clock" in options)) throw new RangeError("clock required");
    if (!("address" in options)) throw new RangeError("address required");
    const data = unsignedOf(options.data);
    const clock = unsignedOf(options.clock);
    const pins = bus.pins;
    if (!bus._usingPins(data, clock) && (!pins.isFree(data) || !pins.isFree(clock))) throw new RangeError("inUse");
    const address = unsignedOf(options.address);
    if (address > 127) throw new RangeError("invalid address");
    const key = (data * 65_536 + clock) * 128 + address;
    if (bus._open.includes(key)) throw new RangeError("duplicate address");
    if (pins.inputOnly.has(data) || pins.inputOnly.has(clock)) throw new RangeError("unusable pins");
    const hz = toInteger(options.hz);
    if (!(hz > 0 && hz <= 20_000_000)) throw new RangeError("invalid hz");
    if ("timeout" in options && toInteger(options.timeout) < -1) throw new RangeError("invalid timeout");
    if ("port" in options) {
      const port = toInteger(options.port);
      if (port < 0 || port >= 2) throw new RangeError("invalid port");
    }
    if ("target" in options) this.target = options.target;
    if ("format" in options && options.format && String(options.format) !== "buffer") throw new RangeError("invalid format");
    bus._open = withItem(bus._open, key);
    pins._useForI2C(data);
    pins._useForI2C(clock);
    this.#bus = bus;
    this.#key = key;
    this.data = data;
    this.clock = clock;
    this.hz = hz;
    this.address = address;
  }

  get format(): "buffer" {
    return "buffer";
  }

  set format(value: "buffer") {
    if ("buffer" != value) throw new RangeError(); // loose, as Moddable's setter compares
  }

  /**
   * Reads `count` bytes into a new ArrayBuffer, or fills `buffer` and returns its length, as
   * Moddable's does (modules/io/i2c/esp32/_i2c.c). Throws Error("read failed") on no
   * acknowledge. A second argument (`stop`) changes nothing, as on Moddable's.
   */
  read(count: number): ArrayBuffer;
  read(buffer: ByteBuffer): number;
  read(option: number | ByteBuffer): ArrayBuffer | number {
    const bus = this.#open();
    let result: ArrayBuffer | number;
    let bytes: Uint8Array;
    if (typeof option === "object" && option !== null) {
      bytes = bytesOf(option);
      result = bytes.length;
    } else {
      const count = toInteger(option);
      if (count < 0) throw new RangeError("invalid count");
      result = new ArrayBuffer(count);
      bytes = new Uint8Array(result);
    }
    if (!bus._transfer(this, "read", bytes, true)) throw new Error("read failed");
    return result;
  }

  /**
   * Writes all bytes of the buffer; throws Error("write failed") on no acknowledge. A
   * zero-length write is a probe: it returns 1 when nobody acknowledges, else undefined.
   * A second argument (`stop`) changes nothing, as on Moddable's.
   */
  write(buffer: ByteBuffer): number | undefined {
    const bus = this.#open();
    const bytes = bytesOf(buffer);
    const acknowledged = bus._transfer(this, "write", bytes, true);
    if (bytes.length === 0) return acknowledged ? undefined : 1;
    if (!acknowledged) throw new Error("write failed");
    return undefined;
  }

  close(): void {
    const bus = this.#bus;
    if (bus === null) return;
    this.#bus = null;
    bus._open = withoutItem(bus._open, this.#key);
    if (!bus._usingPins(this.data, this.clock)) {
      bus.pins._freeFromI2C(this.data);
      bus.pins._freeFromI2C(this.clock);
    }
  }

  #open(): I2CBus {
    if (this.#bus === null) throw closedError();
    return this.#bus;
  }
}
export interface I2CBusOptions {
  /** SDA pin the chips are wired to; default 21 (ESP32). */
  data?: number;
  /** SCL pin the chips are wired to; default 22 (ESP32). */
  clock?: number;
  /** The board's pins, whose register of pins in use I²C shares with Digital; default: pins of the bus's own. */
  pins?: VirtualPins;
}

export class I2CBus {
  readonly data: number;
  readonly clock: number;
  /** The board's pins (their register of pins in use). */
  readonly pins: VirtualPins;
  /** The ECMA-419 I²C class for this bus: hand it to drivers as `sensor.io`. */
  readonly I2C: new (options: SimI2COptions) => SimI2C;
  /** Called after every transaction (for logs and tests). */
  onTransfer: ((transfer: I2CTransfer) => void) | undefined = undefined;
  /** The attached chips and their addresses, at the same index (a few: smaller than a Map), replaced on every change (lists.ts). */
  #chips: readonly I2CChip[] = EMPTY;
  #addresses: readonly number[] = EMPTY;
  /**
   * @internal The open connections, as (data * 65,536 + clock) * 128 + address (a few: an
   * array is smaller than a Set), replaced on every change (lists.ts).
   */
  _open: readonly number[] = EMPTY;

  constructor(options: I2CBusOptions = {}) {
    this.data = options.data ?? 21;
    this.clock = options.clock ?? 22;
    this.pins = options.pins ?? new VirtualPins();
    // SimI2C bound to this bus: one class for every board, so a fleet shares its shapes
    this.I2C = SimI2C.bind(null, this);
  }

  /** Wires a chip to the bus at a 7-bit address. */
  attach(address: number, chip: I2CChip): void {
    if (!(Number.isInteger(address) && address >= 0 && address <= 127)) throw new RangeError(`I2CBus: invalid address ${address}`);
    if (this.#addresses.includes(address)) throw new Error(`I2CBus: a chip is already attached at 0x${address.toString(16)}`);
    this.#chips = withItem(this.#chips, chip);
    this.#addresses = withItem(this.#addresses, address);
  }

  /** Unwires the chip at an address (as if unplugged). */
  detach(address: number): void {
    const at = this.#addresses.indexOf(address);
    if (at < 0) return;
    this.#chips = withoutAt(this.#chips, at);
    this.#addresses = withoutAt(this.#addresses, at);
  }

  chipAt(address: number): I2CChip | undefined {
    const at = this.#addresses.indexOf(address);
    return at < 0 ? undefined : this.#chips[at];
  }

  /** @internal True when an open connection uses these two pins (Moddable's usingPins). */
  _usingPins(data: number, clock: number): boolean {
    const open = this._open;
    for (let i = 0; i < open.length; i++) if (Math.floor(open[i] / 128) === data * 65_536 + clock) return true;
    return false;
  }

  /** @internal One transaction from an open connection; true when acknowledged. */
  _transfer(from: SimI2C, direction: "read" | "write", bytes: Uint8Array, stop: boolean): boolean {
    let acknowledged = false;
    if (from.data === this.data && from.clock === this.clock) {
      const chip = this.chipAt(from.address);
      if (chip !== undefined && !(chip.maxHz !== undefined && from.hz > chip.maxHz)) {
        acknowledged = direction === "read" ? chip.read(bytes, stop) : chip.write(bytes, stop);
      }
    }
    this.onTransfer?.({ address: from.address, direction, bytes: bytes.slice(), acknowledged });
    return acknowledged;
  }
}

/** Moddable's builtinGetPin (modules/io/common/builtinCommon.c): undefined → Error("invalid"), below 0 → RangeError("negative"). */
function unsignedOf(value: unknown): number {
  if (value === undefined) throw new Error("invalid");
  const integer = toInteger(value);
  if (integer < 0) throw new RangeError("negative");
  return integer;
}
