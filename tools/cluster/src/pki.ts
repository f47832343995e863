import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Pki {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run("openssl", args);
  } catch (cause) {
    throw new Error(`openssl ${args[0]}: ${(cause as { stderr?: string }).stderr ?? ""}`.trim(), { cause });
  }
}

async function issue(
  dir: string,
  name: string,
  subject: string,
  extensions: string,
  ca: { cert: string; key: string },
): Promise<{ cert: string; key: string }> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  await writeFile(ext, extensions);
  await openssl(
    ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"].concat([
      "-keyout",
      key,
      "-out",
      csr,
      "-subj",
      subject,
    ]),
  );
  await openssl(
    ["x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial", "-days", "365"].concat([
      "-sha256",
      "-out",
      cert,
      "-extfile",
      ext,
    ]),
  );
  return { cert, key };
}

/**
 * Generates a throwaway PKI: a CA, a serving certificate for the kube-apiserver on loopback, an admin client
 * certificate (CN admin, O system:masters) and the service-account signing key pair.
 */
export async function generatePki(dir: string): Promise<Pki> {
  const caCert = join(dir, "ca.crt");
  const caKey = join(dir, "ca.key");
  await openssl(
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"].concat([
      "-keyout",
      caKey,
      "-out",
      caCert,
      "-days",
      "3650",
      "-subj",
      "/CN=capstan-local-ca",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
    ]),
  );
  const ca = { cert: caCert, key: caKey };
  const sans = [
    "IP:127.0.0.1",
    "IP:10.0.0.1",
    "DNS:localhost",
    "DNS:kubernetes",
    "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc",
    "DNS:kubernetes.default.svc.cluster.local",
  ];
  const serving = await issue(
    dir,
    "apiserver",
    "/CN=kube-apiserver",
    `subjectAltName=${sans.join(",")}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`,
    ca,
  );
  const admin = await issue(
    dir,
    "admin",
    "/O=system:masters/CN=admin",
    "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n",
    ca,
  );
  const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const serviceAccountKey = join(dir, "sa.key");
  const serviceAccountPub = join(dir, "sa.pub");
  await writeFile(serviceAccountKey, pair.privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  await writeFile(serviceAccountPub, pair.publicKey.export({ type: "spki", format: "pem" }));
  return {
    caCert,
    caKey,
    servingCert: serving.cert,
    servingKey: serving.key,
    adminCert: admin.cert,
    adminKey: admin.key,
    serviceAccountKey,
    serviceAccountPub,
  };
}

/** A kubeconfig with the certificates embedded, so it stays valid wherever it is copied. */
export async function adminKubeconfig(pki: Pki, server: string): Promise<string> {
  const b64 = async (p: string) => (await readFile(p)).toString("base64");
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: capstan",
    "  cluster:",
    `    server: ${server}`,
    `    certificate-authority-data: ${await b64(pki.caCert)}`,
    "users:",
    "- name: admin",
    "  user:",
    `    client-certificate-data: ${await b64(pki.adminCert)}`,
    `    client-key-data: ${await b64(pki.adminKey)}`,
    "contexts:",
    "- name: capstan",
    "  context:",
    "    cluster: capstan",
    "    user: admin",
    "current-context: capstan",
    "",
  ].join("\n");
}
