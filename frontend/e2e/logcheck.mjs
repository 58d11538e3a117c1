// Checks on the server's JSON log lines: log pipelines (Loki, Elasticsearch,
// jq -e) reject or silently merge duplicate keys, and JSON.parse hides them,
// so the keys of each object are read off the text itself.

/** Keys that occur more than once in one object of a JSON text, as "key" or "outer.key". */
export function duplicateKeys(text) {
  const dups = [];
  const stack = []; // per open object: Set of its keys; per open array: null
  let i = 0;
  let expectKey = false;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const str = text.slice(i + 1, j);
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        if (top.has(str)) dups.push(str);
        top.add(str);
        expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (ch === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (ch === '[') {
      stack.push(null);
    } else if (ch === '}' || ch === ']') {
      stack.pop();
    } else if (ch === ',') {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
    i++;
  }
  return dups;
}

/** Problems in a chunk of log output: duplicate keys, and /metrics scrapes logged above debug. */
export function logProblems(output) {
  const problems = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const dups = duplicateKeys(line);
    if (dups.length) problems.push(`duplicate key(s) ${dups.join(', ')}: ${line}`);
    let rec;
    try {
      rec = JSON.parse(line);
    } catch {
      continue;
    }
    if (rec.message === 'request' && rec.path === '/metrics' && rec.level !== 'debug') {
      problems.push(`a /metrics scrape logged at ${rec.level}: ${line}`);
    }
  }
  return problems;
}
