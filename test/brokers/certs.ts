/*
 * Throw-away TLS material for the security suites, made with the openssl CLI in a temp dir
 * of the caller's: a self-signed CA, a server certificate it signs for 127.0.0.1 and
 * localhost, client certificates, and the mosquitto config lines of a TLS listener that
 * serves it (optionally asking every client for a certificate of that CA). Every openssl
 * run is bounded by a timeout. Test side only: nothing here is a real secret.
 */

import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const OPENSSL = "openssl";
const OPENSSL_TIMEOUT = 15_000;

const run = promisify(execFile);

async function openssl(args: string[], cwd: string): Promise<void> {
  await run(OPENSSL, args, { cwd, timeout: OPENSSL_TIMEOUT });
}

/** A certificate authority: its certificate (PEM text) and where its files lie. */
export interface TestCa {
  /** The CA certificate, PEM. */
  readonly pem: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** A server certificate and key signed by a TestCa. */
export interface TestServerCert {
  readonly certFile: string;
  readonly keyFile: string;
  /** The subjectAltName entries it carries, as given to openssl. */
  readonly altNames: string;
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** Makes a self-signed CA named `name` in `dir` (files `<name>.crt`, `<name>.key`). */
export async function makeCa(dir: string, name: string): Promise<TestCa> {
  const certFile = join(dir, name + ".crt");
  const keyFile = join(dir, name + ".key");
  await openssl([
    "req", "-x509", ...EC_KEY, "-keyout", keyFile, "-out", certFile, "-days", "2",
    "-subj", "/CN=xs-mqtt test CA " + name,
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ], dir);
  return { pem: await readFile(certFile, "utf8"), certFile, keyFile };
}

/** Makes a server certificate signed by `ca`, for 127.0.0.1 and localhost by default. */
export async function makeServerCert(
  dir: string, ca: TestCa, name: string, altNames = "IP:127.0.0.1,DNS:localhost",
): Promise<TestServerCert> {
  const certFile = join(dir, name + ".crt");
  const keyFile = join(dir, name + ".key");
  const csrFile = join(dir, name + ".csr");
  const extFile = join(dir, name + ".ext");
  await writeFile(extFile, [
    "basicConstraints=CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    "extendedKeyUsage=serverAuth",
    "subjectAltName=" + altNames,
    "",
  ].join("\n"));
  await openssl(["req", "-new", ...EC_KEY, "-keyout", keyFile, "-out", csrFile, "-subj", "/CN=" + name], dir);
  await openssl([
    "x509", "-req", "-in", csrFile, "-CA", ca.certFile, "-CAkey", ca.keyFile, "-CAcreateserial",
    "-out", certFile, "-days", "2", "-extfile", extFile,
  ], dir);
  return { certFile, keyFile, altNames };
}

/** A client certificate and its key (PKCS #8 PEM, as openssl writes it) signed by a TestCa. */
export interface TestClientCert {
  /** The certificate, PEM. */
  readonly pem: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * Makes a client certificate signed by `ca` (extendedKeyUsage clientAuth), its common name
 * `name`. `keyType` "rsa" makes a 2048-bit RSA key: Moddable's TLS signs a client's
 * CertificateVerify with RSA only (modules/crypt/ssl/ssl_handshake.js, certificateVerify).
 */
export async function makeClientCert(dir: string, ca: TestCa, name: string, keyType: "ec" | "rsa" = "ec"): Promise<TestClientCert> {
  const certFile = join(dir, name + ".crt");
  const keyFile = join(dir, name + ".key");
  const csrFile = join(dir, name + ".csr");
  const extFile = join(dir, name + ".ext");
  await writeFile(extFile, ["basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature", "extendedKeyUsage=clientAuth", ""].join("\n"));
  const key = keyType === "rsa" ? ["-newkey", "rsa:2048", "-nodes"] : EC_KEY;
  await openssl(["req", "-new", ...key, "-keyout", keyFile, "-out", csrFile, "-subj", "/CN=" + name], dir);
  await openssl([
    "x509", "-req", "-in", csrFile, "-CA", ca.certFile, "-CAkey", ca.keyFile, "-CAcreateserial",
    "-out", certFile, "-days", "2", "-extfile", extFile,
  ], dir);
  return { pem: await readFile(certFile, "utf8"), certFile, keyFile };
}

/**
 * mosquitto config lines for a second listener, TLS only, on 127.0.0.1:port (for
 * Mosquitto.start's `config`). Without per_listener_settings the password and ACL files
 * stay global, so both listeners check the same users.
 */
export function tlsListenerConfig(port: number, ca: TestCa, server: TestServerCert, requireCertificate = false): string[] {
  return [
    "listener " + port + " 127.0.0.1",
    "cafile " + ca.certFile,
    "certfile " + server.certFile,
    "keyfile " + server.keyFile,
    ...(requireCertificate ? ["require_certificate true"] : []),
  ];
}
