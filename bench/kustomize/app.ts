// The app of Flux's benchmark: a Deployment scaled to zero, a ServiceAccount, a Service and an Ingress.
import type { KubeObject } from "@capstan/runtime";

export function appObjects(prefix: string, namespace?: string): KubeObject[] {
  const meta = (name: string) => ({ name: `${prefix}${name}`, ...(namespace ? { namespace } : {}) });
  const app = `${prefix}podinfo`;
  return [
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta("podinfo"),
      spec: {
        replicas: 0,
        selector: { matchLabels: { app } },
        template: {
          metadata: { labels: { app } },
          spec: {
            serviceAccountName: `${prefix}podinfo`,
            containers: [
              { name: "podinfo", image: "ghcr.io/stefanprodan/podinfo:6.7.0", ports: [{ containerPort: 9898 }] },
            ],
          },
        },
      },
    },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta("podinfo") },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta("podinfo"),
      // Headless: the local control plane's service IP range is small (a /24), and the bench creates up to 1,000.
      spec: { clusterIP: "None", selector: { app }, ports: [{ name: "http", port: 9898, targetPort: 9898 }] },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: meta("podinfo"),
      spec: {
        rules: [
          {
            host: `${prefix}podinfo.example.com`,
            http: {
              paths: [
                {
                  path: "/",
                  pathType: "Prefix",
                  backend: { service: { name: `${prefix}podinfo`, port: { number: 9898 } } },
                },
              ],
            },
          },
        ],
      },
    },
  ];
}

/** Files for an artifact: the objects as one multi-document YAML file (JSON is YAML). */
export function appTree(objects: readonly KubeObject[]): Record<string, string> {
  return { "app.yaml": objects.map((o) => JSON.stringify(o)).join("\n---\n") };
}

/** `copies` apps with distinct names: copies × 4 objects. */
export function manyApps(copies: number, namespace?: string): KubeObject[] {
  return Array.from({ length: copies }, (_, i) => appObjects(`a${i}-`, namespace)).flat();
}
