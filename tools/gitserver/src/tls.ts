// A throwaway certificate authority for tests: a CA, a server certificate for 127.0.0.1/localhost, and a client
// certificate for mTLS, all made with the openssl binary.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";

export interface TestPki {
  caCert: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  await execa("openssl", args, { cwd, stdin: "ignore" });
}

/** `serverNames`: more DNS names the server certificate is valid for (besides localhost and 127.0.0.1). */
export async function createTestPki(options: { serverNames?: string[] } = {}): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), "capstan-pki-"));
  try {
    const key = (name: string) =>
      openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name], dir);
    await key("ca.key");
    await openssl(
      ["req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=capstan-test-ca", "-days", "2", "-out", "ca.crt"],
      dir,
    );
    const sign = async (name: string, cn: string, ext: string) => {
      await key(`${name}.key`);
      await openssl(["req", "-new", "-key", `${name}.key`, "-subj", `/CN=${cn}`, "-out", `${name}.csr`], dir);
      await writeFile(join(dir, `${name}.ext`), ext);
      await openssl(
        [
          "x509",
          "-req",
          "-in",
          `${name}.csr`,
          "-CA",
          "ca.crt",
          "-CAkey",
          "ca.key",
          "-CAcreateserial",
          "-days",
          "2",
        ].concat(["-extfile", `${name}.ext`, "-out", `${name}.crt`]),
        dir,
      );
    };
    const names = ["localhost", ...(options.serverNames ?? [])].map((n) => `DNS:${n}`).join(",");
    await sign("server", "localhost", `subjectAltName=IP:127.0.0.1,${names}\nextendedKeyUsage=serverAuth\n`);
    await sign("client", "capstan-client", "extendedKeyUsage=clientAuth\n");
    const read = (f: string) => readFile(join(dir, f));
    return {
      caCert: await read("ca.crt"),
      serverCert: await read("server.crt"),
      serverKey: await read("server.key"),
      clientCert: await read("client.crt"),
      clientKey: await read("client.key"),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
