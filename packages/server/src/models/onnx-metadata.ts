/**
 * Reads the `metadata_props` of an ONNX ModelProto without decoding the graph: a minimal protobuf walk over the
 * top-level fields (metadata_props is field 14, entries have key = 1 and value = 2). Ultralytics writes `names`,
 * `task`, `imgsz`, `stride` there.
 */
export function readOnnxMetadata(buf: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated protobuf');
      const byte = buf[pos++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new Error('bad varint');
    }
  };
  const decoder = new TextDecoder();
  while (pos < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const len = varint();
      const end = pos + len;
      if (field === 14) {
        let k = '';
        let v = '';
        while (pos < end) {
          const ek = varint();
          const elen = varint();
          const s = decoder.decode(buf.subarray(pos, pos + elen));
          pos += elen;
          if (ek >> 3 === 1) k = s;
          else if (ek >> 3 === 2) v = s;
        }
        out[k] = v;
      }
      pos = end;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return out;
}

/**
 * Ultralytics' `names` metadata is a Python dict literal: `{0: 'person', 1: 'bicycle', …}`. Also accepts JSON
 * objects and arrays. Returns labels indexed by class id.
 */
export function parseClassNames(text: string): string[] {
  const trimmed = text.trim();
  try {
    const json: unknown = JSON.parse(trimmed);
    if (Array.isArray(json)) return json.map(String);
    if (json && typeof json === 'object') return fromEntries(Object.entries(json as Record<string, unknown>).map(([k, v]) => [Number(k), String(v)]));
  } catch {
    // Not JSON: a Python dict literal.
  }
  const entries: Array<[number, string]> = [];
  for (const m of trimmed.matchAll(/(\d+)\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/g)) {
    entries.push([Number(m[1]), (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1')]);
  }
  return fromEntries(entries);
}

function fromEntries(entries: Array<[number, string]>): string[] {
  const labels: string[] = [];
  for (const [i, name] of entries) if (Number.isInteger(i) && i >= 0 && i < 100_000) labels[i] = name;
  for (let i = 0; i < labels.length; i++) labels[i] ??= String(i);
  return labels;
}
