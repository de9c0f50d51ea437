/** A JSON Schema property, as zod's toJSONSchema writes them for processor params. */
export interface PropSchema {
  type?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  default?: unknown;
  description?: string;
}

/**
 * Builds a control per param from the processor's JSON Schema: number with min/max → slider, integer → number box,
 * boolean → toggle, enum → select. `onChange` gets the param name and its new value.
 */
export function renderParamControls(
  container: HTMLElement,
  schema: { properties?: Record<string, PropSchema> },
  values: Record<string, unknown>,
  onChange: (name: string, value: unknown) => void,
): void {
  container.replaceChildren();
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const value = values[name] ?? prop.default;
    const label = document.createElement('label');
    label.title = prop.description ?? '';
    const caption = document.createElement('span');
    caption.textContent = name;
    label.append(caption);
    if (prop.enum) {
      const select = document.createElement('select');
      select.name = name;
      for (const opt of prop.enum) select.add(new Option(String(opt), String(opt), false, opt === value));
      select.onchange = () => onChange(name, select.value);
      label.append(select);
    } else if (prop.type === 'boolean') {
      label.className = 'check';
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.name = name;
      box.checked = value === true;
      box.onchange = () => onChange(name, box.checked);
      label.prepend(box);
    } else if ((prop.type === 'number' || prop.type === 'integer') && prop.minimum !== undefined && prop.maximum !== undefined && prop.type === 'number') {
      const out = document.createElement('output');
      const range = document.createElement('input');
      range.type = 'range';
      range.name = name;
      range.min = String(prop.minimum);
      range.max = String(prop.maximum);
      range.step = String((prop.maximum - prop.minimum) / 100);
      range.value = String(value ?? prop.minimum);
      out.textContent = Number(range.value).toFixed(2);
      caption.append(' ', out);
      range.oninput = () => (out.textContent = Number(range.value).toFixed(2));
      range.onchange = () => onChange(name, Number(range.value));
      label.append(range);
    } else if (prop.type === 'number' || prop.type === 'integer') {
      const num = document.createElement('input');
      num.type = 'number';
      num.name = name;
      if (prop.minimum !== undefined) num.min = String(prop.minimum);
      if (prop.maximum !== undefined) num.max = String(prop.maximum);
      num.step = prop.type === 'integer' ? '1' : 'any';
      num.value = String(value ?? '');
      num.onchange = () => onChange(name, Number(num.value));
      label.append(num);
    } else continue;
    container.append(label);
  }
}

/** The defaults a schema declares. */
export function defaultsOf(schema: { properties?: Record<string, PropSchema> }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(schema.properties ?? {})) if (p.default !== undefined) out[k] = p.default;
  return out;
}
