import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Opens `url` in the user's browser: the program named by $BROWSER when set (the convention of
 * Python's webbrowser, Vite and xdg-open; "%s" in it stands for the URL), else the system's
 * default browser through the `open` package (xdg-open, open, start). Resolves with the reason
 * when no browser could be started, so that the caller can say "open it yourself".
 */
export async function openInBrowser(url: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const browser = env.BROWSER?.trim();
  try {
    if (browser) {
      // A path to a program (spaces allowed, as in "C:\Program Files\..."), else a command line.
      const parts = existsSync(browser) ? [browser] : browser.split(/\s+/);
      const args = parts.slice(1).some((p) => p.includes('%s')) ? parts.slice(1).map((p) => p.replace('%s', url)) : [...parts.slice(1), url];
      await new Promise<void>((done, fail) => {
        const child = spawn(parts[0], args, { stdio: 'ignore', detached: true });
        child.once('error', fail);
        child.once('spawn', () => {
          child.unref();
          done();
        });
      });
    } else {
      // Loaded when needed: every `fool` command loads this module, few open a browser.
      const { default: open } = await import('open');
      await open(url);
    }
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
