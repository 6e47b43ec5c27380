// Live events from `GET /api/events/stream` through an EventSource.
//
// - It starts after the last event the page already has (`after=`), so nothing is missed between
//   loading the page and going live.
// - When the connection drops, the browser reconnects by itself and sends `Last-Event-ID`; the
//   daemon resumes right after it. If the browser gives up (the daemon answered with an error),
//   this module reconnects with `after=<last seq seen>`.
// - Every event is handed out once: anything at or below the last sequence number seen is
//   dropped (and counted), whatever the server sends.
// - After any reconnection it fires `resync`, so that pages fetch the board again.

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10000;

export class Live extends EventTarget {
  constructor() {
    super();
    this.lastSeq = 0;
    this.state = 'connecting';
    this.source = null;
    this.retryMs = RETRY_MIN_MS;
    this.everOpen = false;
    this.down = false;
    this.stats = { received: 0, delivered: 0, duplicates: 0, reconnects: 0 };
  }

  /** Goes live after sequence number `after`. */
  start(after) {
    this.lastSeq = Number(after) || 0;
    this.connect();
  }

  /** Stops for good (the daemon wants a token this page does not have). */
  stop() {
    this.stopped = true;
    if (this.source) this.source.close();
    this.source = null;
    this.setState('stopped');
  }

  connect() {
    if (this.stopped) return;
    if (this.source) this.source.close();
    const source = new EventSource(`api/events/stream?plain=1&after=${this.lastSeq}`);
    this.source = source;
    source.onopen = () => {
      this.retryMs = RETRY_MIN_MS;
      const again = this.everOpen && this.down;
      this.everOpen = true;
      this.down = false;
      this.setState('live');
      if (again) {
        this.stats.reconnects += 1;
        this.dispatchEvent(new Event('resync'));
      }
    };
    source.onmessage = (message) => this.receive(message);
    source.onerror = () => {
      this.down = true;
      this.setState('reconnecting');
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up on this one: start a new one where we are.
        source.close();
        const wait = this.retryMs;
        this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
        setTimeout(() => { if (this.source === source) this.connect(); }, wait);
      }
    };
  }

  receive(message) {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch (_) {
      return;
    }
    this.stats.received += 1;
    if (typeof event.seq !== 'number' || event.seq <= this.lastSeq) {
      this.stats.duplicates += 1;
      return;
    }
    this.lastSeq = event.seq;
    this.stats.delivered += 1;
    this.dispatchEvent(new CustomEvent('event', { detail: event }));
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: state }));
  }
}
