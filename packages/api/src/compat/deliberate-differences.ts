// Where Capstan's CRDs differ from Flux's on purpose. The conformance test (flux-conformance.test.ts) fails on any
// difference not listed here, and on any entry here that no longer differs; the README's "Flux API compatibility"
// section shows the same table (the test checks that too). Descriptions are not compared: Capstan writes its own.

export interface DeliberateDifference {
  kind:
    | "GitRepository"
    | "Kustomization"
    | "Provider"
    | "Alert"
    | "Receiver"
    | "HelmRepository"
    | "HelmChart"
    | "HelmRelease"
    | "OCIRepository";
  /** The line crdDiff() reports for it. */
  difference: string;
  why: string;
}

const fluxCategory = (kind: DeliberateDifference["kind"]): DeliberateDifference => ({
  kind,
  difference: 'names.categories: +"flux"',
  why: "Capstan addition: `kubectl get flux` lists every Capstan object (Flux's own categories are served too).",
});

export const deliberateDifferences: DeliberateDifference[] = [
  fluxCategory("GitRepository"),
  fluxCategory("Kustomization"),
  fluxCategory("Provider"),
  fluxCategory("Alert"),
  fluxCategory("Receiver"),
  fluxCategory("HelmRelease"),
  fluxCategory("HelmRepository"),
  fluxCategory("HelmChart"),
  fluxCategory("OCIRepository"),
  {
    kind: "Provider",
    difference: 'v1beta3 spec.type enum: +"smtp"',
    why: "Capstan addition: e-mail alerts through an SMTP server; Flux has no such provider type.",
  },
];
