// SPDX-License-Identifier: Apache-2.0
// Throwaway TLS material for tests: a self-signed certificate for https://127.0.0.1, made with the
// openssl command line at test time inside a temporary directory (no key is ever committed).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { readFile } from "node:fs/promises";
import path from "node:path";

const run = promisify(execFile);

// Writes cert.pem and key.pem into `dir` and returns { certFile, keyFile, certPem }.
// The certificate is its own CA (basicConstraints CA:TRUE), so a client that is given certPem as
// its only trusted CA accepts the server; its subjectAltName holds IP:127.0.0.1 (what clients check
// for https://127.0.0.1) and DNS:localhost.
export async function makeSelfSignedCert(dir, { days = 2 } = {}) {
  const certFile = path.join(dir, "cert.pem");
  const keyFile = path.join(dir, "key.pem");
  try {
    await run("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
      "-keyout", keyFile, "-out", certFile, "-days", String(days),
      "-subj", "/CN=127.0.0.1",
      "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-addext", "basicConstraints=critical,CA:TRUE",
    ], { timeout: 30_000 });
  } catch (e) {
    throw new Error(`openssl could not make a test certificate: ${e.stderr || e.message}`);
  }
  return { certFile, keyFile, certPem: await readFile(certFile, "utf8") };
}
