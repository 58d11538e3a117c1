// Symbol rules match the server: 1-10 characters of A-Z, 0-9, '.', '-'.
const SYMBOL_RE = /^[A-Z0-9.-]{1,10}$/;

export const SYMBOL_RULE = "1-10 of A-Z, 0-9, '.', '-'";

export function isValidSymbol(s: string): boolean {
  return SYMBOL_RE.test(s);
}

/** The server's own wording, so client- and server-side errors read the same. */
export function symbolError(s: string): string {
  return `${JSON.stringify(s)} is not a valid symbol: ${SYMBOL_RULE}`;
}

export interface ParsedSymbols {
  symbols: string[];
  errors: string[];
}

/**
 * Splits free text ("aapl, msft tsla") into normalised, de-duplicated symbols.
 * Lower case is accepted and upper-cased: nobody means "aapl" as a different ticker.
 */
export function parseSymbols(input: string): ParsedSymbols {
  const symbols: string[] = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const raw of input.split(/[\s,;]+/)) {
    if (raw === '') continue;
    const sym = raw.toUpperCase();
    if (seen.has(sym)) continue;
    seen.add(sym);
    if (isValidSymbol(sym)) symbols.push(sym);
    else errors.push(symbolError(raw));
  }
  return { symbols, errors };
}
