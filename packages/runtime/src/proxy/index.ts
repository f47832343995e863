export * from "./env.js";
