export * from "./keys.js";
export * from "./pem.js";
export * from "./resolve.js";
export * from "./provision-credentials.js";
