/**
 * Certificates made at test time with the `openssl` command (Debian package openssl, listed
 * in tools/ci_apt_packages.txt): a CA, and a server certificate it signs for 127.0.0.1 and
 * localhost, valid for a day. rustls (Deno's TLS) accepts only a CA-signed end-entity
 * certificate, not a self-signed one used as its own CA.
 *
 * @module
 */

/** PEM files of a test CA and a server certificate and key it signed, in a temporary directory. */
export interface TestCertificates {
  /** The temporary directory holding the files; remove it when done. */
  readonly dir: string;
  /** The CA certificate (the client's --tls-ca). */
  readonly caFile: string;
  /** The server's certificate (--tls-cert) and private key (--tls-key). */
  readonly certFile: string;
  readonly keyFile: string;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd: dir, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** Makes a CA and a server certificate for 127.0.0.1 and localhost in a new temporary directory. */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = await Deno.makeTempDir({ prefix: "safenet-tls-" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(
    dir,
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=SAFENet test CA",
  );
  await openssl(dir, "req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
  );
  await openssl(
    dir,
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "1",
    "-extfile",
    "server.ext",
  );
  return { dir, caFile: `${dir}/ca.pem`, certFile: `${dir}/server.pem`, keyFile: `${dir}/server.key` };
}
