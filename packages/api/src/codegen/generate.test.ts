import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadCrds } from "../crds.js";
import { generate } from "./generate.js";

const packageDir = fileURLToPath(new URL("../..", import.meta.url));
const repoDir = join(packageDir, "../..");

function onDisk(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

describe("Given the CRDs in crds/ and the generated files in the tree", () => {
  const files = generate(packageDir);

  it.each(files.map((f) => [relative(repoDir, f.path), f] as const))(
    "should have %s up to date (run `pnpm --filter @capstan/api generate` if this fails)",
    (_, file) => {
      expect(onDisk(file.path)).toBe(file.content);
    },
  );

  it("should put each CRD into the chart of the controller that owns its group", () => {
    const charts = files
      .filter((f) => f.path.endsWith(".yaml"))
      .map((f) => f.path.replace(/.*\/charts\//, "charts/"))
      .sort();
    expect(charts).toEqual([
      "charts/helm-controller/crds/helm.toolkit.fluxcd.io_helmreleases.yaml",
      "charts/kustomize-controller/crds/kustomize.toolkit.fluxcd.io_kustomizations.yaml",
      "charts/notification-controller/crds/notification.toolkit.fluxcd.io_alerts.yaml",
      "charts/notification-controller/crds/notification.toolkit.fluxcd.io_providers.yaml",
      "charts/notification-controller/crds/notification.toolkit.fluxcd.io_receivers.yaml",
      "charts/source-controller/crds/source.toolkit.fluxcd.io_gitrepositories.yaml",
      "charts/source-controller/crds/source.toolkit.fluxcd.io_helmcharts.yaml",
      "charts/source-controller/crds/source.toolkit.fluxcd.io_helmrepositories.yaml",
      "charts/source-controller/crds/source.toolkit.fluxcd.io_ocirepositories.yaml",
    ]);
  });

  it("should write chart copies that parse to exactly the source CRDs plus the flux CLI's labels, with no YAML anchors left", () => {
    const copies = files.filter((f) => f.path.endsWith(".yaml")).sort((a, b) => a.path.localeCompare(b.path));
    const byName = new Map(loadCrds().map((c) => [c.metadata?.name, c]));
    for (const copy of copies) {
      expect(copy.content).not.toMatch(/[&*][A-Za-z]+\b(?=\s|$)/m);
      const parsed = parse(copy.content) as { metadata: { name: string; labels?: Record<string, string> } };
      const chart = copy.path.replace(/.*\/charts\/([^/]+)\/crds\/.*/, "$1");
      const { appVersion } = parse(readFileSync(join(repoDir, "charts", chart, "Chart.yaml"), "utf8")) as {
        appVersion: string;
      };
      // flux check lists CRDs by part-of=flux and prints the GitRepository CRD's version label as the distribution.
      expect(parsed.metadata.labels).toEqual({
        "app.kubernetes.io/component": chart,
        "app.kubernetes.io/part-of": "flux",
        "app.kubernetes.io/version": appVersion,
      });
      const { labels: _, ...metadata } = parsed.metadata;
      expect({ ...parsed, metadata }).toEqual(byName.get(parsed.metadata.name));
    }
  });

  it("should generate one model per kind with Flux's field names and shared types declared once", () => {
    const models = files.find((f) => f.path.endsWith("models.gen.ts"))?.content ?? "";
    for (const kind of ["GitRepository", "Kustomization", "Provider", "Alert", "Receiver", "OCIRepository"]) {
      expect(models).toContain(`export interface ${kind} {`);
    }
    expect(models).toContain('apiVersion: "source.toolkit.fluxcd.io/v1";');
    expect(models).toContain('apiVersion: "notification.toolkit.fluxcd.io/v1beta3";');
    expect(models).toMatch(/export interface KustomizationSpec \{[^}]*\n {2}prune: boolean;/);
    expect(models).toMatch(/export interface ResourceRef \{[^}]*\n {2}v: string;/);
    for (const shared of ["Condition", "Artifact", "LocalObjectReference", "CrossNamespaceObjectReference"]) {
      expect(models.match(new RegExp(`export interface ${shared} \\{`, "g"))).toHaveLength(1);
    }
  });
});
