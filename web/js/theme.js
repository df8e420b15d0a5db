// Light/dark: follows the system until a choice is made; the button cycles auto → light → dark.
const KEY = 'tcpscope.theme';
const MODES = ['auto', 'light', 'dark'];
const ICONS = { auto: '◐', light: '☀', dark: '☾' };

export function initTheme(button, icon, label) {
  const root = document.documentElement;
  const mq = matchMedia('(prefers-color-scheme: dark)');
  let mode = root.dataset.themeMode || 'auto';

  const apply = () => {
    const dark = mode === 'dark' || (mode === 'auto' && mq.matches);
    root.dataset.theme = dark ? 'dark' : 'light';
    root.dataset.themeMode = mode;
    icon.textContent = ICONS[mode];
    label.textContent = mode;
    button.setAttribute('aria-label', `Colour theme: ${mode === 'auto' ? `automatic (${root.dataset.theme})` : mode}. Change`);
  };
  button.addEventListener('click', () => {
    mode = MODES[(MODES.indexOf(mode) + 1) % MODES.length];
    try {
      if (mode === 'auto') localStorage.removeItem(KEY); else localStorage.setItem(KEY, mode);
    } catch { /* storage may be off; the choice lasts for this page */ }
    apply();
  });
  mq.addEventListener('change', apply);
  apply();
}
