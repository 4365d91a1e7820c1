import { errorMessage } from './api';

/** App-wide messages: errors stay until dismissed (so nothing is missed), notes fade after a while. */
export interface Toast {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

export const toasts = $state<Toast[]>([]);
let next = 1;

export function dismiss(id: number): void {
  const i = toasts.findIndex((t) => t.id === id);
  if (i >= 0) toasts.splice(i, 1);
}

export function notify(text: string, kind: Toast['kind'] = 'info'): void {
  const id = next++;
  toasts.push({ id, kind, text });
  // Keep the stack short: an endless loop of failures must not bury the app.
  while (toasts.length > 5) toasts.shift();
  if (kind === 'info') setTimeout(() => dismiss(id), 6000);
}

export function notifyError(e: unknown, context?: string): void {
  notify(context ? `${context}: ${errorMessage(e)}` : errorMessage(e), 'error');
}

/** Runs `f`; on failure shows the message and resolves to undefined, so callers just check the value. */
export async function attempt<T>(f: () => Promise<T>, context?: string): Promise<T | undefined> {
  try {
    return await f();
  } catch (e) {
    notifyError(e, context);
    return undefined;
  }
}

/** Clears the error messages (on navigation: an error belongs to the page it happened on). */
export function clearErrors(): void {
  for (let i = toasts.length - 1; i >= 0; i--) if (toasts[i].kind === 'error') toasts.splice(i, 1);
}
