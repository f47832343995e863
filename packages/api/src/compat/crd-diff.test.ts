import { describe, expect, it } from "vitest";
import { type CrdDocument, crdDiff } from "./crd-diff.js";

function crd(edit: (c: CrdDocument) => void = () => {}): CrdDocument {
  const c: CrdDocument = {
    metadata: { name: "things.example.com" },
    spec: {
      group: "example.com",
      scope: "Namespaced",
      names: { kind: "Thing", plural: "things", categories: ["all", "fluxcd"], shortNames: ["th"] },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [{ name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" }],
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: {
                spec: {
                  type: "object",
                  required: ["mode", "name"],
                  "x-kubernetes-validations": [{ rule: "has(self.name)", message: "name is required" }],
                  properties: {
                    name: { type: "string", description: "Flux's words." },
                    mode: { type: "string", enum: ["A", "B"], default: "A" },
                    list: { type: "array", items: { type: "object", properties: { x: { type: "string" } } } },
                    map: { type: "object", additionalProperties: { type: "string" } },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
  edit(c);
  return c;
}

interface SchemaNode {
  required?: string[];
  properties: Record<string, object>;
  "x-kubernetes-validations"?: object[];
}

function version(c: CrdDocument): CrdDocument["spec"]["versions"][number] {
  const v = c.spec.versions[0];
  if (!v) throw new Error("fixture has no version");
  return v;
}

function spec(c: CrdDocument): SchemaNode {
  const root = version(c).schema?.openAPIV3Schema as unknown as { properties: { spec: SchemaNode } } | undefined;
  if (!root) throw new Error("fixture has no schema");
  return root.properties.spec;
}

describe("crdDiff", () => {
  it("should find nothing between equal CRDs whose descriptions and key order differ", () => {
    const other = crd((c) => {
      spec(c).properties.name = { description: "Capstan's words.", type: "string" };
      version(c).additionalPrinterColumns = [{ jsonPath: ".metadata.creationTimestamp", type: "date", name: "Age" }];
    });
    expect(crdDiff(other, crd())).toEqual([]);
  });

  it.each<[string, (c: CrdDocument) => void, string[]]>([
    [
      "a category Capstan adds",
      (c) => (c.spec.names.categories = ["all", "fluxcd", "flux"]),
      ['names.categories: +"flux"'],
    ],
    ["a field only Flux has", (c) => delete spec(c).properties.name, ["v1 spec.name: missing (Flux has it)"]],
    [
      "a field only Capstan has",
      (c) => (spec(c).properties.extra = { type: "string" }),
      ["v1 spec.extra: only in Capstan"],
    ],
    [
      "an extra enum value",
      (c) => (spec(c).properties.mode = { type: "string", enum: ["A", "B", "C"], default: "A" }),
      ['v1 spec.mode enum: +"C"'],
    ],
    [
      "a different default",
      (c) => (spec(c).properties.mode = { type: "string", enum: ["A", "B"], default: "B" }),
      ['v1 spec.mode default: capstan="B" flux="A"'],
    ],
    [
      "a required field Flux does not require",
      (c) => (spec(c).required = ["mode", "name", "list"]),
      ['v1 spec required: +"list"'],
    ],
    [
      "a missing CEL rule",
      (c) => delete spec(c)["x-kubernetes-validations"],
      ['v1 spec x-kubernetes-validations: -"has(self.name)"'],
    ],
    [
      "a CEL rule with another message",
      (c) => (spec(c)["x-kubernetes-validations"] = [{ rule: "has(self.name)", message: "other" }]),
      [
        'v1 spec x-kubernetes-validations "has(self.name)": capstan={"message":"other","rule":"has(self.name)"} flux={"message":"name is required","rule":"has(self.name)"}',
      ],
    ],
    [
      "a type inside list items",
      (c) =>
        (spec(c).properties.list = {
          type: "array",
          items: { type: "object", properties: { x: { type: "integer" } } },
        }),
      ['v1 spec.list[].x type: capstan="integer" flux="string"'],
    ],
    [
      "a map value type",
      (c) => (spec(c).properties.map = { type: "object", additionalProperties: { type: "boolean" } }),
      ['v1 spec.map{} type: capstan="boolean" flux="string"'],
    ],
    [
      "no status subresource",
      (c) => delete version(c).subresources,
      ['version v1 subresources: capstan=unset flux={"status":{}}'],
    ],
    [
      "another printer column",
      (c) => (version(c).additionalPrinterColumns = []),
      [
        'version v1 additionalPrinterColumns: capstan=[] flux=[{"jsonPath":".metadata.creationTimestamp","name":"Age","type":"date"}]',
      ],
    ],
    ["a short name less", (c) => (c.spec.names.shortNames = []), ['names.shortNames: -"th"']],
    [
      "an old version Flux still serves",
      (c) => c.spec.versions.splice(0, 1, { ...version(c), name: "v2" }),
      ["version v2: only in Capstan (served, storage)", "version v1: missing (Flux: served, storage)"],
    ],
  ])("should report %s", (_, edit, expected) => {
    expect(crdDiff(crd(edit), crd())).toEqual(expected);
  });
});
