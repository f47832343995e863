// What the flux CLI (fluxcd/flux2 v2.9.x) reads to find a Flux installation, written down so tests can check the
// charts against it without the CLI:
//  - `flux check`, `flux version`, `flux logs`: Deployments in the Flux namespace (-n / --flux-namespace, default
//    flux-system) labelled app.kubernetes.io/part-of=flux (pkg/manifestgen PartOfLabelKey/Value).
//  - `flux check`: each such Deployment must be kstatus-Current; it prints every container image. CRDs labelled
//    part-of=flux, each printed as <name>/<last stored version>. The GitRepository CRD's app.kubernetes.io/version and
//    part-of labels print as "distribution: <part-of>-<version>".
//  - `flux version`: the same distribution; per container, the last path segment of the image name and its tag.
//  - `flux logs`: for each Deployment, the pods matching its pod template's labels; from a pod with more than one
//    container it reads the container named "manager"; lines are JSON with ts, level, msg.
import type { RenderedObject } from "./charts.js";

export const fluxPartOf = { key: "app.kubernetes.io/part-of", value: "flux" } as const;
export const fluxVersionLabel = "app.kubernetes.io/version";
export const fluxLogsContainer = "manager";

interface Deployment extends RenderedObject {
  spec: {
    template: {
      metadata: { labels?: Record<string, string> };
      spec: { containers: { name: string; image: string }[] };
    };
  };
}

/** The Deployments `flux check|version|logs -n <namespace>` would select among these objects. */
export function fluxDeployments(objects: RenderedObject[], namespace: string): Deployment[] {
  return objects.filter(
    (o): o is Deployment =>
      o.kind === "Deployment" &&
      o.metadata.namespace === namespace &&
      o.metadata.labels?.[fluxPartOf.key] === fluxPartOf.value,
  );
}

/** `flux version`'s view of one container image: the name's last path segment and the tag. */
export function fluxImageVersion(image: string): { name: string; tag: string } {
  const colon = image.lastIndexOf(":");
  if (colon < 0 || image.slice(colon).includes("/"))
    throw new Error(`image ${image} has no tag: flux version fails on it`);
  const name = image.slice(0, colon).split("/").at(-1) ?? "";
  return { name, tag: image.slice(colon + 1) };
}

/** `flux check|version`'s "distribution": <part-of>-<version> of the GitRepository CRD's labels. */
export function fluxDistribution(labels: Record<string, string> | undefined): string {
  const version = labels?.[fluxVersionLabel] ?? "";
  const partOf = labels?.[fluxPartOf.key];
  return partOf ? `${partOf}-${version}` : version;
}

/** Whether a label selector given as a map (a pod template's labels, as `flux logs` uses them) matches labels. */
export function matchesLabels(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}
