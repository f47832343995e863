// Target selectors of ignore rules (kustomize's Selector: group/version/kind, name and namespace as anchored regular
// expressions, label and annotation selectors in Kubernetes' syntax, parsed by the runtime's parseLabelSelector).
import type { Selector } from "@capstan/api";
import { matchesLabelSelector, parseLabelSelector } from "@capstan/runtime";
import type { KubeObject } from "../kube.js";
import { groupOf, versionOf } from "../object.js";

export type { Selector } from "@capstan/api";

const anchored = (re: string) => new RegExp(`^(?:${re})$`);

export function matchesSelector(obj: KubeObject, s: Selector | undefined): boolean {
  if (!s) return true;
  if (s.group !== undefined && s.group !== "" && groupOf(obj.apiVersion) !== s.group) return false;
  if (s.version && versionOf(obj.apiVersion) !== s.version) return false;
  if (s.kind && obj.kind !== s.kind) return false;
  if (s.name && !anchored(s.name).test(obj.metadata.name)) return false;
  if (s.namespace && !anchored(s.namespace).test(obj.metadata.namespace ?? "")) return false;
  const labels = obj.metadata.labels ?? {};
  if (s.labelSelector && !matchesLabelSelector(parseLabelSelector(s.labelSelector), labels)) return false;
  const annotations = obj.metadata.annotations ?? {};
  if (s.annotationSelector && !matchesLabelSelector(parseLabelSelector(s.annotationSelector), annotations))
    return false;
  return true;
}
