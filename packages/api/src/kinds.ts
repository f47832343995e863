// Where each kind is served. Clients build request paths and SSA bodies from these instead of repeating strings.

export interface KindDescriptor<ApiVersion extends string = string, Kind extends string = string> {
  group: string;
  version: string;
  apiVersion: ApiVersion;
  kind: Kind;
  /** The resource name in URLs, e.g. /apis/<group>/<version>/namespaces/<ns>/<plural>. */
  plural: string;
  namespaced: true;
}

function describe<const G extends string, const V extends string, const K extends string>(
  group: G,
  version: V,
  kind: K,
  plural: string,
): KindDescriptor<`${G}/${V}`, K> {
  return { group, version, apiVersion: `${group}/${version}`, kind, plural, namespaced: true };
}

export const gitRepositoryType = describe("source.toolkit.fluxcd.io", "v1", "GitRepository", "gitrepositories");
export const kustomizationType = describe("kustomize.toolkit.fluxcd.io", "v1", "Kustomization", "kustomizations");
export const providerType = describe("notification.toolkit.fluxcd.io", "v1beta3", "Provider", "providers");
export const alertType = describe("notification.toolkit.fluxcd.io", "v1beta3", "Alert", "alerts");
export const receiverType = describe("notification.toolkit.fluxcd.io", "v1", "Receiver", "receivers");
export const helmReleaseType = describe("helm.toolkit.fluxcd.io", "v2", "HelmRelease", "helmreleases");
export const helmRepositoryType = describe("source.toolkit.fluxcd.io", "v1", "HelmRepository", "helmrepositories");
export const helmChartType = describe("source.toolkit.fluxcd.io", "v1", "HelmChart", "helmcharts");
export const ociRepositoryType = describe("source.toolkit.fluxcd.io", "v1", "OCIRepository", "ocirepositories");

/** Every kind @capstan/api serves. */
export const allKinds: readonly KindDescriptor[] = [
  gitRepositoryType,
  kustomizationType,
  alertType,
  providerType,
  receiverType,
  helmReleaseType,
  helmRepositoryType,
  helmChartType,
  ociRepositoryType,
];
