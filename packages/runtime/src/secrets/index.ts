export {
  cachedSecret,
  decodeSecretData,
  decodeSecretStrings,
  readSecret,
  readSecretData,
  type SecretData,
  type SecretObject,
  SecretReadError,
  type SecretRef,
  secretType,
} from "./secrets.js";
