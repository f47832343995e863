import { describe, expect, it } from "vitest";
import { decodeApiError, isAlreadyExists, isConflict, isGone, isNotFound, statusObjectToError } from "./errors.js";

const invalidStatus = {
  kind: "Status",
  apiVersion: "v1",
  status: "Failure",
  message: 'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
  reason: "Invalid",
  details: {
    name: "web",
    group: "apps",
    kind: "Deployment",
    causes: [
      {
        reason: "FieldValueInvalid",
        message: "Invalid value: -1: must be greater than or equal to 0",
        field: "spec.replicas",
      },
    ],
  },
  code: 422,
};

describe("decodeApiError", () => {
  it("Given an Invalid Status with causes, should say what was attempted and which fields are wrong", () => {
    const err = decodeApiError("apply Deployment/apps/web", 422, JSON.stringify(invalidStatus));
    expect(err.message).toBe(
      "apply Deployment/apps/web: Invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0",
    );
    expect(err.status).toBe(422);
    expect(err.reason).toBe("Invalid");
    expect(err.causes).toEqual([invalidStatus.details.causes[0]]);
  });

  it.each([
    [404, "NotFound", isNotFound],
    [409, "Conflict", isConflict],
    [409, "AlreadyExists", isAlreadyExists],
    [410, "Expired", isGone],
  ])("Given a %i %s Status, should be recognised by its predicate", (code, reason, predicate) => {
    const err = decodeApiError("x", code, JSON.stringify({ kind: "Status", reason, message: "m", code }));
    expect(predicate(err)).toBe(true);
    expect(err.message).toBe(`x: ${reason}: m`);
  });

  it("Given AlreadyExists, should not pass for a plain Conflict (a retry with a fresh read will not help)", () => {
    const err = decodeApiError("create X/y", 409, JSON.stringify({ kind: "Status", reason: "AlreadyExists" }));
    expect(isConflict(err)).toBe(false);
  });

  it("Given a body that is not a Status, should infer the reason from the code and keep a short text", () => {
    const err = decodeApiError("get X/y", 503, `<html><body>${"Service Unavailable ".repeat(40)}</body></html>`, "7");
    expect(err.reason).toBe("ServiceUnavailable");
    expect(err.retryAfterSeconds).toBe(7);
    expect(err.message.length).toBeLessThan(260);
    expect(err.message).not.toContain("<html>");
  });

  it("Given a watch ERROR event's Status, should keep its code so a 410 is recognised", () => {
    const err = statusObjectToError("watch ConfigMap", {
      kind: "Status",
      code: 410,
      reason: "Expired",
      message: "too old resource version: 1 (200)",
    });
    expect(isGone(err)).toBe(true);
    expect(err.message).toBe("watch ConfigMap: Expired: too old resource version: 1 (200)");
  });
});
