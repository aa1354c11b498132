// XS side of the host bridge (runs inside xsnap, never on Node or on a board): frames
// commands to the Node host through the synchronous `issueCommand`, and hands the host's
// asynchronous deliveries (registered with the XS worker harness's `__xsHarness.setReceiver`)
// to the listener of their service. A frame is a 2-byte big-endian header length, the
// header as JSON (it names its `service`), then the body bytes.
// Must not know any particular service (TCP, Timer, ... live in their own modules), and
// must not call a listener from inside call(): host events arrive only as deliveries. A
// listener hands the device's callbacks to callback(), never calls them itself.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const listeners = new Map();

/** Bytes of an ArrayBuffer or a view, as a Uint8Array over the same memory. */
export function bytesOf(buffer) {
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  if (ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  throw new TypeError("expected an ArrayBuffer or a view of one");
}

function frame(header, body) {
  const head = encoder.encode(JSON.stringify(header));
  if (head.length > 0xffff) throw new RangeError("bridge header too large");
  const bodyLength = body === undefined ? 0 : body.length;
  const out = new Uint8Array(2 + head.length + bodyLength);
  out[0] = head.length >> 8;
  out[1] = head.length & 0xff;
  out.set(head, 2);
  if (body !== undefined) out.set(body, 2 + head.length);
  return out.buffer;
}

function parse(buffer) {
  const bytes = new Uint8Array(buffer);
  if (bytes.length < 2) throw new Error("bridge: an empty frame from the host (its command handler failed)");
  const headLength = (bytes[0] << 8) | bytes[1];
  const header = JSON.parse(decoder.decode(bytes.subarray(2, 2 + headLength)));
  return { header, body: bytes.subarray(2 + headLength) };
}

/**
 * Sends a command to the host's `service` and returns its reply `{ header, body }`.
 * Throws an Error with the host's message when the host refused it (e.g. "would block"), a
 * RangeError, TypeError or SyntaxError when the host's error was one.
 */
export function call(service, header, body) {
  const reply = parse(issueCommand(frame({ ...header, service }, body === undefined ? undefined : bytesOf(body))));
  if (typeof reply.header.error === "string") {
    const name = reply.header.errorName;
    const Type = name === "RangeError" ? RangeError : name === "TypeError" ? TypeError : name === "SyntaxError" ? SyntaxError : Error;
    throw new Type(reply.header.error);
  }
  return reply;
}

/**
 * Runs `fn` (with `this` = `self`, and `arg` as its one argument unless `argc` is 0) as the
 * board runs an IO callback: once the listener of the delivery in progress has returned,
 * under the board's stack budget (the harness's padding: host-sim/engines/xs/stack-budget.mjs),
 * then `after()`. Outside a delivery it runs at the end of the next one.
 */
export function callback(fn, self, argc, arg, after) {
  __xsHarness.queue(fn, self, argc, arg, after);
}

/** Routes the host's deliveries for `service` to `listener(header, body)`. */
export function listen(service, listener) {
  listeners.set(service, listener);
}

__xsHarness.setReceiver((buffer) => {
  const { header, body } = parse(buffer);
  const listener = listeners.get(header.service);
  if (listener === undefined) throw new Error("bridge: no listener for the service " + JSON.stringify(header.service));
  listener(header, body);
});
