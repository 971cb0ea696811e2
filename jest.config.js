/** Jest runs the TypeScript sources directly (ts-jest, transpile only: `npm run build` type-checks). */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["ts-jest", {}],
    // aedes 1.x and esptool-js ship ES modules only; Jest's CommonJS loader needs them transpiled.
    "/node_modules/(aedes|esptool-js)/.+\\.js$": ["ts-jest", { tsconfig: { allowJs: true, module: "commonjs", esModuleInterop: true } }],
  },
  transformIgnorePatterns: ["/node_modules/(?!(aedes|esptool-js)/)"],
  // Sources import siblings as "./x.js" (valid for Node ESM and Moddable); map that back to the .ts file.
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  testTimeout: 30000,
};
