/**
 * What the help shows about config fields (defaults, ranges, content kinds) comes from the
 * engine's own schema, so the help cannot drift from what the engine accepts.
 */
import { ConfigSchema } from '@zreclaim/engine/internal';
import { z } from 'zod';

interface JsonNode {
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonNode>;
  oneOf?: JsonNode[];
  anyOf?: JsonNode[];
}

const root = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonNode;

/** Every config field with its default filled in. */
export const DEFAULTS = ConfigSchema.parse({});

function node(path: string): JsonNode | undefined {
  let n: JsonNode | undefined = root;
  for (const k of path.split('.')) {
    const props: Record<string, JsonNode> | undefined = n?.properties ?? n?.oneOf?.find((o) => o.properties?.[k])?.properties;
    n = props?.[k];
  }
  return n;
}

/** "default: X" from the schema, or undefined when the field has none. */
export function defaultOf(path: string): unknown {
  let v: unknown = DEFAULTS;
  for (const k of path.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

const sensible = (n: number | undefined): n is number => n !== undefined && Math.abs(n) < 1e12;

/** The schema's bounds of a numeric field, e.g. "64..4194304", "> 0, ≤ 86400", or "". */
export function rangeOf(path: string): string {
  const n = node(path);
  if (!n) return '';
  const lo = sensible(n.minimum) ? `${n.minimum}` : sensible(n.exclusiveMinimum) ? `>${n.exclusiveMinimum}` : undefined;
  const hi = sensible(n.maximum) ? `${n.maximum}` : undefined;
  if (lo !== undefined && hi !== undefined) return lo.startsWith('>') ? `${lo}, ≤${hi}` : `${lo}..${hi}`;
  if (lo !== undefined) return lo.startsWith('>') ? lo : `≥${lo}`;
  if (hi !== undefined) return `≤${hi}`;
  return '';
}

/** The `kind` values a discriminated field accepts (content, workload). */
export function kindsOf(path: string): string[] {
  const n = node(path);
  return (n?.oneOf ?? []).map((o) => o.properties?.kind?.const).filter((k): k is string => typeof k === 'string');
}

/** Help suffix: " [range] (default: X)". */
export function helpSuffix(path: string, shown?: string): string {
  const r = rangeOf(path);
  const d = shown ?? defaultOf(path);
  return `${r ? ` [${r}]` : ''}${d === undefined ? '' : ` (default: ${typeof d === 'string' ? d : JSON.stringify(d)})`}`;
}
