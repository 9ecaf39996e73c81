/** Where in an input file a problem is. Lines and columns are 1-based. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** One problem in operator input: where it is, what is wrong, what to write instead. */
export interface ConfigProblem {
  position?: SourcePosition;
  message: string;
  /** What to write instead, e.g. 'did you mean `hosts`?'. */
  hint?: string;
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.position ? `${p.position.file}:${p.position.line}:${p.position.column}: ` : '';
  return `${where}${p.message}${p.hint ? `. ${p.hint}` : ''}`;
}

/** Bad operator input, found before any host is touched. Lists every problem found, not just the first. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}
