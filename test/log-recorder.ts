import { DefaultLogger, type LogLevel, type LogMetadata, type Logger } from '@temporalio/worker';

export interface LogLine {
  level: LogLevel;
  message: string;
  meta?: LogMetadata;
}

/**
 * The test run's Runtime logger (Runtime.install takes one per process): it prints ERROR and above
 * like DefaultLogger('ERROR'), and while a recording is open keeps every line of every level, so a
 * test can assert what a real worker logged and at which level.
 */
export class RecordingLogger implements Logger {
  private readonly printer = new DefaultLogger('ERROR');
  private readonly recordings = new Set<LogLine[]>();

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    this.printer.log(level, message, meta);
    for (const lines of this.recordings) lines.push({ level, message, meta });
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }

  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }

  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }

  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }

  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }

  /** Runs `work` and returns what it returned with every line logged meanwhile. */
  async record<T>(work: () => Promise<T>): Promise<{ result: T; lines: LogLine[] }> {
    const lines: LogLine[] = [];
    this.recordings.add(lines);
    try {
      return { result: await work(), lines };
    } finally {
      this.recordings.delete(lines);
    }
  }
}
