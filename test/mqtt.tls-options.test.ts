/*
 * The client's TLS options (device/mqtt/options.ts, device/mqtt/pem.ts): `tls: { ca, cert,
 * key, serverName }` checked and turned into the `secure` options of Moddable's TLS socket,
 * DER bytes (PEM text decoded once), a certificate only with its key. The certificates and
 * keys are made by openssl (test/brokers/certs.ts) and compared with Node's own decoding.
 */

import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MqttError } from "../device/mqtt/errors.js";
import type { ClientIo } from "../device/mqtt/io.js";
import { checkOptions, type TlsOptions } from "../device/mqtt/options.js";
import { TCP, TLS } from "../host-sim/io/sockets.js";
import { makeCa, makeClientCert, type TestCa, type TestClientCert } from "./brokers/certs.js";

const io: ClientIo = { TCP, TLS, Timer: { repeat: () => 0, clear: () => {} }, TextEncoder, TextDecoder };

function secureOf(tls: TlsOptions) {
  return checkOptions({ host: "broker.example", clientId: "unit", io, tls }).tls!;
}

function failure(tls: unknown): [string, string] {
  try {
    secureOf(tls as TlsOptions);
  } catch (error) {
    if (error instanceof MqttError) return [error.code, error.message];
    throw error;
  }
  throw new Error("no error");
}

let dir: string;
let ca: TestCa;
let client: TestClientCert;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "xs-mqtt-tls-options-"));
  ca = await makeCa(dir, "ca");
  client = await makeClientCert(dir, ca, "device");
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("tls: { ca, cert, key, serverName } as Moddable's TLS socket's secure options", () => {
  it("PEM text becomes the DER bytes Node decodes from it: ca -> certificate, cert -> clientCertificates[0], key -> clientKey (PKCS #8)", () => {
    const keyPem = readFileSync(client.keyFile, "utf8");
    const settings = secureOf({ ca: ca.pem, cert: client.pem, key: keyPem, serverName: "broker.local" });
    expect(settings.serverName).toBe("broker.local");
    expect(Object.keys(settings.secure).sort()).toEqual(["certificate", "clientCertificates", "clientKey"]);
    expect(Buffer.from(settings.secure.certificate as Uint8Array)).toEqual(new X509Certificate(ca.pem).raw);
    expect(settings.secure.clientCertificates!.map((c) => Buffer.from(c as Uint8Array)))
      .toEqual([new X509Certificate(client.pem).raw]);
    expect(Buffer.from(settings.secure.clientKey as Uint8Array))
      .toEqual(createPrivateKey(keyPem).export({ format: "der", type: "pkcs8" }));
  });

  it("DER bytes pass as they are (an ArrayBuffer or a view of it, no copy)", () => {
    const der = new Uint8Array(new X509Certificate(ca.pem).raw);
    const settings = secureOf({ ca: der });
    expect((settings.secure.certificate as Uint8Array).buffer).toBe(der.buffer);
    expect(Buffer.from(secureOf({ ca: der.buffer }).secure.certificate as Uint8Array)).toEqual(Buffer.from(der));
  });

  it("refuses, as argument-invalid: a cert without its key or the reverse, a key that is not PKCS #8, broken PEM, other types", () => {
    const keyPem = readFileSync(client.keyFile, "utf8");
    expect(failure({ cert: client.pem })).toEqual(["argument-invalid", "bad argument (tls.cert and tls.key: both or neither)"]);
    expect(failure({ key: keyPem })[1]).toContain("tls.cert and tls.key: both or neither");
    const sec1 = createPrivateKey(keyPem).export({ format: "pem", type: "sec1" }).toString();
    expect(failure({ cert: client.pem, key: sec1 })[1]).toContain("tls.key (PKCS #8");
    expect(failure({ ca: "-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----\n" })[1]).toContain("tls.ca: bad base64");
    expect(failure({ ca: "no pem here" })[1]).toContain("-----BEGIN CERTIFICATE-----");
    expect(failure({ ca: 42 })[1]).toContain("tls.ca: not PEM or DER");
    expect(failure({ serverName: "" })[1]).toContain("tls.serverName");
  });
});
