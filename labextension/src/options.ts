/**
 * Say it once: an item's stem (its Markdown cell) lists the options, and the answer form
 * below lists them again as labelled inputs. Where the form shows every option of a
 * Markdown list, with its letter or code and its full text, that list is hidden (from
 * sight and from assistive technology); a list that does not match every option stays.
 * Only JupyterLab's page changes: the notebook, nbgrader's HTML and feedback keep the
 * list.
 */
import { Cell } from '@jupyterlab/cells';
import { NotebookPanel } from '@jupyterlab/notebook';

/** The class that hides a Markdown option list shown by the form (style/base.css). */
export const HIDDEN_CLASS = 'course-mod-optionsInForm';

/** One option of a form group: its value (letter or code), its text, the form's label. */
export interface IShownOption {
  value: string;
  label: string;
  /** The text of the form's label for this option, as rendered. */
  shown: string;
}

/** A group of the form (the choice, or a case's decision, reasons, management). */
export interface IShownGroup {
  group: string;
  options: IShownOption[];
}

/**
 * Text compared leniently: case, spacing, quotes, dashes, final punctuation and Markdown
 * emphasis or code marks (a label's source may keep them, the rendered list does not)
 * aside.
 */
export function normalise(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/[*`]/g, '')
    .replace(/[\u2018\u2019\u201b\u2032]/g, "'")
    .replace(/[\u201c\u201d\u201f\u2033]/g, '"')
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\s.;:,]+$/, '')
    .toLowerCase();
}

/**
 * How `text` (a list item, or a form's label) shows `option`: "keyed" when it is the
 * option's full text after its letter or code ("(a) text", "a) text", "A. text",
 * "**A** text", "`CODE`: text", "CODE - text"), "plain" when it is the text alone, or
 * null when it is something else.
 */
export function showsOption(
  text: string,
  option: { value: string; label: string }
): 'keyed' | 'plain' | null {
  const whole = normalise(text);
  const label = normalise(option.label);
  if (!label || !whole.endsWith(label)) {
    return null;
  }
  const key = whole
    .slice(0, whole.length - label.length)
    .replace(/[\s()[\]*`.:)\-]/g, '');
  if (key === '') {
    return whole === label ? 'plain' : null;
  }
  return key === option.value.toLowerCase() ? 'keyed' : null;
}

/**
 * Whether a list's items are exactly the options of a form group, one item per option,
 * each shown by the form at least as fully (with its letter or code when the list gives
 * one). A partial match, an extra item or a missing option is no match.
 */
export function listShownByForm(items: string[], group: IShownGroup): boolean {
  const options = group.options;
  if (items.length === 0 || items.length !== options.length) {
    return false;
  }
  const used = new Set<number>();
  return items.every(item => {
    const index = options.findIndex((option, at) => {
      if (used.has(at)) {
        return false;
      }
      const inList = showsOption(item, option);
      const inForm = showsOption(option.shown, option);
      return inList !== null && inForm !== null && (inList === 'plain' || inForm === 'keyed');
    });
    if (index < 0) {
      return false;
    }
    used.add(index);
    return true;
  });
}

/** The text of a list's own items (nested lists left out). */
function itemTexts(list: Element): string[] {
  return Array.from(list.children)
    .filter(child => child.tagName === 'LI')
    .map(item => {
      const copy = item.cloneNode(true) as Element;
      copy.querySelectorAll('ul, ol').forEach(nested => nested.remove());
      return copy.textContent ?? '';
    });
}

/** Whether a cell is a Markdown cell. */
function isMarkdown(cell: Cell): boolean {
  return cell.model.type === 'markdown';
}

/**
 * Hides the Markdown option lists of one answer form's stem while the form is on the
 * notebook. The stem is the Markdown cell (or run of Markdown cells) right above the
 * answer cell; its lists are matched again whenever it re-renders (edited and run,
 * windowing attaching it again) and when the notebook's cells change. `dispose()`
 * shows every list again.
 */
export class OptionsOnce {
  constructor(
    panel: NotebookPanel,
    cell: Cell,
    groups: () => IShownGroup[],
    name: string
  ) {
    this.panel = panel;
    this.cell = cell;
    this.groups = groups;
    this.name = name;
    this.refresh();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Find the stem again (the cells may have changed) and match its lists. */
  refresh(): void {
    if (this.disposed) {
      return;
    }
    const widgets = this.panel.content.widgets;
    const index = widgets.indexOf(this.cell);
    if (index < 0) {
      this.dispose();
      return;
    }
    const stems: Cell[] = [];
    for (let at = index - 1; at >= 0 && isMarkdown(widgets[at]); at--) {
      stems.push(widgets[at]);
    }
    const same =
      stems.length === this.stems.length && stems.every((stem, at) => stem === this.stems[at]);
    if (!same) {
      this.observer.disconnect();
      for (const stem of stems) {
        this.observer.observe(stem.node, { childList: true, subtree: true });
      }
      this.stems = stems;
    }
    this.apply();
  }

  /** Show every list again and stop watching. */
  dispose(): void {
    if (this.disposed) {
      return;
    }
    this.disposed = true;
    this.observer.disconnect();
    if (this.frame) {
      cancelAnimationFrame(this.frame);
    }
    this.hidden.forEach(list => this.show(list));
    this.hidden.clear();
    this.stems = [];
  }

  private schedule(): void {
    if (!this.frame && !this.disposed) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.apply();
      });
    }
  }

  /** Hide the nearest list that the form shows in full, for each of the form's groups. */
  private apply(): void {
    if (this.disposed) {
      return;
    }
    const lists = this.stems.flatMap(stem =>
      Array.from(stem.node.querySelectorAll('.jp-RenderedMarkdown ul, .jp-RenderedMarkdown ol'))
    );
    const chosen = new Set<Element>();
    for (const group of this.groups()) {
      const list = lists.find(
        candidate => !chosen.has(candidate) && listShownByForm(itemTexts(candidate), group)
      );
      if (list) {
        chosen.add(list);
      }
    }
    this.hidden.forEach(list => {
      if (!chosen.has(list)) {
        this.show(list);
        this.hidden.delete(list);
      }
    });
    chosen.forEach(list => {
      list.classList.add(HIDDEN_CLASS);
      list.setAttribute('data-course-answer', this.name);
      this.hidden.add(list);
    });
  }

  private show(list: Element): void {
    list.classList.remove(HIDDEN_CLASS);
    list.removeAttribute('data-course-answer');
  }

  private readonly panel: NotebookPanel;
  private readonly cell: Cell;
  private readonly groups: () => IShownGroup[];
  private readonly name: string;
  private readonly observer = new MutationObserver(() => this.schedule());
  private readonly hidden = new Set<Element>();
  private stems: Cell[] = [];
  private frame = 0;
  private disposed = false;
}
