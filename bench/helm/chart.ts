// The one small chart every HelmRelease releases, and the same objects for the Kustomizations: the app of Flux's
// benchmark (../kustomize/app.ts: a Deployment scaled to zero, a ServiceAccount, a headless Service and an Ingress),
// here as Helm templates named after the release.
import type { ChartSpec } from "@capstan/gitserver";
import type { KubeObject } from "@capstan/runtime";
import { appObjects } from "../kustomize/app.js";

/** The app's objects for a prefix, written as one template file with `{{ .Release.Name }}-` as the prefix. */
export function podinfoChart(version: string): ChartSpec {
  const marker = "RELEASEPREFIX-";
  const docs = appObjects(marker).map((o: KubeObject) => JSON.stringify(o).replaceAll(marker, "{{ .Release.Name }}-"));
  return {
    name: "podinfo",
    version,
    appVersion: "6.7.0",
    values: "{}\n",
    files: { "templates/app.yaml": `${docs.join("\n---\n")}\n` },
  };
}
