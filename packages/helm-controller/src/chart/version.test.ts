import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { versionFromRevision } from "../helmrelease/oci-source.js";
import { ChartVersionError, editChartYaml, rewriteChartYaml } from "./version.js";

const work = mkdtempSync(join(tmpdir(), "chart-version-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A chart package made by GNU tar (ustar and GNU long names, as archivers in the field write them). */
function packageWithTar(files: Record<string, string>, format: "gnu" | "pax"): Buffer {
  const dir = mkdtempSync(join(work, "src-"));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(dir, p, ".."), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  const out = join(dir, "chart.tgz");
  execFileSync("tar", [`--format=${format}`, "-czf", out, "-C", dir, "demo"]);
  return readFileSync(out);
}

function unpack(tgz: Buffer): Record<string, string> {
  const dir = mkdtempSync(join(work, "out-"));
  writeFileSync(join(dir, "c.tgz"), tgz);
  execFileSync("tar", ["-xzf", join(dir, "c.tgz"), "-C", dir]);
  const list = execFileSync("tar", ["-tzf", join(dir, "c.tgz")])
    .toString()
    .trim()
    .split("\n");
  return Object.fromEntries(
    list.filter((p) => !p.endsWith("/")).map((p) => [p, readFileSync(join(dir, p)).toString("utf8")]),
  );
}

const longName = `demo/templates/${"x".repeat(120)}.yaml`;
const files = {
  "demo/Chart.yaml": "apiVersion: v2\n# kept\nname: demo\nversion: 1.2.3\n",
  "demo/values.yaml": "a: 1\n",
  [longName]: "kind: ConfigMap\n",
  "demo/charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
};

describe("rewriteChartYaml", () => {
  it.each(["gnu", "pax"] as const)(
    "Given a %s tar chart package / should change only the top-level Chart.yaml, byte for byte elsewhere",
    (format) => {
      const tgz = packageWithTar(files, format);
      const seen: string[] = [];
      const out = rewriteChartYaml(tgz, 1 << 20, (yaml) => {
        seen.push(yaml.toString("utf8"));
        const edit = editChartYaml(yaml);
        expect(edit.version).toBe("1.2.3");
        return edit.rewrite("1.2.3+abcdef012345");
      });
      expect(seen).toHaveLength(1);
      const unpacked = unpack(out);
      expect(unpacked["demo/Chart.yaml"]).toBe("apiVersion: v2\n# kept\nname: demo\nversion: 1.2.3+abcdef012345\n");
      expect(unpacked["demo/values.yaml"]).toBe("a: 1\n");
      expect(unpacked[longName]).toBe("kind: ConfigMap\n");
      expect(unpacked["demo/charts/sub/Chart.yaml"]).toContain("version: 0.1.0");
    },
  );

  it("Given a package without Chart.yaml, a corrupt header or a gzip bomb / should refuse it with a clear error", () => {
    const noChart = packageWithTar({ "demo/values.yaml": "a: 1\n" }, "gnu");
    expect(() => rewriteChartYaml(noChart, 1 << 20, (y) => y)).toThrow("Chart.yaml file is missing");
    const raw = Buffer.alloc(2048);
    raw.write("demo/Chart.yaml", 0);
    expect(() => rewriteChartYaml(gzipSync(raw), 1 << 20, (y) => y)).toThrow("checksum mismatch");
    expect(() => rewriteChartYaml(gzipSync(Buffer.alloc(4 << 20)), 1 << 20, (y) => y)).toThrow(
      "larger than 1048576 bytes decompressed",
    );
    expect(() => rewriteChartYaml(Buffer.from("not gzip"), 1 << 20, (y) => y)).toThrow(ChartVersionError);
  });
});

describe("versionFromRevision (Flux's mutateChartWithSourceRevision)", () => {
  const hex = "0123456789abcdef".repeat(4);
  it.each([
    ["1.0.0", `1.0.0@sha256:${hex}`, "1.0.0+0123456789ab"],
    ["v1.0.0", `1.0.0@sha256:${hex}`, "1.0.0+0123456789ab"],
    ["1.0.0-rc.1+old", `1.0.0-rc.1@sha256:${hex}`, "1.0.0-rc.1+0123456789ab"],
    ["2.1.0", `sha256:${hex}`, "2.1.0+0123456789ab"],
  ])("Given chart %s and revision %s / should release version %s", (chart, revision, want) => {
    expect(versionFromRevision(chart, revision)).toEqual({ version: want, digest: `sha256:${hex}` });
  });

  it("Given a tag that is not the chart's version / should refuse as Flux does", () => {
    expect(() => versionFromRevision("1.0.0", `1.1.0@sha256:${hex}`)).toThrow(
      "artifact revision 1.1.0 does not match chart version 1.0.0",
    );
    expect(() => versionFromRevision("1.0.0", `latest@sha256:${hex}`)).toThrow(
      "failed parsing artifact revision latest",
    );
  });
});
