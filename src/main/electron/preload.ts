import { contextBridge } from 'electron';

// The renderer's only door to the core; the typed API contract arrives with the desktop issue.
contextBridge.exposeInMainWorld('fooling', { version: '0.1.0' });
