/*
 * Why a board cannot connect, in the CLI's words: the board's latest client error (the
 * firmware logs "mqtt <code>: <message>") with the network's reason logged before it
 * ("network: <Node's reason>", host-sim/io/network.ts onFailure), sorted into what the user
 * should look at: the network, TLS, or the broker's answer. A TLS socket that never
 * connected is reported by the client as tls-failed (a board's socket gives no reason):
 * the network's reason tells a refused port from a certificate problem. Formatting only:
 * it never changes a board. Node side only.
 */

export interface BoardError {
  /** The client's error code (device/mqtt/errors.ts). */
  code: string;
  message: string;
  /** Node's reason for the socket's failure, when the socket failed. */
  network: string | undefined;
}

/** The latest client error in a board's log, with the network reason logged since the error before it. */
export function latestError(log: readonly string[]): BoardError | undefined {
  for (let at = log.length - 1; at >= 0; at--) {
    const line = log[at];
    if (!line.startsWith("mqtt ")) continue;
    const colon = line.indexOf(": ");
    let network: string | undefined;
    for (let before = at - 1; before >= 0 && !log[before].startsWith("mqtt "); before--) {
      if (log[before].startsWith("network: ")) {
        network = log[before].slice("network: ".length);
        break;
      }
    }
    return colon < 0
      ? { code: line.slice(5), message: "", network }
      : { code: line.slice(5, colon), message: line.slice(colon + 2), network };
  }
  return undefined;
}

/** Node's reasons for a connection that failed before any TLS or MQTT byte was exchanged. */
const CONNECTION = /\bE(CONNREFUSED|HOSTUNREACH|NETUNREACH|TIMEDOUT|ADDRNOTAVAIL|MFILE|NFILE|NOTFOUND|AI_AGAIN)\b/;
/**
 * Node's reasons when the server closed or reset the connection in the middle of the TLS
 * handshake (a plain MQTT port resets at the ClientHello).
 */
const TLS_CLOSED = /before secure TLS connection was established|\bECONNRESET\b|\bEPIPE\b|^connection closed$/;

export interface Explained {
  /** The error in one line, for the live view and "the last error of ...". */
  text: string;
  /** Why no board came online and what to check, naming the broker. */
  advice: string;
}

export function explain(error: BoardError, brokerUrl: string): Explained {
  const { code, message, network } = error;
  const full = `mqtt ${code}: ${message}${network === undefined ? "" : ` (network: ${network})`}`;
  const reachable = `is the broker at ${brokerUrl} reachable?`;
  if (code === "tls-failed" && network !== undefined && CONNECTION.test(network)) {
    return {
      text: `${network} (the client says tls-failed, as a board's socket gives no reason: no TLS byte was exchanged, so not a certificate problem)`,
      advice: reachable,
    };
  }
  switch (code) {
    case "tls-failed":
      return network !== undefined && TLS_CLOSED.test(network)
        ? { text: full, advice: `${brokerUrl} closed the connection during the TLS handshake: is that port a TLS (mqtts://) listener, and does it want a client certificate?` }
        : { text: full, advice: `the TLS handshake with ${brokerUrl} failed: check --ca (the CA that signed the broker's certificate) and that the host name in --broker is one its certificate names` };
    case "bad-credentials":
      return { text: full, advice: `the broker at ${brokerUrl} refused the boards' user name or password: check broker.username and broker.password in --config` };
    case "not-authorized":
      return { text: full, advice: `the broker at ${brokerUrl} did not authorize the boards: check its access rules, and broker.username and broker.password in --config` };
    case "identifier-rejected":
      return { text: full, advice: `the broker at ${brokerUrl} rejected the boards' client ids: leave broker.clientId out of --config (each board then gets its own)` };
    case "unacceptable-protocol":
      return { text: full, advice: `the broker at ${brokerUrl} does not accept MQTT 3.1.1` };
    case "server-unavailable":
      return { text: full, advice: `the broker at ${brokerUrl} says it is unavailable (CONNACK 3): is it starting or overloaded?` };
    case "dns-failed":
      return { text: full, advice: `the host name of ${brokerUrl} did not resolve: check it and the DNS server` };
    case "connection-lost":
    case "connect-timeout":
    case "keepalive-timeout":
      return { text: full, advice: reachable };
    default:
      return { text: full, advice: `the broker at ${brokerUrl} answered with something the client refused (${code}): see the last error` };
  }
}

/** Node's error codes in words, for the live view (the header names the broker's address). */
const WORDS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  EMFILE: "too many open files",
  ENFILE: "too many open files",
  ENOTFOUND: "host name not found",
  EPIPE: "connection broken",
};

/** The short form shown next to a connecting board in the live view. */
export function shortError(error: BoardError): string {
  const { code, message, network } = error;
  if (network !== undefined && (code === "connection-lost" || CONNECTION.test(network))) {
    const errno = /\b(E[A-Z_]+)\b/.exec(network)?.[1];
    return errno !== undefined && WORDS[errno] !== undefined ? WORDS[errno] : network;
  }
  return code === "tls-failed" && network !== undefined ? `TLS: ${network}` : `${code}: ${message}`;
}
