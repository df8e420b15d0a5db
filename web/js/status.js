// The header: where packets come from, and the state of the live stream.
import { bytes, int } from './format.js';

export class StatusBar {
  constructor({ status, statusText, sourceText, progress, notice }) {
    Object.assign(this, { status, statusText, sourceText, progress, notice });
    this.retryTimer = null;
    this.noticeTimer = null;
  }

  /** s: { state: 'connecting'|'live'|'reconnecting', attempt, retryAt } */
  setLink(s) {
    clearInterval(this.retryTimer);
    this.retryTimer = null;
    this.status.dataset.state = s.state;
    if (s.state === 'live') this.statusText.textContent = 'live';
    else if (s.state === 'connecting') this.statusText.textContent = 'connecting…';
    else {
      const tick = () => {
        const left = s.retryAt ? Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000)) : 0;
        this.statusText.textContent = left > 0 ? `reconnecting… (retry in ${left} s)` : 'reconnecting…';
      };
      tick();
      if (s.retryAt) this.retryTimer = setInterval(tick, 500);
    }
  }

  setSource(src) {
    if (!src) return;
    if (src.kind === 'live') {
      const parts = [`${src.demo ? 'demo, live' : 'live'} on ${src.iface}`, src.filter ? `filter “${src.filter}”` : null, `${int(src.frames)} packets`];
      if (src.dropped) parts.push(`${int(src.dropped)} dropped by the kernel`);
      this.sourceText.textContent = parts.filter(Boolean).join(' · ');
      this.progress.hidden = true;
    } else if (src.kind === 'file') {
      const name = src.path === '-' ? 'standard input' : src.path;
      const fmt = [src.format, src.gzip ? 'gzip' : null].filter(Boolean).join(', ');
      let text = `file ${name}${fmt ? ` (${fmt})` : ''} · speed ${src.speed} · ${int(src.frames)} packets`;
      if (src.error) text += ` · stopped: ${src.error.message}`;
      else if (src.done) text += ' · finished';
      else if (src.totalBytes) text += ` · ${Math.floor((100 * src.bytesRead) / src.totalBytes)}%`;
      else text += ` · ${bytes(src.bytesRead)} read`;
      this.sourceText.textContent = text;
      const showBar = !src.done && !!src.totalBytes;
      this.progress.hidden = !showBar;
      if (showBar) this.progress.value = src.bytesRead / src.totalBytes;
    }
    this.sourceText.title = this.sourceText.textContent;
  }

  flash(text, msFor = 6000) {
    clearTimeout(this.noticeTimer);
    this.notice.textContent = text;
    this.notice.hidden = false;
    this.noticeTimer = setTimeout(() => { this.notice.hidden = true; }, msFor);
  }

  /** A short "lagged" mark beside the live dot, so a reader knows a resync happened. */
  lagged(dropped) {
    this.status.dataset.state = 'lagged';
    this.statusText.textContent = `live — resynced after ${int(dropped)} dropped events`;
    this.flash(`The page fell behind and ${int(dropped)} events were dropped; it has resynchronised from the server.`);
    setTimeout(() => {
      if (this.status.dataset.state === 'lagged') { this.status.dataset.state = 'live'; this.statusText.textContent = 'live'; }
    }, 6000);
  }
}
