// Step-by-step progress of long operations; the CLI prints it, tests collect it.
export interface StepReport {
  label: string;
  ms: number;
}

export interface Reporter {
  step(report: StepReport): void;
  note(message: string): void;
}

export const silentReporter: Reporter = { step: () => {}, note: () => {} };

export function collectingReporter(): Reporter & { steps: StepReport[]; notes: string[] } {
  const steps: StepReport[] = [];
  const notes: string[] = [];
  return { steps, notes, step: (s) => steps.push(s), note: (n) => notes.push(n) };
}

/** Run fn and report it as one step; the label may depend on fn's result. */
export async function timed<T>(reporter: Reporter, label: string | ((r: T) => string), fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await fn();
  reporter.step({ label: typeof label === 'string' ? label : label(result), ms: performance.now() - start });
  return result;
}
