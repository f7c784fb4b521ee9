/**
 * The answer form shown in place of a cell's code editor: native inputs, labels tied
 * to inputs, visible focus, and an aria-live line that announces the check's result.
 */
import { Widget } from '@lumino/widgets';

import {
  AnswerValue,
  CERTAINTY_LEVELS,
  IAnswerSpec,
  ICaseAnswer,
  IOption,
  readCase,
  readCertainty,
  readChoice,
  readNumber
} from './answer';
import { IShownGroup } from './options';

let counter = 0;

/** The status line's reminder while an answer has no certainty (course/certainty.py). */
export const CERTAINTY_REMINDER = 'How sure are you? not chosen yet: it counts as low.';

/**
 * A case menu entry's label: its code, as the stem and the check's messages name it,
 * then its text ("`CODE`: text").
 */
function codedLabel(option: IOption): (HTMLElement | string)[] {
  return [element('code', 'course-AnswerForm-key', option.value), `: ${option.label}`];
}

export interface IFormCallbacks {
  /**
   * The learner chose an answer (or a certainty): write both into the cell and run the
   * checks. `certainty` is null when the item does not ask for it or none is chosen.
   */
  answer(value: AnswerValue, certainty: string | null): void;
  /** "Show code" / "Hide code". */
  toggleCode(show: boolean): void;
  /**
   * Tab past the last control (or Shift+Tab before the first): true when the notebook
   * moves the focus to the next (previous) form itself, which it must do when windowing
   * keeps the cells in between off the page, where Tab cannot reach them.
   */
  leave?(forward: boolean): boolean;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

export class AnswerForm extends Widget {
  constructor(spec: IAnswerSpec, callbacks: IFormCallbacks) {
    super();
    this.spec = spec;
    this.callbacks = callbacks;
    this.id = `course-answer-${spec.name}-${++counter}`;
    this.addClass('course-AnswerForm');
    this.node.setAttribute('data-answer', spec.name);
    this.build();
  }

  readonly spec: IAnswerSpec;

  /**
   * The options each group of the form shows (the certainty picker aside): value, text,
   * and the text of the form's own label, so that a list is hidden only where the form
   * really shows the same thing.
   */
  shownOptions(): IShownGroup[] {
    const spec = this.spec;
    const groups: [string, IOption[] | undefined][] =
      spec.kind === 'choice'
        ? [['choice', spec.options]]
        : spec.kind === 'case'
          ? [
              ['decision', spec.decision],
              ['reasons', spec.reasons],
              ['management', spec.management]
            ]
          : [];
    return groups.map(([group, options]) => ({
      group,
      options: (options ?? []).map(option => ({
        value: option.value,
        label: option.label,
        shown:
          this.node.querySelector(`label[for="${this.inputId(group, option.value)}"]`)
            ?.textContent ?? ''
      }))
    }));
  }

  /** Show the answer that the cell's source now holds (typed in the editor, or loaded). */
  showSource(source: string): void {
    const spec = this.spec;
    if (spec.kind === 'choice') {
      const chosen = readChoice(source, spec);
      this.radios('choice').forEach(r => (r.checked = r.value === chosen));
      const sure = readCertainty(source, spec);
      this.radios('certainty').forEach(r => (r.checked = r.value === sure));
      this.remind();
    } else if (spec.kind === 'number') {
      const typed = readNumber(source, spec);
      if (this.numberInput && document.activeElement !== this.numberInput) {
        this.numberInput.value = typed ?? '';
      }
    } else {
      const answer = readCase(source, spec);
      this.radios('decision').forEach(
        r => (r.checked = !!answer && r.value === answer.decision)
      );
      for (const menu of ['reasons', 'management'] as const) {
        this.checkboxes(menu).forEach(
          box => (box.checked = !!answer && answer[menu].includes(box.value))
        );
        this.updateLimit(menu);
      }
    }
  }

  /** Say something to screen readers and show it under the form. */
  announce(text: string): void {
    this.message.textContent = text;
  }

  /**
   * In the status line, after the check's result: a reminder, while an item that asks
   * "How sure are you?" has an answer but no certainty, that none counts as low.
   */
  private remind(): void {
    if (!this.reminder) {
      return;
    }
    const answered = this.radios('choice').some(r => r.checked);
    const sure = this.radios('certainty').some(r => r.checked);
    const text = answered && !sure ? CERTAINTY_REMINDER : '';
    if (this.reminder.textContent !== text) {
      this.reminder.textContent = text;
    }
  }

  setCodeShown(shown: boolean): void {
    this.codeButton.textContent = shown ? 'Hide code' : 'Show code';
    this.codeButton.setAttribute('aria-expanded', String(shown));
  }

  private build(): void {
    const spec = this.spec;
    const form = element('form', 'course-AnswerForm-form');
    form.setAttribute('aria-label', `Answer ${spec.name.replace(/^answer_q/, '')}`);
    form.addEventListener('submit', event => event.preventDefault());
    // Keys typed in the form are the form's: the notebook's command-mode shortcuts
    // (a, b, d d, arrows …) must not act on the cell while the learner answers. Escape
    // and the application's own shortcuts (Ctrl/Cmd/Alt + key: save, command palette …)
    // still reach JupyterLab, so a keyboard user is never stuck in a form.
    form.addEventListener('keydown', event => {
      const shortcut = event.ctrlKey || event.metaKey || event.altKey;
      if (event.key !== 'Escape' && !shortcut) {
        event.stopPropagation();
      }
      if (event.key === 'Tab' && !shortcut && this.leaving(event)) {
        event.preventDefault();
      }
    });
    if (spec.kind === 'choice') {
      form.appendChild(
        this.radioGroup(
          'choice',
          spec.practice ? 'Choose one answer (practice)' : 'Choose one answer',
          spec.options ?? []
        )
      );
      if (spec.certainty) {
        const group = this.radioGroup('certainty', 'How sure are you?', CERTAINTY_LEVELS);
        group.classList.add('course-AnswerForm-certainty');
        form.appendChild(group);
      }
    } else if (spec.kind === 'number') {
      form.appendChild(this.numberField());
    } else {
      form.appendChild(this.radioGroup('decision', 'Decision', spec.decision ?? []));
      form.appendChild(
        this.checkGroup('reasons', 'Reasons', spec.reasons ?? [], spec.max_reasons ?? 3)
      );
      form.appendChild(
        this.checkGroup(
          'management',
          'Management',
          spec.management ?? [],
          spec.max_management ?? 4
        )
      );
    }
    const bar = element('div', 'course-AnswerForm-bar');
    this.codeButton = element('button', 'course-AnswerForm-code', 'Show code');
    this.codeButton.type = 'button';
    this.codeButton.setAttribute('aria-expanded', 'false');
    this.codeButton.setAttribute('aria-controls', `${this.id}-code`);
    this.codeButton.addEventListener('click', () => {
      const show = this.codeButton.getAttribute('aria-expanded') !== 'true';
      this.callbacks.toggleCode(show);
      this.setCodeShown(show);
    });
    bar.appendChild(this.codeButton);
    form.appendChild(bar);
    this.status = element('p', 'course-AnswerForm-status');
    this.status.setAttribute('role', 'status');
    this.status.setAttribute('aria-live', 'polite');
    this.message = element('span', 'course-AnswerForm-message');
    this.status.appendChild(this.message);
    if (spec.kind === 'choice' && spec.certainty) {
      this.reminder = element('span', 'course-AnswerForm-reminder');
      this.status.appendChild(this.reminder);
    }
    form.appendChild(this.status);
    this.node.appendChild(form);
  }

  /** Focus the control that Tab reaches first: the chosen (or first) option, or the field. */
  focusFirst(): void {
    const first = this.node.querySelector('fieldset, .course-AnswerForm-number');
    const inputs = Array.from(first?.querySelectorAll('input') ?? []);
    (inputs.find(input => input.checked) ?? inputs[0])?.focus();
  }

  /** Focus the control that Shift+Tab reaches first: "Show code", the form's last. */
  focusLast(): void {
    this.codeButton.focus();
  }

  /** Tab from the last control or Shift+Tab from the first: may the notebook move on? */
  private leaving(event: KeyboardEvent): boolean {
    const target = event.target as HTMLElement;
    const first = this.node.querySelector('fieldset, .course-AnswerForm-number');
    const fromFirst =
      !!first?.contains(target) &&
      target instanceof HTMLInputElement &&
      (target.type === 'radio' || first.querySelectorAll('input').length === 1);
    const edge = event.shiftKey ? fromFirst : target === this.codeButton;
    return edge && !!this.callbacks.leave?.(!event.shiftKey);
  }

  private inputId(group: string, value: string): string {
    return `${this.id}-${group}-${value}`.replace(/[^\w-]/g, '_');
  }

  private radioGroup(group: string, legend: string, options: IOption[]): HTMLElement {
    const fieldset = element('fieldset', 'course-AnswerForm-group');
    fieldset.dataset.group = group;
    fieldset.appendChild(element('legend', undefined, legend));
    for (const option of options) {
      const row = element('div', 'course-AnswerForm-option');
      const input = element('input');
      input.type = 'radio';
      input.name = `${this.id}-${group}`;
      input.value = option.value;
      input.id = this.inputId(group, option.value);
      input.addEventListener('change', () => this.changed());
      const label = element('label');
      label.htmlFor = input.id;
      if (group === 'decision') {
        label.append(...codedLabel(option));
      } else {
        const letter = group === 'choice' ? `(${option.value}) ` : '';
        label.textContent = `${letter}${option.label}`;
      }
      row.append(input, label);
      fieldset.appendChild(row);
    }
    return fieldset;
  }

  private checkGroup(
    group: 'reasons' | 'management',
    legend: string,
    options: IOption[],
    limit: number
  ): HTMLElement {
    const fieldset = element('fieldset', 'course-AnswerForm-group');
    fieldset.dataset.limit = String(limit);
    fieldset.dataset.group = group;
    fieldset.appendChild(element('legend', undefined, `${legend}: choose up to ${limit}`));
    for (const option of options) {
      const row = element('div', 'course-AnswerForm-option');
      const input = element('input');
      input.type = 'checkbox';
      input.name = `${this.id}-${group}`;
      input.value = option.value;
      input.id = this.inputId(group, option.value);
      input.addEventListener('change', () => {
        this.updateLimit(group);
        this.changed();
      });
      const label = element('label');
      label.htmlFor = input.id;
      label.append(...codedLabel(option));
      row.append(input, label);
      fieldset.appendChild(row);
    }
    const count = element('p', 'course-AnswerForm-count');
    count.id = `${this.id}-${group}-count`;
    fieldset.setAttribute('aria-describedby', count.id);
    fieldset.appendChild(count);
    return fieldset;
  }

  private numberField(): HTMLElement {
    const spec = this.spec;
    const row = element('div', 'course-AnswerForm-number');
    const input = element('input');
    input.type = 'text';
    input.inputMode = 'decimal';
    input.id = this.inputId('number', 'value');
    input.autocomplete = 'off';
    const precision =
      spec.decimals === undefined
        ? ''
        : spec.decimals === 0
          ? ', a whole number'
          : `, to ${spec.decimals} decimal place${spec.decimals === 1 ? '' : 's'}`;
    const label = element('label', undefined, `Your answer${spec.unit ? ` in ${spec.unit}` : ''}${precision}`);
    label.htmlFor = input.id;
    const unit = element('span', 'course-AnswerForm-unit', spec.unit ?? '');
    unit.setAttribute('aria-hidden', 'true');
    const button = element('button', 'course-AnswerForm-submit', 'Check format');
    button.type = 'button';
    const commit = () => this.changed();
    button.addEventListener('click', commit);
    input.addEventListener('change', commit);
    input.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        event.preventDefault();
        commit();
      }
    });
    this.numberInput = input;
    row.append(label, input, unit, button);
    return row;
  }

  private radios(group: string): HTMLInputElement[] {
    return Array.from(
      this.node.querySelectorAll<HTMLInputElement>(`input[name="${this.id}-${group}"]`)
    );
  }

  private checkboxes(group: string): HTMLInputElement[] {
    return this.radios(group);
  }

  private updateLimit(group: 'reasons' | 'management'): void {
    const boxes = this.checkboxes(group);
    const fieldset = boxes[0]?.closest('fieldset');
    if (!fieldset) {
      return;
    }
    const limit = Number(fieldset.dataset.limit);
    const chosen = boxes.filter(b => b.checked).length;
    boxes.forEach(b => (b.disabled = !b.checked && chosen >= limit));
    const count = fieldset.querySelector('.course-AnswerForm-count');
    if (count) {
      count.textContent = `${chosen} of up to ${limit} chosen`;
    }
  }

  private value(): AnswerValue {
    const spec = this.spec;
    if (spec.kind === 'choice') {
      return this.radios('choice').find(r => r.checked)?.value ?? null;
    }
    if (spec.kind === 'number') {
      return this.numberInput?.value ?? null;
    }
    const answer: ICaseAnswer = {
      decision: this.radios('decision').find(r => r.checked)?.value ?? '',
      reasons: this.checkboxes('reasons')
        .filter(b => b.checked)
        .map(b => b.value),
      management: this.checkboxes('management')
        .filter(b => b.checked)
        .map(b => b.value)
    };
    return answer;
  }

  private changed(): void {
    this.announce('Checking…');
    this.remind();
    const sure = this.radios('certainty').find(r => r.checked)?.value ?? null;
    this.callbacks.answer(this.value(), sure);
  }

  private callbacks: IFormCallbacks;
  private codeButton!: HTMLButtonElement;
  private status!: HTMLParagraphElement;
  private message!: HTMLSpanElement;
  private reminder: HTMLSpanElement | null = null;
  private numberInput: HTMLInputElement | null = null;
}
