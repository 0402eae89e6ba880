import { LocalBackend, NoopBackend } from "../lib/index.js";
import { backendConformance } from "./conformance.js";
import { contractConformance } from "./contract-conformance.js";

backendConformance("local", { make: () => new LocalBackend(), runsBodies: true });
backendConformance("local (concurrency 2)", { make: () => new LocalBackend({ concurrency: 2 }), runsBodies: true });
backendConformance("noop", { make: () => new NoopBackend(), runsBodies: false });
contractConformance("local", { make: () => new LocalBackend() });
