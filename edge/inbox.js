// Hooktray's always-on inbox: a Cloudflare Worker with one SQLite-backed Durable Object that
// keeps every webhook sent to /webhook/{id} while Hooktray is away, and hands them over, in
// order, when Hooktray connects over a WebSocket. A request is stored before it is answered; it
// is deleted only once Hooktray says it holds it. The same code runs on Cloudflare and, for
// tests and trying it out, under workerd (scripts/edge-local.sh).

import { DurableObject } from "cloudflare:workers";

// Body bytes per row: under the 2 MB row limit of SQLite in Durable Objects. A body up to this
// size stays in its request's row; a larger one is split into rows of chunks.
const CHUNK = 1_000_000;
const MAX_BODY = 25 << 20; // the most one request may carry, whatever the endpoint allows
const BATCH_REQUESTS = 256; // what one message to Hooktray holds at most…
const BATCH_BYTES = 4 << 20; // …in requests and in body bytes (a larger body goes alone)
const DEFAULT_CAP = { requests: 50_000, bytes: 1 << 30 };
const ID = /^[A-Za-z0-9_-]{1,64}$/;

export default {
  async fetch(request, env) {
    // One installation, one object: every request goes to it, so the sequence is one order.
    const inbox = env.INBOX.get(env.INBOX.idFromName("hooktray"));
    return inbox.fetch(request);
  },
};

export class Inbox extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS requests (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, endpoint TEXT NOT NULL, method TEXT NOT NULL,
        path TEXT NOT NULL, query TEXT NOT NULL, headers TEXT NOT NULL, size INTEGER NOT NULL,
        chunks INTEGER NOT NULL, remote TEXT NOT NULL, client_ip TEXT NOT NULL, arrived INTEGER NOT NULL,
        body BLOB);
      CREATE TABLE IF NOT EXISTS chunks (seq INTEGER NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL,
        PRIMARY KEY (seq, n));
      CREATE TABLE IF NOT EXISTS endpoints (id TEXT PRIMARY KEY, state TEXT NOT NULL,
        status INTEGER NOT NULL, content_type TEXT NOT NULL, body TEXT NOT NULL, body_limit INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);`);
  }

  // Cloudflare bills every row an SQL statement reads or writes (the free plan allows 5 million
  // read and 100,000 written a day), so what the inbox holds is counted in meta, never by a scan,
  // and a body that fits stays in its request's row: a webhook costs three rows written (kept,
  // counted, deleted) and a few read.

  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/webhook/")) return this.receive(request, url);
    if (url.pathname === "/hooktray/connect") return this.connect(request);
    if (url.pathname === "/hooktray/status") return this.statusPage(request);
    return text(404, "not found");
  }

  meta(k, fallback) {
    const row = this.sql.exec("SELECT v FROM meta WHERE k = ?", k).toArray()[0];
    return row ? JSON.parse(row.v) : fallback;
  }

  setMeta(k, v) {
    this.sql.exec("INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", k, JSON.stringify(v));
  }

  // receive keeps a webhook and answers as the endpoint says; it answers 2xx only for what it kept.
  async receive(request, url) {
    const id = url.pathname.slice("/webhook/".length);
    const ep = ID.test(id) ? this.sql.exec("SELECT * FROM endpoints WHERE id = ?", id).toArray()[0] : undefined;
    if (!ep) return text(404, "not found");
    if (ep.state === "deleted") return text(410, "this webhook endpoint was deleted");
    if (ep.state === "paused") return json(503, { error: "endpoint is paused" }, { "Retry-After": "60" });
    const limit = Math.min(ep.body_limit, MAX_BODY);
    const announced = Number(request.headers.get("Content-Length") || "0");
    if (announced > limit) return json(413, { error: `body of ${announced} bytes exceeds the endpoint's limit of ${limit} bytes` });
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.byteLength > limit) return json(413, { error: `body exceeds the endpoint's limit of ${limit} bytes` });
    const cap = this.meta("cap", DEFAULT_CAP);
    const held = this.counts();
    if (held.requests >= cap.requests || held.bytes + body.byteLength > cap.bytes) {
      // Full: refused, never answered 2xx, so the provider keeps it and retries.
      return json(507, { error: "the inbox is full until Hooktray drains it" }, { "Retry-After": "300" });
    }
    const headers = [...request.headers];
    const seq = this.ctx.storage.transactionSync(() => {
      const chunks = body.byteLength > CHUNK ? Math.ceil(body.byteLength / CHUNK) : 0;
      const row = this.sql.exec(`INSERT INTO requests (endpoint, method, path, query, headers, size, chunks, remote, client_ip, arrived, body)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`, id, request.method, url.pathname, url.search.slice(1),
        JSON.stringify(headers), body.byteLength, chunks, request.headers.get("CF-Connecting-IP") || "",
        request.headers.get("CF-Connecting-IP") || "", Date.now(), chunks === 0 ? body : null).one();
      for (let n = 0; n < chunks; n++) {
        this.sql.exec("INSERT INTO chunks (seq, n, data) VALUES (?, ?, ?)", row.seq, n, body.subarray(n * CHUNK, (n + 1) * CHUNK));
      }
      this.setMeta("held", { requests: held.requests + 1, bytes: held.bytes + body.byteLength });
      return row.seq;
    });
    this.pushTo(seq); // Hooktray, when connected and caught up, gets it at once
    const h = { "Content-Length": String(new TextEncoder().encode(ep.body).byteLength) };
    if (ep.content_type) h["Content-Type"] = ep.content_type;
    return new Response(ep.body, { status: ep.status, headers: h });
  }

  // counts is what the inbox holds, in requests and body bytes; counted once if never yet.
  counts() {
    let c = this.meta("held", null);
    if (!c) {
      const r = this.sql.exec("SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM requests").one();
      c = { requests: r.n, bytes: r.bytes };
      this.setMeta("held", c);
    }
    return c;
  }

  // held is counts and the oldest arrival (the first kept: sequences follow arrivals).
  held() {
    const first = this.sql.exec("SELECT arrived FROM requests ORDER BY seq LIMIT 1").toArray()[0];
    return { ...this.counts(), oldest: first ? first.arrived : null };
  }

  async authorized(request) {
    const given = (request.headers.get("Authorization") || "").replace(/^Bearer\s+/i, "");
    const want = this.env.HOOKTRAY_INBOX_SECRET || "";
    if (!want || !given) return false;
    // Compare digests, so that the comparison takes the same time whatever the lengths.
    const enc = new TextEncoder();
    const [a, b] = await Promise.all([crypto.subtle.digest("SHA-256", enc.encode(given)), crypto.subtle.digest("SHA-256", enc.encode(want))]);
    return crypto.subtle.timingSafeEqual(a, b);
  }

  async connect(request) {
    if (!(await this.authorized(request))) return text(401, "wrong inbox secret");
    if (request.headers.get("Upgrade") !== "websocket") return text(426, "connect with a WebSocket");
    for (const old of this.ctx.getWebSockets()) old.close(4000, "replaced by a newer connection");
    const pair = new WebSocketPair();
    // The hibernation API: an idle connection costs nothing; the state rides on the socket.
    this.ctx.acceptWebSocket(pair[1]);
    pair[1].serializeAttachment({ sent: -1, acked: -1 });
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  async statusPage(request) {
    if (!(await this.authorized(request))) return text(401, "wrong inbox secret");
    return json(200, { ...this.held(), connected: this.ctx.getWebSockets().length > 0 });
  }

  async webSocketMessage(ws, message) {
    let m;
    try {
      m = JSON.parse(typeof message === "string" ? message : new TextDecoder().decode(message));
    } catch {
      ws.close(4400, "not JSON");
      return;
    }
    const st = ws.deserializeAttachment();
    switch (m.type) {
      case "hello": // Hooktray holds everything up to m.held: the rest comes, in order
        this.forget(m.held);
        st.acked = st.sent = m.held;
        break;
      case "ack":
        if (m.seq > st.sent) return ws.close(4400, "acknowledged what was not sent");
        this.forget(m.seq);
        st.acked = m.seq;
        break;
      case "endpoints":
        this.setEndpoints(m.endpoints || [], m.cap);
        ws.send(JSON.stringify({ type: "endpoints_ok", count: (m.endpoints || []).length }));
        ws.serializeAttachment(st);
        return;
      default:
        return ws.close(4400, "unknown message");
    }
    ws.serializeAttachment(st);
    this.sendNext(ws, st);
  }

  async webSocketClose(ws, code) {
    try { ws.close(code, "closed"); } catch {}
  }

  forget(upTo) {
    this.ctx.storage.transactionSync(() => {
      const gone = this.sql.exec(`SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes, coalesce(max(chunks), 0) AS chunked
          FROM requests WHERE seq <= ?`, upTo).one();
      if (gone.n === 0) return;
      if (gone.chunked > 0) this.sql.exec("DELETE FROM chunks WHERE seq <= ?", upTo);
      this.sql.exec("DELETE FROM requests WHERE seq <= ?", upTo);
      const held = this.counts();
      this.setMeta("held", { requests: Math.max(0, held.requests - gone.n), bytes: Math.max(0, held.bytes - gone.bytes) });
    });
  }

  setEndpoints(list, cap) {
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM endpoints");
      for (const e of list) {
        if (!ID.test(e.id)) continue;
        this.sql.exec("INSERT INTO endpoints (id, state, status, content_type, body, body_limit) VALUES (?, ?, ?, ?, ?, ?)",
          e.id, e.state, e.status, e.content_type || "", e.body || "", e.body_limit);
      }
      if (cap && cap.requests > 0 && cap.bytes > 0) this.setMeta("cap", { requests: cap.requests, bytes: cap.bytes });
    });
  }

  // pushTo sends a request just stored to a connected Hooktray that holds everything before it.
  pushTo(seq) {
    for (const ws of this.ctx.getWebSockets()) {
      const st = ws.deserializeAttachment();
      if (st.sent >= 0 && st.sent === st.acked) this.sendNext(ws, st);
    }
  }

  // sendNext sends the next batch after what was sent, once the previous one is acknowledged.
  sendNext(ws, st) {
    if (st.sent !== st.acked) return; // one batch in flight at a time
    const rows = this.sql.exec(`SELECT seq, endpoint, method, path, query, headers, size, chunks, remote, client_ip, arrived
        FROM requests WHERE seq > ? ORDER BY seq LIMIT ?`, st.sent, BATCH_REQUESTS).toArray();
    if (rows.length === 0) {
      ws.send(JSON.stringify({ type: "idle", ...this.held() }));
      return;
    }
    const batch = [];
    const bodies = [];
    let bytes = 0;
    for (const r of rows) {
      if (batch.length > 0 && bytes + r.size > BATCH_BYTES) break;
      const parts = r.chunks === 0
        ? [new Uint8Array(this.sql.exec("SELECT body FROM requests WHERE seq = ?", r.seq).one().body || new ArrayBuffer(0))]
        : this.sql.exec("SELECT data FROM chunks WHERE seq = ? ORDER BY n", r.seq).toArray().map((c) => new Uint8Array(c.data));
      bodies.push(...parts);
      bytes += r.size;
      batch.push({ seq: r.seq, endpoint: r.endpoint, method: r.method, path: r.path, query: r.query,
        headers: JSON.parse(r.headers), size: r.size, remote: r.remote, client_ip: r.client_ip, arrived: r.arrived });
    }
    // One binary message: the batch as JSON, then the bodies one after another.
    const head = new TextEncoder().encode(JSON.stringify({ type: "batch", requests: batch, waiting: this.counts().requests }));
    const out = new Uint8Array(4 + head.byteLength + bytes);
    new DataView(out.buffer).setUint32(0, head.byteLength);
    out.set(head, 4);
    let at = 4 + head.byteLength;
    for (const b of bodies) {
      out.set(b, at);
      at += b.byteLength;
    }
    ws.send(out);
    st.sent = batch[batch.length - 1].seq;
    ws.serializeAttachment(st);
  }
}

function text(status, body) {
  return new Response(body, { status, headers: { "Content-Type": "text/plain; charset=utf-8" } });
}

function json(status, value, headers = {}) {
  return new Response(JSON.stringify(value), { status, headers: { "Content-Type": "application/json", ...headers } });
}
