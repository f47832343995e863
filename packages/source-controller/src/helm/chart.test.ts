import { describe, expect, it } from "vitest";
import { readTarGz, safeEntryName, writeTarGz } from "./archive.js";
import { chartFromFiles, loadChartArchive, mergeMaps, packageChart, setChartVersion } from "./chart.js";

const files = (entries: Record<string, string>) =>
  new Map(Object.entries(entries).map(([k, v]) => [k, Buffer.from(v)] as const));

describe("charts in memory", () => {
  it("Given archive entry names / should refuse the absolute and the climbing ones", () => {
    expect(safeEntryName("app/templates/a.yaml")).toBe("app/templates/a.yaml");
    expect(safeEntryName("app/../app/b")).toBe("app/b");
    expect(safeEntryName("/etc/passwd")).toBeUndefined();
    expect(safeEntryName("app/../../x")).toBeUndefined();
  });

  it("Given a packaged chart / should load back with the same files, name and version", async () => {
    const chart = chartFromFiles(
      files({ "Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.2.3\n", "values.yaml": "a: 1\n" }),
    );
    const again = await loadChartArchive(await packageChart(setChartVersion(chart, "1.2.3+abc")), {
      maxFileBytes: 1024,
      maxTotalBytes: 4096,
    });
    expect(again.name).toBe("app");
    expect(again.version).toBe("1.2.3+abc");
    expect(again.files.get("values.yaml")?.toString()).toBe("a: 1\n");
  });

  it.each([
    [{ "values.yaml": "a: 1\n" }, "Chart.yaml file is missing"],
    [{ "Chart.yaml": "apiVersion: v2\nversion: 1.0.0\n" }, "chart.metadata.name is required"],
    [{ "Chart.yaml": "apiVersion: v2\nname: app\nversion: one\n" }, 'chart.metadata.version "one" is invalid'],
    [{ "Chart.yaml": "name: app\nversion: 1.0.0\n" }, "chart.metadata.apiVersion is required"],
  ])("Given a chart %j / should refuse it: %s", (entries, message) => {
    expect(() => chartFromFiles(files(entries))).toThrow(message);
  });

  it("Given a tarball with a file over the limit / should stop reading with a clear error", async () => {
    const tgz = await writeTarGz(files({ "app/big": "x".repeat(2048) }));
    await expect(readTarGz(tgz, { maxFileBytes: 1024, maxTotalBytes: 1 << 20 })).rejects.toThrow(
      "file 'app/big' exceeds the maximum file size of 1024 bytes",
    );
  });

  it("Given values maps / should merge them as Helm's MergeMaps (maps recursively, the rest replaced)", () => {
    expect(mergeMaps({ a: { b: 1, c: [1] }, d: 1 }, { a: { c: [2], e: 3 }, d: { x: 1 } })).toEqual({
      a: { b: 1, c: [2], e: 3 },
      d: { x: 1 },
    });
  });
});
