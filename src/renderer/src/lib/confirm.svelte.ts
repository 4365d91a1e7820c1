/**
 * The app's confirmation: an in-app dialog (ConfirmDialog, mounted once by App) instead of the
 * browser's confirm(), which Electron draws as a bare native box and tests cannot look at.
 */
export interface Ask {
  title: string;
  text: string;
  /** The button that goes ahead ("Delete run"). */
  action: string;
  resolve: (ok: boolean) => void;
}

export const pending = $state<{ ask: Ask | null }>({ ask: null });

/** Resolves true when the user confirms; false on Cancel, Esc or a click outside. */
export function ask(title: string, text: string, action: string): Promise<boolean> {
  pending.ask?.resolve(false);
  return new Promise((resolve) => {
    pending.ask = { title, text, action, resolve };
  });
}

export function answer(ok: boolean): void {
  const a = pending.ask;
  pending.ask = null;
  a?.resolve(ok);
}
