/**
 * `GET /docs`: one self-contained page (no CDN, no external request) that fetches `openapi.json` beside it and lists
 * every operation — method, path, auth, parameters, request body, responses — with the schemas it names.
 */
export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sightline API</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 980px; padding: 1rem; color: #1d2330; }
  h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ccd; }
  details.op { border: 1px solid #dde; border-radius: 6px; margin: 0.4rem 0; }
  details.op > summary { cursor: pointer; padding: 0.4rem 0.6rem; display: flex; gap: 0.6rem; align-items: baseline; flex-wrap: wrap; }
  .body { padding: 0 0.8rem 0.6rem; }
  .m { font: bold 12px monospace; padding: 2px 6px; border-radius: 4px; color: #fff; min-width: 4.2em; text-align: center; }
  .GET { background: #2b7bb9; } .POST { background: #2f9e44; } .PATCH { background: #c2840c; } .DELETE { background: #c92a2a; } .OPTIONS { background: #666; }
  code, pre { font-family: ui-monospace, monospace; font-size: 13px; } pre { background: #f5f6fa; padding: 0.5rem; overflow-x: auto; }
  table { border-collapse: collapse; width: 100%; } td, th { border-bottom: 1px solid #eef; padding: 3px 6px; text-align: left; vertical-align: top; }
  .muted { color: #667; } .tag { font-size: 12px; color: #556; }
</style>
</head>
<body>
<h1 id="title">Sightline API</h1>
<p id="intro" class="muted">Loading <code>openapi.json</code>…</p>
<main id="ops"></main>
<h2>Schemas</h2>
<div id="schemas"></div>
<script>
(async () => {
  const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const md = (s) => esc(s).replace(/\`([^\`]+)\`/g, '<code>$1</code>');
  const refName = (r) => r.split('/').pop();
  const schemaHtml = (s) => !s ? '' : s.$ref ? '<a href="#schema-' + esc(refName(s.$ref)) + '"><code>' + esc(refName(s.$ref)) + '</code></a>' : '<code>' + esc(JSON.stringify(s)) + '</code>';
  let doc;
  try {
    const res = await fetch('openapi.json');
    if (!res.ok) throw new Error('HTTP ' + res.status);
    doc = await res.json();
  } catch (err) {
    document.getElementById('intro').textContent = 'Could not load openapi.json: ' + err.message;
    return;
  }
  document.getElementById('title').textContent = doc.info.title + ' ' + doc.info.version;
  document.getElementById('intro').innerHTML = md(doc.info.description) + ' <a href="openapi.json">openapi.json</a>';
  const authText = (sec) => !sec || sec.length === 0 ? 'none' : sec.map((r) => Object.keys(r)[0] ?? 'none (optional)').join(' or ');
  const resolveResponse = (r) => r.$ref ? doc.components.responses[refName(r.$ref)] : r;
  const byTag = new Map();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || 'Other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push({ path, method: method.toUpperCase(), op });
    }
  }
  let html = '';
  for (const [tag, ops] of byTag) {
    html += '<h2>' + esc(tag) + '</h2>';
    for (const { path, method, op } of ops) {
      html += '<details class="op"><summary><span class="m ' + method + '">' + method + '</span><code>' + esc(path) + '</code><span>' + md(op.summary) + '</span>' +
        (op['x-websocket'] ? '<span class="tag">WebSocket</span>' : '') + '</summary><div class="body">';
      if (op.description) html += '<p>' + md(op.description) + '</p>';
      html += '<p><b>Auth:</b> ' + esc(authText(op.security)) + '</p>';
      if (op.parameters) {
        html += '<table><tr><th>parameter</th><th>in</th><th>schema</th><th></th></tr>';
        for (const p of op.parameters) html += '<tr><td><code>' + esc(p.name) + '</code>' + (p.required ? ' *' : '') + '</td><td>' + esc(p.in) + '</td><td>' + schemaHtml(p.schema) + '</td><td>' + md(p.description) + '</td></tr>';
        html += '</table>';
      }
      if (op.requestBody) {
        html += '<p><b>Body:</b> ' + (op.requestBody.description ? md(op.requestBody.description) + ' ' : '');
        for (const [type, c] of Object.entries(op.requestBody.content)) html += '<code>' + esc(type) + '</code> ' + schemaHtml(c.schema) + ' ';
        html += '</p>';
      }
      html += '<table><tr><th>status</th><th>response</th><th>body</th></tr>';
      for (const [status, r0] of Object.entries(op.responses)) {
        const r = resolveResponse(r0) || {};
        const body = Object.entries(r.content || {}).map(([type, c]) => '<code>' + esc(type) + '</code> ' + schemaHtml(c.schema)).join('<br>');
        const headers = r.headers ? '<br><span class="muted">headers: ' + Object.keys(r.headers).map(esc).join(', ') + '</span>' : '';
        html += '<tr><td>' + esc(status) + '</td><td>' + md(r.description) + headers + '</td><td>' + body + '</td></tr>';
      }
      html += '</table></div></details>';
    }
  }
  document.getElementById('ops').innerHTML = html;
  let schemas = '';
  for (const [name, s] of Object.entries(doc.components.schemas)) {
    schemas += '<details id="schema-' + esc(name) + '"><summary><code>' + esc(name) + '</code></summary><pre>' + esc(JSON.stringify(s, null, 2)) + '</pre></details>';
  }
  document.getElementById('schemas').innerHTML = schemas;
  if (location.hash) document.getElementById(location.hash.slice(1))?.setAttribute('open', '');
  document.addEventListener('click', (e) => {
    const a = e.target.closest && e.target.closest('a[href^="#schema-"]');
    if (a) document.getElementById(a.getAttribute('href').slice(1))?.setAttribute('open', '');
  });
})();
</script>
</body>
</html>
`;
