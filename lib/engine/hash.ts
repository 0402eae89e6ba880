import { createHash } from "node:crypto";

/**
 * A stable structural hash of task inputs: equal structures hash equal
 * whatever the key order of plain objects or the insertion order of Maps and
 * Sets, in any process, on any run. Never the call order or an object's
 * identity. Returns null for what has no stable content (functions, symbols,
 * class instances other than the built-ins below, cycles), which the caller
 * treats as "do not reuse". O(size of the value), plus sorting of keys.
 */
export function stableHash(value: unknown): string | null {
  const parts: string[] = [];
  return encode(value, parts, new Set()) ? createHash("sha256").update(parts.join("")).digest("base64url") : null;
}

/** A short hash of a text (a function's source, for task identity). */
export function textHash(text: string): string {
  return createHash("sha256").update(text).digest("base64url").slice(0, 22);
}

// Each value is a one-letter tag then its content; strings carry their length
// so that no two different structures make the same text.
function encode(x: unknown, out: string[], path: Set<object>): boolean {
  switch (typeof x) {
    case "string":
      out.push(`s${x.length}:`, x);
      return true;
    case "number":
      out.push(Object.is(x, -0) ? "n-0;" : `n${x};`);
      return true;
    case "boolean":
      out.push(x ? "T" : "F");
      return true;
    case "undefined":
      out.push("U");
      return true;
    case "bigint":
      out.push(`b${x};`);
      return true;
    case "object":
      break;
    default:
      return false; // function, symbol
  }
  if (x === null) return out.push("N"), true;
  if (path.has(x)) return false;
  path.add(x);
  const ok = encodeObject(x, out, path);
  path.delete(x);
  return ok;
}

function encodeObject(x: object, out: string[], path: Set<object>): boolean {
  if (Array.isArray(x)) {
    out.push(`a${x.length}[`);
    for (let i = 0; i < x.length; i++) if (!encode(x[i], out, path)) return false;
    return out.push("]"), true;
  }
  const proto = Object.getPrototypeOf(x) as object | null;
  if (proto === Object.prototype || proto === null) {
    const keys = Object.keys(x).sort();
    out.push(`o${keys.length}{`);
    for (const k of keys) {
      out.push(`s${k.length}:`, k);
      if (!encode((x as Record<string, unknown>)[k], out, path)) return false;
    }
    return out.push("}"), true;
  }
  if (x instanceof Date) return out.push(`d${x.getTime()};`), true;
  if (ArrayBuffer.isView(x)) {
    out.push(`v${x.constructor.name}:${Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString("base64")};`);
    return true;
  }
  if (x instanceof ArrayBuffer) return out.push(`B${Buffer.from(x).toString("base64")};`), true;
  if (x instanceof Map) return unordered("M", [...(x as Map<unknown, unknown>)], out, path);
  if (x instanceof Set) return unordered("S", [...x], out, path);
  return false;
}

/** Maps and Sets: each member hashed alone, then sorted, so insertion order does not count. */
function unordered(tag: string, members: unknown[], out: string[], path: Set<object>): boolean {
  const each: string[] = [];
  for (const m of members) {
    const parts: string[] = [];
    if (!encode(m, parts, path)) return false;
    each.push(parts.join(""));
  }
  each.sort();
  out.push(`${tag}${each.length}{`, ...each, "}");
  return true;
}
