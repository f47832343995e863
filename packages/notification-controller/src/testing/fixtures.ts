import type { FluxEvent } from "../events/event.js";

export function sampleEvent(overrides: Partial<FluxEvent> = {}): FluxEvent {
  return {
    involvedObject: {
      kind: "GitRepository",
      namespace: "flux-system",
      name: "webapp",
      uid: "cc4d0095-83f4-4f08-98f2-d2e9f3731fb9",
      apiVersion: "source.toolkit.fluxcd.io/v1",
      resourceVersion: "56921",
    },
    severity: "info",
    timestamp: "2024-03-01T10:15:30Z",
    message: "stored artifact for revision 'main@sha1:0123456789abcdef0123456789abcdef01234567'",
    reason: "NewArtifact",
    metadata: { revision: "main@sha1:0123456789abcdef0123456789abcdef01234567" },
    reportingController: "source-controller",
    reportingInstance: "notification-controller-7f9c",
    ...overrides,
  };
}
