/**
 * mesotherapy-course-forms: every code cell whose metadata carries `course.answer`
 * (written by `python -m course.forms migrate`) shows a form in place of its editor.
 * Choosing writes one canonical source line into the cell, then runs the cell and the
 * check cell(s) after it; "Show code" brings the editor back, and what is typed there
 * shows in the form. nbgrader sees ordinary code.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Cell, CodeCell } from '@jupyterlab/cells';
import {
  INotebookTracker,
  NotebookActions,
  NotebookPanel
} from '@jupyterlab/notebook';
import { PanelLayout } from '@lumino/widgets';

import { AnswerValue, IAnswerSpec, answerSource } from './answer';
import { addCheckButton } from './check';
import { AnswerForm } from './form';
import { OptionsOnce } from './options';

const SEEN = new WeakSet<Cell>();
const FORMS = new WeakMap<Cell, AnswerForm>();
/** Each form's watch over its stem's option lists (hidden while the form shows them). */
const ONCE = new WeakMap<Cell, OptionsOnce>();

function answerSpec(cell: Cell): IAnswerSpec | null {
  const course = cell.model.getMetadata('course') as
    | { answer?: IAnswerSpec }
    | undefined;
  const spec = course?.answer;
  return spec && typeof spec.name === 'string' && spec.kind ? spec : null;
}

function outputText(cell: Cell): string {
  if (!(cell instanceof CodeCell)) {
    return '';
  }
  const lines: string[] = [];
  const outputs = cell.model.outputs;
  for (let i = 0; i < outputs.length; i++) {
    const output = outputs.get(i).toJSON() as {
      output_type: string;
      text?: string | string[];
      evalue?: string;
    };
    if (output.output_type === 'stream' && output.text) {
      lines.push(Array.isArray(output.text) ? output.text.join('') : output.text);
    } else if (output.output_type === 'error') {
      lines.push(output.evalue ?? 'The check did not run.');
    }
  }
  return lines.join(' ').replace(/\s+/g, ' ').trim();
}

/**
 * The cells that have run in each notebook's current kernel. A saved execution count
 * says nothing about the kernel now running (a restart, a reopened notebook, a new
 * kernel): this set is emptied whenever the kernel restarts or changes.
 */
const RAN = new WeakMap<NotebookPanel, WeakSet<Cell>>();

function ranInKernel(panel: NotebookPanel): WeakSet<Cell> {
  let ran = RAN.get(panel);
  if (!ran) {
    ran = new WeakSet<Cell>();
    RAN.set(panel, ran);
    const forget = () => RAN.set(panel, new WeakSet<Cell>());
    panel.sessionContext.kernelChanged.connect(forget);
    panel.sessionContext.statusChanged.connect((_, status) => {
      if (status === 'restarting' || status === 'autorestarting' || status === 'dead') {
        forget();
      }
    });
  }
  return ran;
}

/** The locked set-up cells (imports) that have not run in this kernel yet. */
function pendingSetup(panel: NotebookPanel, before: number): CodeCell[] {
  const ran = ranInKernel(panel);
  return panel.content.widgets.slice(0, before).filter((cell): cell is CodeCell => {
    const nbgrader = cell.model.getMetadata('nbgrader') as
      | { locked?: boolean; grade?: boolean; solution?: boolean }
      | undefined;
    return (
      cell instanceof CodeCell &&
      !!nbgrader?.locked &&
      !nbgrader.grade &&
      !nbgrader.solution &&
      !ran.has(cell)
    );
  });
}

async function runAnswer(panel: NotebookPanel, cell: CodeCell, form: AnswerForm): Promise<void> {
  const notebook = panel.content;
  const index = notebook.widgets.indexOf(cell);
  const setup = pendingSetup(panel, index);
  if (setup.length) {
    form.announce('Running the set-up cell first (the kernel has not run it yet)…');
  }
  for (const each of setup) {
    const reply = await CodeCell.execute(each, panel.sessionContext);
    if (reply?.content.status !== 'ok') {
      form.announce(
        'The set-up cell at the top of the notebook stopped with an error: run it ' +
          '(Shift+Enter), then choose your answer again.'
      );
      return;
    }
    ranInKernel(panel).add(each);
  }
  const checks = Math.max(1, form.spec.checks ?? 1);
  const cells = [cell, ...notebook.widgets.slice(index + 1, index + 1 + checks)];
  let said = '';
  for (const each of cells) {
    if (each instanceof CodeCell) {
      await CodeCell.execute(each, panel.sessionContext);
      if (each !== cell) {
        said = said || outputText(each);
      }
    }
  }
  form.announce(said || 'Answer saved in the cell.');
}

/** Whether a cell, with its editor's wrapper (the form's place), is on the page. */
function onPage(cell: Cell): boolean {
  const wrapper = cell.inputArea?.parent?.node ?? cell.node;
  return cell.node.isConnected && wrapper.isConnected;
}

/**
 * Move the keyboard focus from `cell`'s form to the next (or previous) form when the
 * notebook's windowing has taken it, or a cell in between, off the page (windowingMode
 * "full" attaches only the cells in view): Tab would leave the notebook instead. When
 * every cell in between is on the page, the browser's own Tab order (which also reaches
 * links in the text between the forms) is kept. Returns whether it moves the focus.
 */
function leaveForm(panel: NotebookPanel, cell: Cell, forward: boolean): boolean {
  const notebook = panel.content;
  const index = notebook.widgets.indexOf(cell);
  if (index < 0) {
    return false;
  }
  const ahead = forward
    ? notebook.widgets.slice(index + 1)
    : notebook.widgets.slice(0, index).reverse();
  const reach = ahead.findIndex(each => answerSpec(each) !== null);
  if (reach < 0 || ahead.slice(0, reach + 1).every(onPage)) {
    return false;
  }
  const target = ahead[reach];
  // The focus stays where it is until the form is on the page (or if it never comes).
  (async () => {
    await notebook.scrollToItem(notebook.widgets.indexOf(target), 'center');
    await target.ready;
    for (let frame = 0; frame < 120 && !FORMS.get(target)?.node.isConnected; frame++) {
      await new Promise(resolve => requestAnimationFrame(resolve));
    }
    const form = FORMS.get(target);
    if (forward) {
      form?.focusFirst();
    } else {
      form?.focusLast();
    }
  })().catch(() => undefined);
  return true;
}

function attach(panel: NotebookPanel, cell: Cell): void {
  if (SEEN.has(cell) || !(cell instanceof CodeCell)) {
    return;
  }
  const spec = answerSpec(cell);
  if (!spec) {
    return;
  }
  SEEN.add(cell);
  let writing = false;
  // One check at a time per form, and only the latest answer's: arrows in a radio group
  // or quick clicks must not run the same cells concurrently (a second run cancels the
  // first one's reply, and the status line would tell the wrong result).
  let queue: Promise<void> = Promise.resolve();
  let latest = 0;
  const showCode = (show: boolean) => {
    cell.inputArea?.setHidden(!show);
    cell.toggleClass('course-mod-codeShown', show);
  };
  const form = new AnswerForm(spec, {
    answer: (value: AnswerValue, certainty: string | null) => {
      writing = true;
      cell.model.sharedModel.setSource(answerSource(spec, value, certainty));
      writing = false;
      const ticket = ++latest;
      queue = queue
        .then(() => (ticket === latest ? runAnswer(panel, cell, form) : undefined))
        .catch(reason => {
          form.announce(`The check could not run: ${reason}`);
        });
    },
    toggleCode: showCode,
    leave: (forward: boolean) => leaveForm(panel, cell, forward)
  });
  FORMS.set(cell, form);
  // What the cell holds shows before the form is on the page: its status region (an
  // aria-live region) then says nothing on load, only about later changes.
  form.showSource(cell.model.sharedModel.getSource());
  const layout = cell.layout as PanelLayout;
  const wrapper = cell.inputArea?.parent;
  const at = wrapper ? layout.widgets.indexOf(wrapper) : 0;
  layout.insertWidget(at + 1, form);
  cell.addClass('course-mod-answerCell');
  showCode(false);
  // Say it once: the stem's option list is hidden while this form shows its options.
  const once = new OptionsOnce(panel, cell, () => form.shownOptions(), spec.name);
  ONCE.set(cell, once);
  const sourceChanged = () => {
    if (!writing) {
      form.showSource(cell.model.sharedModel.getSource());
    }
  };
  cell.model.contentChanged.connect(sourceChanged);
  // The form goes (and the stem's list comes back) with its cell, or with its metadata.
  const remove = () => {
    once.dispose();
    ONCE.delete(cell);
    FORMS.delete(cell);
    SEEN.delete(cell);
    if (!cell.isDisposed) {
      cell.disposed.disconnect(remove);
      cell.model.contentChanged.disconnect(sourceChanged);
      cell.model.metadataChanged.disconnect(metadataChanged);
      showCode(true);
      cell.removeClass('course-mod-answerCell');
      cell.removeClass('course-mod-codeShown');
    }
    if (!form.isDisposed) {
      form.dispose();
    }
  };
  const metadataChanged = () => {
    if (!answerSpec(cell)) {
      remove();
    }
  };
  cell.model.metadataChanged.connect(metadataChanged);
  cell.disposed.connect(remove);
}

function scan(panel: NotebookPanel): void {
  for (const cell of panel.content.widgets) {
    void cell.ready.then(() => attach(panel, cell));
    // The cells around a form may have changed: find its stem again.
    ONCE.get(cell)?.refresh();
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'mesotherapy-course-forms:plugin',
  description: 'Answer forms for the mesotherapy course notebooks.',
  autoStart: true,
  requires: [INotebookTracker],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker) => {
    // Cells the learner runs (Run All, Shift+Enter) count as run in the current kernel.
    NotebookActions.executed.connect((_, { notebook, cell, success }) => {
      const panel = tracker.find(p => p.content === notebook);
      if (panel && success) {
        ranInKernel(panel).add(cell);
      }
    });
    tracker.widgetAdded.connect((_, panel) => {
      void panel.context.ready.then(() => {
        const graded = panel.content.widgets.some(cell => {
          const spec = answerSpec(cell);
          return !!spec && !spec.practice;
        });
        if (graded) {
          addCheckButton(panel, path => {
            void app.commands.execute('docmanager:open', { path });
          });
        }
        scan(panel);
        panel.content.model?.cells.changed.connect(() =>
          requestAnimationFrame(() => scan(panel))
        );
      });
    });
  }
};

export default plugin;
