/**
 * "Check my answers" (self-study): saves the notebook, asks the course's server
 * endpoint (course/check_service.py) to grade it with the course's own trusted pipeline,
 * and shows the score and, per item in question order, the result and its rationale.
 */
import { ToolbarButton } from '@jupyterlab/apputils';
import { PathExt, URLExt } from '@jupyterlab/coreutils';
import { NotebookPanel } from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';

interface ICheckedItem {
  title: string;
  score: number;
  max_score: number;
  html: string;
}

interface ICheckResult {
  score: number;
  max_score: number;
  items: ICheckedItem[];
  /** Certainty-based marking (the final): accuracy, CBM score, calibration, review list. */
  certainty?: { html: string; text: string } | null;
  message?: string;
}

const number = (value: number) => String(Math.round(value * 100) / 100);

/** The results region shown above the notebook's cells. */
export class CheckResults extends Widget {
  /** `open` opens a notebook path (relative to the checked notebook's folder) in the lab. */
  constructor(open?: (href: string) => void) {
    super();
    this.open = open;
    this.addClass('course-CheckResults');
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', 'Your results');
    this.status = document.createElement('p');
    this.status.className = 'course-CheckResults-status';
    this.status.setAttribute('role', 'status');
    this.status.setAttribute('aria-live', 'polite');
    this.body = document.createElement('div');
    this.node.append(this.status, this.body);
    this.hide();
  }

  working(): void {
    this.display(false);
    this.body.replaceChildren();
    this.status.textContent = 'Checking your answers… (this takes a few seconds)';
  }

  message(text: string): void {
    this.display(false);
    this.body.replaceChildren();
    this.status.textContent = text;
  }

  result(result: ICheckResult): void {
    this.display(true);
    this.status.textContent = `Your score: ${number(result.score)} of ${number(result.max_score)}.`;
    const list = document.createElement('ol');
    list.className = 'course-CheckResults-items';
    for (const item of result.items) {
      const entry = document.createElement('li');
      const heading = document.createElement('h3');
      const credit =
        item.score >= item.max_score
          ? ' (credited)'
          : item.score > 0
            ? ' (partly credited)'
            : ' (not credited)';
      heading.textContent =
        `${item.title}: ${number(item.score)} of ${number(item.max_score)}` + credit;
      const rationale = document.createElement('div');
      rationale.className = 'course-CheckResults-rationale';
      // Escaped on the server (course.forms.feedback): the test's printed rationale.
      rationale.innerHTML = item.html;
      entry.append(heading, rationale);
      list.appendChild(entry);
    }
    const close = document.createElement('button');
    close.type = 'button';
    close.textContent = 'Hide results';
    close.addEventListener('click', () => this.hide());
    const parts: HTMLElement[] = [];
    if (result.certainty) {
      const block = document.createElement('div');
      block.className = 'course-CheckResults-certainty';
      // Built and escaped on the server (course/certainty_feedback.py).
      block.innerHTML = result.certainty.html;
      block.querySelectorAll('a[href$=".ipynb"]').forEach(link =>
        link.addEventListener('click', event => {
          if (this.open) {
            event.preventDefault();
            this.open(link.getAttribute('href') ?? '');
          }
        })
      );
      parts.push(block);
    }
    this.body.replaceChildren(...parts, list, close);
  }

  /**
   * Show the region, tall for results, short for a message. The notebook's header is a
   * Lumino box layout that sizes its children by their CSS min-height: ask it to re-fit.
   */
  private display(tall: boolean): void {
    this.toggleClass('course-mod-tall', tall);
    this.show();
    this.parent?.fit();
  }

  private status: HTMLParagraphElement;
  private body: HTMLDivElement;
  private open?: (href: string) => void;
}

async function requestCheck(path: string): Promise<ICheckResult> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'course', 'check');
  const response = await ServerConnection.makeRequest(
    url,
    { method: 'POST', body: JSON.stringify({ path }) },
    settings
  );
  const data = (await response.json().catch(() => ({}))) as ICheckResult;
  if (!response.ok) {
    throw new Error(data.message ?? 'The check could not run.');
  }
  return data;
}

/** Add the toolbar button and the results region to a notebook with graded answers. */
export function addCheckButton(
  panel: NotebookPanel,
  openPath?: (path: string) => void
): void {
  const folder = PathExt.dirname(panel.context.path);
  const results = new CheckResults(
    openPath && (href => openPath(PathExt.resolve('/', folder, href)))
  );
  panel.contentHeader.addWidget(results);
  const button = new ToolbarButton({
    className: 'course-CheckButton',
    label: 'Check my answers',
    tooltip: 'Grade this notebook now and show the score and the rationales',
    onClick: async () => {
      results.working();
      try {
        await panel.context.save();
        results.result(await requestCheck(panel.context.path));
      } catch (error) {
        results.message(error instanceof Error ? error.message : String(error));
      }
    }
  });
  panel.toolbar.insertItem(10, 'course-check', button);
}
