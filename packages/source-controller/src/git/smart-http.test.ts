import { describe, expect, it } from "vitest";
import { parseLsRemote } from "./reference.js";
import { infoRefsUrl, parseAdvertisement } from "./smart-http.js";

const pkt = (payload: string) => `${(Buffer.byteLength(payload) + 4).toString(16).padStart(4, "0")}${payload}`;
const flush = "0000";
const a = "a".repeat(40);
const b = "b".repeat(40);
const c = "c".repeat(40);
const caps = "multi_ack side-band-64k ofs-delta symref=HEAD:refs/heads/main agent=git/2.47";
const head = pkt("# service=git-upload-pack\n") + flush;
const ad = (...pkts: string[]) => Buffer.from(head + pkts.join("") + flush);

describe("parseAdvertisement", () => {
  it("Given a v0 advertisement / should list every ref as git ls-remote prints it, peeled tags included", () => {
    const out = parseAdvertisement(
      ad(
        pkt(`${a} HEAD\0${caps}\n`),
        pkt(`${a} refs/heads/main\n`),
        pkt(`${b} refs/tags/v1.0.0\n`),
        pkt(`${c} refs/tags/v1.0.0^{}\n`),
        pkt(`${c} refs/pull/1/head\n`),
      ),
    );
    expect(out).toBe(
      `${a}\tHEAD\n${a}\trefs/heads/main\n${b}\trefs/tags/v1.0.0\n${c}\trefs/tags/v1.0.0^{}\n${c}\trefs/pull/1/head\n`,
    );
    const refs = parseLsRemote(out ?? "");
    expect(refs.get("refs/tags/v1.0.0")).toEqual({ name: "refs/tags/v1.0.0", hash: b, peeled: c });
    expect(refs.get("refs/heads/main")).toEqual({ name: "refs/heads/main", hash: a });
  });

  it("Given an empty repository's advertisement / should list nothing", () => {
    expect(parseAdvertisement(ad(pkt(`${"0".repeat(40)} capabilities^{}\0${caps}\n`)))).toBe("");
  });

  it("Given a protocol v1 answer and sha256 ids / should list the refs", () => {
    const id = "d".repeat(64);
    expect(parseAdvertisement(ad(pkt("version 1\n"), pkt(`${id} refs/heads/main\0object-format=sha256\n`)))).toBe(
      `${id}\trefs/heads/main\n`,
    );
  });

  it.each<[string, Buffer]>([
    ["no service line (dumb or other)", Buffer.from(pkt(`${a} refs/heads/main\0${caps}\n`) + flush)],
    ["a v2 capability advertisement", ad(pkt("version 2\n"), pkt("ls-refs\n"))],
    ["no flush after the service line", Buffer.from(pkt("# service=git-upload-pack\n") + pkt(`${a} x\0\n`))],
    ["a truncated pkt-line", Buffer.from(head + pkt(`${a} refs/heads/main\0${caps}\n`).slice(0, 30))],
    ["no final flush", Buffer.from(head + pkt(`${a} refs/heads/main\0${caps}\n`))],
    ["bytes after the final flush", Buffer.from(`${head}${pkt(`${a} refs/heads/main\0${caps}\n`)}${flush}junk`)],
    ["a first ref without capabilities", ad(pkt(`${a} refs/heads/main\n`))],
    ["a short id", ad(pkt(`${"a".repeat(39)} refs/heads/main\0${caps}\n`))],
    ["an upper-case id", ad(pkt(`${"A".repeat(40)} refs/heads/main\0${caps}\n`))],
    ["a name with a tab", ad(pkt(`${a} refs/heads/ma\tin\0${caps}\n`))],
    ["a name with a control character", ad(pkt(`${a} refs/heads/ma\x7fin\0${caps}\n`))],
    ["a name with a space", ad(pkt(`${a} refs/heads/main\0${caps}\n`), pkt(`${b} refs/heads/a b\n`))],
    ["no name", ad(pkt(`${a}\0${caps}\n`))],
    ["a shallow line", ad(pkt(`${a} refs/heads/main\0${caps}\n`), pkt(`shallow ${b}\n`))],
    ["a v2 delimiter", Buffer.from(`${head}0001${flush}`)],
    ["a length that is not hex", Buffer.from(`${head}zzzz${flush}`)],
  ])("Given %s / should hand the listing to git", (_, body) => {
    expect(parseAdvertisement(body)).toBeUndefined();
  });
});

describe("infoRefsUrl", () => {
  it.each<[string, string | undefined]>([
    ["https://git.example.com/org/app.git", "https://git.example.com/org/app.git/info/refs?service=git-upload-pack"],
    ["https://git.example.com/org/app.git/", "https://git.example.com/org/app.git/info/refs?service=git-upload-pack"],
    ["http://[::1]:8080/app", "http://[::1]:8080/app/info/refs?service=git-upload-pack"],
    ["https://user@git.example.com/app.git", undefined],
    ["https://git.example.com/app.git?x=1", undefined],
    ["https://git.example.com/app.git#frag", undefined],
  ])("Given %s / should ask %s", (url, expected) => {
    expect(infoRefsUrl(url)?.toString()).toBe(expected);
  });
});
