// The charts carry what the flux CLI reads (see harness/flux-cli.ts for what `flux check`, `flux version` and
// `flux logs` of flux2 v2.9.x select and print): installed in flux-system, Capstan is found the way Flux is.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chartsDir, controllerNames, type RenderedObject, renderChart } from "@capstan/devenv/charts";
import {
  fluxDeployments,
  fluxDistribution,
  fluxImageVersion,
  fluxLogsContainer,
  fluxPartOf,
  fluxVersionLabel,
  matchesLabels,
} from "@capstan/devenv/flux-cli";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

const appVersion = (chart: string) =>
  (parse(readFileSync(join(chartsDir, chart, "Chart.yaml"), "utf8")) as { appVersion: string }).appVersion;

describe("Given the umbrella chart rendered into flux-system", () => {
  let objects: RenderedObject[];
  beforeAll(async () => {
    ({ objects } = await renderChart("flux-system"));
  }, 120_000);

  it("should give `flux check|version|logs -n flux-system` every controller's Deployment, labelled as Flux labels its own", () => {
    const deployments = fluxDeployments(objects, "flux-system");
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([...controllerNames].sort());
    for (const d of deployments) {
      expect(d.metadata.labels).toMatchObject({
        [fluxPartOf.key]: fluxPartOf.value,
        "app.kubernetes.io/component": d.metadata.name,
        [fluxVersionLabel]: appVersion(d.metadata.name),
      });
    }
  });

  it("should let `flux version` print each controller's version from its image tag", () => {
    const versions = fluxDeployments(objects, "flux-system").flatMap((d) =>
      d.spec.template.spec.containers.map((c) => fluxImageVersion(c.image)),
    );
    expect(versions).toEqual(expect.arrayContaining(controllerNames.map((name) => ({ name, tag: appVersion(name) }))));
  });

  it("should let `flux logs` find each controller's pods by their template labels and read the container `manager`", () => {
    for (const d of fluxDeployments(objects, "flux-system")) {
      const template = d.spec.template.metadata.labels ?? {};
      const selector = (d.spec as unknown as { selector: { matchLabels: Record<string, string> } }).selector;
      // A pod the Deployment creates carries the template's labels, so the CLI's pod query finds it ...
      expect(matchesLabels(selector.matchLabels, template)).toBe(true);
      expect(template).toMatchObject({
        [fluxPartOf.key]: fluxPartOf.value,
        "app.kubernetes.io/component": d.metadata.name,
      });
      // ... and reads the container named manager (it names it only when a pod has several).
      expect(d.spec.template.spec.containers[0]?.name).toBe(fluxLogsContainer);
    }
  });

  it("should label every CRD for `flux check`, and the GitRepository CRD with the distribution `flux version` prints", () => {
    const crds = controllerNames.flatMap((chart) =>
      readdirSync(join(chartsDir, chart, "crds")).map((file) => ({
        chart,
        crd: parse(readFileSync(join(chartsDir, chart, "crds", file), "utf8")) as RenderedObject,
      })),
    );
    expect(crds.length).toBeGreaterThanOrEqual(5);
    for (const { chart, crd } of crds) {
      expect(crd.metadata.labels).toMatchObject({
        [fluxPartOf.key]: fluxPartOf.value,
        "app.kubernetes.io/component": chart,
        [fluxVersionLabel]: appVersion(chart),
      });
    }
    const gitRepository = crds.find((c) => c.crd.metadata.name === "gitrepositories.source.toolkit.fluxcd.io");
    expect(fluxDistribution(gitRepository?.crd.metadata.labels)).toBe(`flux-${appVersion("source-controller")}`);
  });
});
