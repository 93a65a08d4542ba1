// Server-Sent Events frames, parsed as the HTML standard's EventSource parses them: the page reads the
// stream with fetch() (EventSource cannot send the Authorization header, and the secret never goes in a
// URL), so it parses the frames itself. No I/O here: text in, events out.

export class SseParser {
  constructor() {
    this.buffer = "";
    this.reset();
    this.lastEventId = "";
    this.retry = null; // the server's reconnection time in ms, once it sent one
  }

  reset() {
    this.type = "";
    this.data = [];
    this.hasData = false;
    this.id = null;
  }

  // Feeds a chunk of decoded text; answers the events it completed, each {type, data, id}.
  feed(text) {
    this.buffer += text;
    const events = [];
    let start = 0;
    for (;;) {
      const end = this.buffer.slice(start).search(/\r\n|\r|\n/);
      if (end < 0) break;
      const at = start + end;
      // A CR at the very end may be the first half of a CRLF still on its way: wait for the next chunk.
      if (this.buffer[at] === "\r" && at + 1 === this.buffer.length) break;
      const width = this.buffer.startsWith("\r\n", at) ? 2 : 1;
      const event = this.line(this.buffer.slice(start, at));
      if (event) events.push(event);
      start = at + width;
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  line(line) {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null; // a comment: the keep-alive
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.type = value;
    else if (field === "data") {
      this.data.push(value);
      this.hasData = true;
    } else if (field === "id") {
      if (!value.includes("\0")) this.id = value;
    } else if (field === "retry") {
      if (/^\d+$/.test(value)) this.retry = Number(value);
    }
    return null;
  }

  dispatch() {
    // The id takes effect when its event is dispatched, whether or not the event carries data.
    if (this.id !== null) this.lastEventId = this.id;
    const event = this.hasData
      ? { type: this.type || "message", data: this.data.join("\n"), id: this.lastEventId }
      : null;
    this.reset();
    return event;
  }
}
