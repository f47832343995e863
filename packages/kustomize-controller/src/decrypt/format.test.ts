// What a SOPS file is, read without decrypting: format by name, encrypted or not, which recipients it names.
import { describe, expect, it } from "vitest";
import { formatOfPath, isSopsEncrypted, recipientsOf } from "./format.js";
import { causeOf } from "./sops.js";

const age = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

describe("SOPS file detection", () => {
  it.each([
    ["secret.yaml", "yaml"],
    ["x.YML", "yaml"],
    ["a.json", "json"],
    ["app.env", "dotenv"],
    ["conf.ini", "ini"],
    ["cert.pem", "binary"],
  ])("Given %s, should read it as sops's %s store", (name, format) => {
    expect(formatOfPath(name)).toBe(format);
  });

  it.each([
    ["yaml", `a: ENC[AES256_GCM,data:x]\nsops:\n  mac: ENC[AES256_GCM,data:y]\n`, true],
    ["yaml", "a: b\nsops: plain\n", false],
    ["yaml", "kind: ConfigMap\n", false],
    ["json", `{"data":"ENC[x]","sops":{"mac":"ENC[y]"}}`, true],
    ["binary", "not json at all", false],
    ["dotenv", "A=ENC[x]\nsops_mac=ENC[y]\n", true],
    ["dotenv", "A=plain\n", false],
    ["ini", "[s]\na = ENC[x]\n[sops]\nmac = ENC[y]\n", true],
  ] as const)("Given a %s file, should tell whether sops encrypted it (%#)", (format, text, encrypted) => {
    expect(isSopsEncrypted(Buffer.from(text), format)).toBe(encrypted);
  });

  it("Given metadata in YAML, JSON or dotenv form, should find the age, PGP and cloud KMS recipients", () => {
    expect(recipientsOf(Buffer.from(`sops:\n  age:\n    - recipient: ${age}\n  mac: x\n`))).toEqual({
      age: true,
      pgp: false,
      kms: [],
    });
    expect(recipientsOf(Buffer.from(`{"sops":{"kms":[{"arn":"arn:aws:kms:x"}],"mac":"x"}}`))).toEqual({
      age: false,
      pgp: false,
      kms: ["kms"],
    });
    expect(recipientsOf(Buffer.from("sops_gcp_kms__list_0__map_resource_id=x\nsops_mac=y\n")).kms).toEqual(["gcp_kms"]);
    expect(recipientsOf(Buffer.from("sops:\n  pgp:\n    - fp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n")).pgp).toBe(
      true,
    );
  });

  it.each([
    ["Error decrypting tree: MAC mismatch. File has ABC, computed DEF", /^MAC mismatch/],
    ["Failed to get the data key required to decrypt the SOPS file.", /^no key of the decryption Secret/],
    ["something else entirely: password=hunter2", /^sops could not decrypt it$/],
  ])("Given sops saying %j, should name the cause without repeating it", (stderr, cause) => {
    expect(causeOf(stderr)).toMatch(cause);
    expect(causeOf(stderr)).not.toContain("hunter2");
  });
});
