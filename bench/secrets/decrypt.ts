// SOPS decryption of 1,000 encrypted Secrets: the pinned sops binary (what kustomize-controller runs, through its
// Sops class, one process per file) against the floor of an in-process decryptor on the same files. The floor is the
// work no in-process decryptor can skip, done with node:crypto and the yaml package on inputs of the same shape: per
// file one age X25519 unwrap (ECDH, HKDF-SHA256, ChaCha20-Poly1305 of the file key, HMAC-SHA256 of the header, the
// ChaCha20-Poly1305 payload holding the data key), one AES-256-GCM decryption per value and for the MAC, SHA-512 over
// the values, YAML parse and stringify. It is a lower bound, not a decryptor. Prints a Markdown table.
//   pnpm --filter @capstan/bench bench:sops                 # N = 1000
//   pnpm --filter @capstan/bench bench:sops -- --n=1000 --binary-n=100 --concurrency=1,4   # fewer binary runs
// The encrypted files are made by the pinned `sops --encrypt` (--distinct of them, each a Secret with 3 values;
// decrypting one file twice costs what two files cost, so N decryptions cycle through them).

import { execFile } from "node:child_process";
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
} from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { ensureBinaries } from "@capstan/cluster";
import { parse, stringify } from "yaml";
import { Sops } from "../../packages/kustomize-controller/src/decrypt/sops.js";

const run = promisify(execFile);
const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: {
    n: { type: "string", default: "1000" },
    // The binary's runs (default: n); fewer on a loaded machine, where one run takes seconds.
    "binary-n": { type: "string" },
    distinct: { type: "string", default: "20" },
    concurrency: { type: "string", default: "1,4" },
  },
});
const n = Number(values.n);
const binaryN = Number(values["binary-n"] ?? values.n);
const distinct = Number(values.distinct);

const secretYaml = (i: number) => `apiVersion: v1
kind: Secret
metadata:
  name: db-${i}
  namespace: apps
stringData:
  username: app-${i}
  password: ${randomBytes(18).toString("base64")}
  url: postgres://db-${i}.apps.svc:5432/app
`;

async function encryptFiles(): Promise<{ files: Buffer[]; identity: string }> {
  const { bin } = await ensureBinaries();
  const { stdout: identity } = await run(bin["age-keygen"], []);
  const recipient = /public key: (age1[a-z0-9]+)/.exec(identity)?.[1] ?? "";
  const dir = await mkdtemp(join(tmpdir(), "bench-sops-"));
  try {
    const files: Buffer[] = [];
    for (let i = 0; i < distinct; i++) {
      await writeFile(join(dir, "db.yaml"), secretYaml(i));
      const { stdout } = await run(
        bin.sops,
        ["--encrypt", "--age", recipient, "--encrypted-regex", "^(data|stringData)$", "db.yaml"],
        { cwd: dir, env: { PATH: "/usr/bin:/bin", HOME: dir } },
      );
      files.push(Buffer.from(stdout));
    }
    return { files, identity };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function binary(files: Buffer[], identity: string, concurrency: number): Promise<number> {
  const { bin } = await ensureBinaries();
  const sops = new Sops({ binary: bin.sops });
  const keys = { age: identity, pgp: [] };
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    for (let i = next++; i < binaryN; i = next++) {
      const out = await sops.decrypt(`db-${i}.yaml`, files[i % files.length] as Buffer, "yaml", keys);
      if (!out.includes("password:")) throw new Error("sops returned no plaintext");
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (performance.now() - t0) / 1000;
}

// --- the in-process floor ---------------------------------------------------------------------------------------

type Aead = "chacha20-poly1305" | "aes-256-gcm";
const aead = (alg: Aead, key: Buffer, iv: Buffer, data: Buffer, aad?: string) => {
  const c = createCipheriv(alg as "aes-256-gcm", key, iv, { authTagLength: 16 });
  if (aad !== undefined) c.setAAD(Buffer.from(aad));
  const body = Buffer.concat([c.update(data), c.final()]);
  return { body, tag: c.getAuthTag() };
};
const open = (alg: Aead, key: Buffer, iv: Buffer, sealed: { body: Buffer; tag: Buffer }, aad?: string) => {
  const d = createDecipheriv(alg as "aes-256-gcm", key, iv, { authTagLength: 16 });
  if (aad !== undefined) d.setAAD(Buffer.from(aad));
  d.setAuthTag(sealed.tag);
  return Buffer.concat([d.update(sealed.body), d.final()]);
};
const raw = (k: ReturnType<typeof createPublicKey>) =>
  Buffer.from(k.export({ format: "jwk" }).x as string, "base64url");

/** Inputs shaped like one sops file's age stanza and values, sealed with keys the floor then opens. */
function floorInputs(file: Buffer) {
  const identity = generateKeyPairSync("x25519");
  const ephemeral = generateKeyPairSync("x25519");
  const recipientRaw = raw(identity.publicKey);
  const ephemeralRaw = raw(ephemeral.publicKey);
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: identity.publicKey });
  const wrap = Buffer.from(
    hkdfSync("sha256", shared, Buffer.concat([ephemeralRaw, recipientRaw]), "age-encryption.org/v1/X25519", 32),
  );
  const fileKey = randomBytes(16);
  const dataKey = randomBytes(32);
  const nonce = randomBytes(16);
  const payloadKey = Buffer.from(hkdfSync("sha256", fileKey, nonce, "payload", 32));
  const doc = parse(file.toString("utf8")) as { stringData: Record<string, string>; sops: { mac: string } };
  // One sealed value per encrypted value of the file, as long as its ENC[...] text (more than its plaintext).
  const values = Object.entries(doc.stringData).map(([k, v]) => {
    const iv = randomBytes(12);
    return {
      path: `stringData:${k}:`,
      iv,
      sealed: aead("aes-256-gcm", dataKey, iv, Buffer.from(v), `stringData:${k}:`),
    };
  });
  const macIv = randomBytes(12);
  return {
    text: file.toString("utf8"),
    identityPrivate: identity.privateKey.export({ format: "jwk" }),
    ephemeralRaw,
    recipientRaw,
    wrapped: aead("chacha20-poly1305", wrap, Buffer.alloc(12), fileKey),
    payload: aead("chacha20-poly1305", payloadKey, Buffer.alloc(12), dataKey),
    nonce,
    values,
    mac: aead("aes-256-gcm", dataKey, macIv, Buffer.from(createHash("sha512").digest("hex")), "2026-01-01T00:00:00Z"),
    macIv,
  };
}

function floorOne(input: ReturnType<typeof floorInputs>): string {
  const doc = parse(input.text) as Record<string, unknown>;
  const privateKey = createPrivateKey({ key: input.identityPrivate, format: "jwk" });
  const publicKey = createPublicKey({
    key: { kty: "OKP", crv: "X25519", x: input.ephemeralRaw.toString("base64url") },
    format: "jwk",
  });
  const shared = diffieHellman({ privateKey, publicKey });
  const wrap = Buffer.from(
    hkdfSync(
      "sha256",
      shared,
      Buffer.concat([input.ephemeralRaw, input.recipientRaw]),
      "age-encryption.org/v1/X25519",
      32,
    ),
  );
  const fileKey = open("chacha20-poly1305", wrap, Buffer.alloc(12), input.wrapped);
  createHmac("sha256", Buffer.from(hkdfSync("sha256", fileKey, Buffer.alloc(0), "header", 32)))
    .update(input.text.slice(0, 200))
    .digest();
  const payloadKey = Buffer.from(hkdfSync("sha256", fileKey, input.nonce, "payload", 32));
  const dataKey = open("chacha20-poly1305", payloadKey, Buffer.alloc(12), input.payload);
  const mac = createHash("sha512");
  const out: Record<string, string> = {};
  for (const v of input.values) {
    const plain = open("aes-256-gcm", dataKey, v.iv, v.sealed, v.path);
    mac.update(plain);
    out[v.path] = plain.toString("utf8");
  }
  mac.digest("hex");
  open("aes-256-gcm", dataKey, input.macIv, input.mac, "2026-01-01T00:00:00Z");
  doc.stringData = out;
  delete doc.sops;
  return stringify(doc);
}

function floor(files: Buffer[]): number {
  const inputs = files.map(floorInputs);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) floorOne(inputs[i % inputs.length] as ReturnType<typeof floorInputs>);
  return (performance.now() - t0) / 1000;
}

const { files, identity } = await encryptFiles();
process.stderr.write(`${distinct} files encrypted by the pinned sops; ${binaryN} binary runs, ${n} in process\n`);
const rows: [string, string][] = [];
const per = (sec: number, count: number) => {
  const each = sec / count;
  const scaled = count === n ? "" : `, ${(each * n).toFixed(1)} s for ${n}`;
  return `${sec.toFixed(2)} s for ${count} (${(each * 1000).toFixed(2)} ms per file${scaled})`;
};
for (const c of values.concurrency.split(",").map(Number)) {
  const sec = await binary(files, identity, c);
  rows.push([`sops binary, ${c} at a time`, per(sec, binaryN)]);
  process.stderr.write(`  binary ×${c}: ${sec.toFixed(2)} s\n`);
}
const f = floor(files);
rows.push(["in-process floor (crypto + YAML only, one thread)", per(f, n)]);
process.stdout.write(
  `node ${process.version}, ${cpus().length} cores, load average at the end ${loadavg()[0]?.toFixed(1)}\n\n| encrypted Secrets | time |\n|---|---|\n${rows.map(([a, b]) => `| ${a} | ${b} |`).join("\n")}\n`,
);
