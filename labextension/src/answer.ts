/**
 * Pure logic of the answer forms: read an answer from a cell's source, write the
 * canonical source line. No DOM here (tested through the Python tests' fixtures and
 * the browser test).
 */

export interface IOption {
  value: string;
  label: string;
}

export interface IAnswerSpec {
  name: string;
  kind: 'choice' | 'number' | 'case';
  checks?: number;
  practice?: boolean;
  options?: IOption[];
  unit?: string | null;
  decimals?: number;
  case?: string;
  decision?: IOption[];
  reasons?: IOption[];
  management?: IOption[];
  max_reasons?: number;
  max_management?: number;
}

export interface ICaseAnswer {
  decision: string;
  reasons: string[];
  management: string[];
}

export type AnswerValue = string | ICaseAnswer | null;

/** The right-hand side of the last top-level `name = …` line, or null. */
export function assignedText(source: string, name: string): string | null {
  const pattern = new RegExp(`^${name}\\s*=\\s*(.*)$`, 'gm');
  let found: string | null = null;
  for (const match of source.matchAll(pattern)) {
    found = stripComment(match[1]).trim();
  }
  return found;
}

/** Drop a trailing `# comment` that is not inside quotes. */
export function stripComment(text: string): string {
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === '\\') {
        i++;
      } else if (ch === quote) {
        quote = '';
      }
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '#') {
      return text.slice(0, i);
    }
  }
  return text;
}

function unquote(text: string): string | null {
  const match = /^(["'])(.*)\1$/s.exec(text.trim());
  return match ? match[2] : null;
}

/** A choice as the course reads it: "b", "B", "b)", "(B)" and " b " are all b. */
export function readChoice(source: string, spec: IAnswerSpec): string | null {
  const text = assignedText(source, spec.name);
  if (text === null) {
    return null;
  }
  const value = unquote(text);
  if (value === null) {
    return null;
  }
  const match = /^[([]?\s*([a-z])\s*[)\].:]?$/.exec(value.trim().toLowerCase());
  const letters = (spec.options ?? []).map(o => o.value);
  return match && letters.includes(match[1]) ? match[1] : null;
}

/** The number typed (as text, for the field), or null. */
export function readNumber(source: string, spec: IAnswerSpec): string | null {
  const text = assignedText(source, spec.name);
  if (text === null || text === 'None') {
    return null;
  }
  const value = unquote(text) ?? text;
  return value.trim() === '' ? null : value.trim();
}

function readList(text: string, key: string): string[] {
  const match = new RegExp(`["']${key}["']\\s*:\\s*\\[([^\\]]*)\\]`).exec(text);
  if (!match) {
    return [];
  }
  return Array.from(match[1].matchAll(/["']([^"']*)["']/g), m => m[1].trim().toUpperCase());
}

/** A case answer dict, read leniently from its source line, or null. */
export function readCase(source: string, spec: IAnswerSpec): ICaseAnswer | null {
  const text = assignedText(source, spec.name);
  if (text === null || !text.startsWith('{')) {
    return null;
  }
  const decision = /["']decision["']\s*:\s*["']([^"']*)["']/.exec(text);
  return {
    decision: decision
      ? decision[1].trim().toLowerCase().replace(/[\s-]+/g, '_')
      : '',
    reasons: readList(text, 'reasons'),
    management: readList(text, 'management')
  };
}

function pyString(text: string): string {
  return JSON.stringify(text);
}

/** The number as Python source: 2,5 → 2.5; anything else stays a string for the check. */
export function numberLiteral(typed: string): string {
  const text = typed.trim();
  if (/^[+-]?(\d+([.,]\d*)?|[.,]\d+)$/.test(text) && !/^\d{1,3}(,\d{3})+$/.test(text)) {
    const normal = text.replace(',', '.');
    const value = Number(normal);
    if (Number.isFinite(value)) {
      return normal.startsWith('.') ? `0${normal}` : normal.replace(/\.$/, '');
    }
  }
  return pyString(text);
}

/** The one canonical source line for an answer. */
export function canonicalSource(spec: IAnswerSpec, value: AnswerValue): string {
  if (value === null || value === '') {
    return `${spec.name} = None`;
  }
  if (spec.kind === 'case' && typeof value === 'object') {
    const list = (codes: string[]) => `[${codes.map(pyString).join(', ')}]`;
    return (
      `${spec.name} = {"decision": ${pyString(value.decision)}, ` +
      `"reasons": ${list(value.reasons)}, "management": ${list(value.management)}}`
    );
  }
  if (spec.kind === 'number') {
    return `${spec.name} = ${numberLiteral(String(value))}`;
  }
  return `${spec.name} = ${pyString(String(value))}`;
}
