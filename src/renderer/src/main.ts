import { mount } from 'svelte';
import App from './App.svelte';
import { notifyError } from './lib/toast.svelte';
import './app.css';

// A failure nobody caught still reaches the user as a message; the app keeps running.
window.addEventListener('unhandledrejection', (e) => notifyError(e.reason));
window.addEventListener('error', (e) => notifyError(e.error ?? e.message));

const target = document.getElementById('app');
if (!target) throw new Error('#app is missing from index.html');
export default mount(App, { target });
