// spec.commonMetadata: labels and annotations stamped on every object after the build (Flux's SetCommonMetadata),
// which, unlike kustomize's commonLabels, never touches selectors.
import type { KubeObject } from "../kube.js";

export interface CommonMetadata {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function setCommonMetadata(objects: readonly KubeObject[], meta: CommonMetadata | undefined): KubeObject[] {
  if (!meta || (!meta.labels && !meta.annotations)) return [...objects];
  return objects.map((obj) => {
    const metadata = { ...obj.metadata };
    if (meta.labels) metadata.labels = { ...metadata.labels, ...meta.labels };
    if (meta.annotations) metadata.annotations = { ...metadata.annotations, ...meta.annotations };
    return { ...obj, metadata };
  });
}
