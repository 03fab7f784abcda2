/** Inlined at build time by scripts/build.mjs from package.json. */
declare const PACKAGE_VERSION: string;
