/**
 * The layering, checked by `npm run lint` (dependency-cruiser, type-only
 * imports included): dependencies run one way,
 *   lib/contract  <-  lib/engine
 *   lib/contract  <-  backends/*  (and the shared rooms backends/process, backends/remote)
 *   lib/contract  <-  lib/report
 * and lib/index.ts (the package entry, which wires default backends into the
 * engine) and lib/cli/ may import anything. No cycles among source files.
 */
const source = "^(lib|backends)/";

/** Files under `from` import, of the project's sources, only those under `allowed`. */
const only = (name, comment, from, allowed) => ({ name, severity: "error", comment, from: { path: from }, to: { path: source, pathNot: allowed } });

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycle",
      severity: "error",
      comment: "A cycle among source files (value or type imports) ties their layers into one.",
      from: { path: source },
      to: { circular: true },
    },
    only("contract-imports-itself-only", "lib/contract/ is the room every layer imports: it imports nothing else of the project.", "^lib/contract/", "^lib/contract/"),
    only("engine-on-contract-only", "The engine knows the backend contract, no concrete backend: lib/index.ts wires those in.", "^lib/engine/", "^lib/(contract|engine)/"),
    only("report-on-contract-only", "Trace reports read the contract's data, not the engine's internals.", "^lib/report/", "^lib/(contract|report)/"),
    {
      name: "backends-on-contract-only",
      severity: "error",
      comment: "A backend sees the engine only through the contract (lib/contract/).",
      from: { path: "^backends/" },
      to: { path: "^lib/", pathNot: "^lib/contract/" },
    },
    {
      name: "backend-internals-stay-home",
      severity: "error",
      comment: "A backend imports its own files and the shared rooms backends/process/ and backends/remote/, not another backend's internals.",
      from: { path: "^backends/([^/]+)/" },
      to: { path: "^backends/", pathNot: ["^backends/$1/", "^backends/(process|remote)/"] },
    },
    {
      name: "top-level-backends-use-shared-rooms-only",
      severity: "error",
      comment: "A backend in one file (noop.ts) imports only the contract and the shared rooms.",
      from: { path: "^backends/[^/]+$" },
      to: { path: "^backends/[^/]+/", pathNot: "^backends/(process|remote)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|dist)/" },
    // type-only imports count: a cycle through types is a cycle for a reader too
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".mjs"] },
  },
};
