// Recently closed connections: how long they stay in the table without ticking "Closed" (a choice
// remembered in this browser), and what the table says when everything it holds is hidden.
import { h } from './dom.js';
import { DEFAULT_RECENT_MS } from './filter.js';

const KEY = 'tcpscope.recentClosedS';
/** Seconds a closed connection stays in view; 0 hides closed ones at once, as before. */
export const RECENT_CHOICES_S = [0, 10, 30, 60, 300, 900];

function label(sec) {
  if (sec === 0) return 'off';
  return sec < 60 ? `${sec} s` : `${sec / 60} min`;
}

/** Fills the select, restores the stored choice; onChange() after the user picks another. */
export function initRecent(select, onChange) {
  for (const sec of RECENT_CHOICES_S) select.append(new Option(label(sec), String(sec)));
  let sec = DEFAULT_RECENT_MS / 1000;
  try {
    const stored = Number(localStorage.getItem(KEY));
    if (localStorage.getItem(KEY) !== null && RECENT_CHOICES_S.includes(stored)) sec = stored;
  } catch { /* storage may be off */ }
  select.value = String(sec);
  select.addEventListener('change', () => {
    try { localStorage.setItem(KEY, select.value); } catch { /* the choice lasts for this page */ }
    onChange();
  });
  return { ms: () => Number(select.value) * 1000 };
}

const DEFAULT_EMPTY = 'No connections yet. Traffic on the captured ports shows up here as it happens.';

/**
 * The empty table's words: what was seen and is hidden ("8 closed connections — show them", a button
 * that ticks "Closed"), or that the filters match nothing, or that nothing was seen yet.
 */
export function renderEmpty(el, { shown, hiddenClosed, total, onShowClosed }) {
  el.hidden = shown > 0;
  if (shown > 0) return;
  let key;
  let content;
  if (hiddenClosed > 0) {
    key = `closed:${hiddenClosed}`;
    content = () => h('button', {
      type: 'button', class: 'linkish', id: 'show-closed',
      text: `${hiddenClosed.toLocaleString('en-US')} closed connection${hiddenClosed === 1 ? '' : 's'} — show them`,
      onclick: onShowClosed,
    });
  } else if (total > 0) {
    key = 'nomatch';
    content = () => 'No connections match the filters.';
  } else {
    key = 'none';
    content = () => DEFAULT_EMPTY;
  }
  if (el.dataset.kind === key) return; // keep the button (and its focus) while nothing changes
  el.dataset.kind = key;
  el.replaceChildren(content());
}
