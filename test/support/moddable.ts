/** The Moddable lin tooling lives with the tools (`tbsdk sim` uses it too); tests import it from here. */
export * from "../../tools/moddable/lin.js";
