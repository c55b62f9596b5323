import type { AppError } from './errors';

/** An error shown next to what caused it: what happened, and what to do next. */
export function ErrorNotice({
  error,
  testId,
  onDismiss,
  children,
}: {
  error: AppError;
  testId: string;
  onDismiss?: () => void;
  children?: React.ReactNode;
}) {
  return (
    <div className="notice notice--error" role="alert" data-testid={testId} data-error-code={error.code}>
      <p className="notice__title">{error.title}</p>
      {error.message !== error.title && <p className="notice__message">{error.message}</p>}
      {error.hint && <p className="notice__hint">{error.hint}</p>}
      {children}
      {onDismiss && (
        <button type="button" className="button button--quiet" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  );
}
