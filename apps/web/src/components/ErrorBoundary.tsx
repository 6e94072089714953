import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  children: ReactNode;
}

interface State {
  error: Error | null;
}

/** A render error shows what broke instead of an empty page; other pages stay usable. */
export class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error('page crashed:', error, info.componentStack);
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="error" role="alert">
        <strong className="error-title">This page crashed while rendering</strong>
        <p className="error-summary">{this.state.error.message}</p>
        <p className="error-hint">
          The browser console has the stack trace. <a href="/">Back to the start page</a> or{' '}
          <button type="button" className="link" onClick={() => window.location.reload()}>
            reload
          </button>
          .
        </p>
      </div>
    );
  }
}
