import type { AlertSpec } from "@capstan/api";
import { describe, expect, it } from "vitest";
import { sampleEvent } from "../testing/fixtures.js";
import { alertAccepts, compileAlert, compileGoRegex, InvalidRegexError, notificationFor } from "./matching.js";

const alert = (spec: Partial<AlertSpec>) =>
  compileAlert({
    namespace: "flux-system",
    name: "a",
    spec: { providerRef: { name: "p" }, eventSources: [{ kind: "GitRepository", name: "*" }], ...spec },
  });

describe("alert matching", () => {
  it.each<[string, AlertSpec["eventSources"], boolean]>([
    ["name *", [{ kind: "GitRepository", name: "*" }], true],
    ["exact name", [{ kind: "GitRepository", name: "webapp" }], true],
    ["other name", [{ kind: "GitRepository", name: "api" }], false],
    ["name pattern", [{ kind: "GitRepository", name: "web*" }], true],
    ["other kind", [{ kind: "Kustomization", name: "*" }], false],
    ["other namespace", [{ kind: "GitRepository", name: "*", namespace: "apps" }], false],
    ["explicit same namespace", [{ kind: "GitRepository", name: "*", namespace: "flux-system" }], true],
    ["matchLabels hit", [{ kind: "GitRepository", name: "*", matchLabels: { team: "web" } }], true],
    ["matchLabels miss", [{ kind: "GitRepository", name: "*", matchLabels: { team: "db" } }], false],
  ])("Given eventSources with %s / should match: %s", (_n, eventSources, want) => {
    expect(alertAccepts(alert({ eventSources }), sampleEvent(), { team: "web" })).toBe(want);
  });

  it.each<[string, AlertSpec["eventSeverity"], string, boolean]>([
    ["info alert, info event", "info", "info", true],
    ["info alert, error event", "info", "error", true],
    ["error alert, info event", "error", "info", false],
    ["error alert, error event", "error", "error", true],
  ])("Given %s / should match: %s", (_n, eventSeverity, severity, want) => {
    expect(alertAccepts(alert({ eventSeverity }), sampleEvent({ severity: severity as "info" }))).toBe(want);
  });

  it.each([
    ["inclusion hit", { inclusionList: ["^stored artifact"] }, true],
    ["inclusion miss", { inclusionList: ["^deleted"] }, false],
    ["exclusion hit", { exclusionList: ["main@sha1"] }, false],
    ["both, excluded wins", { inclusionList: [".*"], exclusionList: ["stored"] }, false],
    ["Go case-insensitive flag", { inclusionList: ["(?i)STORED ARTIFACT"] }, true],
  ])("Given %s / should match: %s", (_n, lists, want) => {
    expect(alertAccepts(alert(lists), sampleEvent())).toBe(want);
  });

  it("Given a suspended alert / should match nothing", () => {
    expect(alertAccepts(alert({ suspend: true }), sampleEvent())).toBe(false);
  });

  it("Given invalid regexes / should name each in one error", () => {
    expect(() => alert({ inclusionList: ["("], exclusionList: ["[a-"] })).toThrow(InvalidRegexError);
    expect(() => alert({ inclusionList: ["("], exclusionList: ["[a-"] })).toThrow(
      "invalid regular expression(s): inclusionList '(', exclusionList '[a-'",
    );
    expect(compileGoRegex("(?i)abc").flags).toContain("i");
  });

  it("Given eventMetadata and summary / should add them without overriding the event's own metadata", () => {
    const n = notificationFor(
      alert({ summary: "prod impacted", eventMetadata: { env: "prod", revision: "ignored" } }),
      sampleEvent(),
    );
    expect(n.metadata).toEqual({
      summary: "prod impacted",
      env: "prod",
      revision: "main@sha1:0123456789abcdef0123456789abcdef01234567",
    });
  });

  it("Given an event carrying the object's event.toolkit.fluxcd.io annotations / should strip the prefix and let the Alert's metadata and the controller's win on a clash", () => {
    const event = sampleEvent();
    event.metadata = {
      ...event.metadata,
      "event.toolkit.fluxcd.io/changeRequest": "42",
      "event.toolkit.fluxcd.io/env": "from-object",
      "event.toolkit.fluxcd.io/revision": "from-object",
      "event.toolkit.fluxcd.io/summary": "from-object",
    };
    const n = notificationFor(alert({ summary: "from-alert", eventMetadata: { env: "from-alert" } }), event);
    expect(n.metadata).toEqual({
      changeRequest: "42",
      env: "from-alert",
      summary: "from-alert",
      revision: "main@sha1:0123456789abcdef0123456789abcdef01234567",
    });
    expect(notificationFor(alert({}), event).metadata).toMatchObject({ env: "from-object", summary: "from-object" });
  });
});
