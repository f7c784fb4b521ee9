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
  /** The final assessment: also ask "How sure are you?" (certainty-based marking). */
  certainty?: boolean;
  /** A safety-critical item's lesson (feedback only). */
  review?: { lesson: string; title: string };
}

/** The certainty levels, lowest first, with what each means (course/certainty.py). */
export const CERTAINTY_LEVELS: IOption[] = [
  { value: 'low', label: 'Low (right: 1 mark, wrong: 0)' },
  { value: 'medium', label: 'Medium (right: 2 marks, wrong: −2)' },
  { value: 'high', label: 'High (right: 3 marks, wrong: −6)' }
];

/** The variable beside an answer that holds its certainty: answer_q5_1_1 → certainty_q5_1_1. */
export function certaintyName(spec: IAnswerSpec): string {
  return `certainty_${spec.name.replace(/^answer_/, '')}`;
}

/** The certainty written in the cell ("low", "medium" or "high"), or null. */
export function readCertainty(source: string, spec: IAnswerSpec): string | null {
  const text = assignedText(source, certaintyName(spec));
  const value = text === null ? null : unquote(text);
  const level = value?.trim().toLowerCase() ?? null;
  return CERTAINTY_LEVELS.some(l => l.value === level) ? level : null;
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

/**
 * The cell's source for an answer: its canonical line, and for an item that asks for it,
 * a second line with the certainty (left out while none is chosen).
 */
export function answerSource(
  spec: IAnswerSpec,
  value: AnswerValue,
  certainty: string | null = null
): string {
  const line = canonicalSource(spec, value);
  return spec.certainty && certainty
    ? `${line}\n${certaintyName(spec)} = ${pyString(certainty)}`
    : line;
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
