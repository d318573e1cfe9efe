import { byId } from './dom.js';

/** The one visible error banner: every failure a user can cause ends here, never in a blank page. */
export function showError(context: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  const banner = byId('error');
  banner.textContent = `${context}: ${message}`;
  banner.hidden = false;
  console.error(context, error);
}

export function clearError(): void {
  const banner = byId('error');
  banner.textContent = '';
  banner.hidden = true;
}

/** Runs `task`, reporting a failure in the banner under `context`; resolves to undefined on failure. */
export async function reportingErrors<T>(context: string, task: () => Promise<T>): Promise<T | undefined> {
  try {
    const value = await task();
    clearError();
    return value;
  } catch (error) {
    showError(context, error);
    return undefined;
  }
}
