import pkg from "../package.json" with { type: "json" };

/** partkeeper's version, recorded in every manifest. */
export const PARTKEEPER_VERSION: string = pkg.version;
