/**
 * Self-signed certificates for the TLS tests, made by openssl at test time
 * into a temp dir (tests skip without openssl: `haveOpenssl`).
 *
 * The certificate is for IP 127.0.0.1 and is marked `CA:FALSE`: Deno's TLS
 * client (rustls/webpki) refuses a self-signed certificate that calls itself
 * a CA when it is used as the server's own (`CaUsedAsEndEntity`), which
 * openssl's `req -x509` does by default.
 *
 * @module
 */

/** Whether openssl can be run. Sync, for `Deno.test({ ignore })`. */
export const haveOpenssl: boolean = (() => {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
})();

/** A certificate and its key: the files, and their PEM text. */
export interface TestCert {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

/** Makes a self-signed RSA certificate for 127.0.0.1, valid one day, as `DIR/NAME.crt` and `DIR/NAME.key`. */
export async function makeCert(dir: string, name: string): Promise<TestCert> {
  const certFile = `${dir}/${name}.crt`;
  const keyFile = `${dir}/${name}.key`;
  const out = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-days",
      "1",
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`openssl req failed:\n${new TextDecoder().decode(out.stderr)}`);
  return {
    certFile,
    keyFile,
    cert: await Deno.readTextFile(certFile),
    key: await Deno.readTextFile(keyFile),
  };
}

/**
 * Whether a TLS client that trusts only `caCert` completes a handshake with `127.0.0.1:port`: the way to
 * tell which certificate a listener shows to a new connection.
 */
export async function trusts(port: number, caCert: string): Promise<boolean> {
  const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [caCert] });
  try {
    await conn.handshake();
    return true;
  } catch (e) {
    if (!(e instanceof Deno.errors.InvalidData)) throw e;
    return false;
  } finally {
    conn.close();
  }
}
