// The relying party's redirect_uri endpoint for the openid-client tests: a tiny HTTP server on a
// free 127.0.0.1 port that records every request it gets and answers 200, so that the browser
// really goes back to the RP and the test reads the code, state and iss from what arrived.
import http from 'node:http';

export class CallbackServer {
  constructor() {
    this.requests = [];
    this.server = http.createServer((req, res) => {
      this.requests.push({ method: req.method, url: `${this.base}${req.url}`, headers: req.headers });
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
      res.end('callback received\n');
    });
  }

  start() {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.port = this.server.address().port;
        this.base = `http://127.0.0.1:${this.port}`;
        resolve(this);
      });
    });
  }

  uri(pathname) {
    return `${this.base}${pathname}`;
  }

  // The last request whose path is `pathname`.
  last(pathname) {
    for (let i = this.requests.length - 1; i >= 0; i--) {
      if (new URL(this.requests[i].url).pathname === pathname) return this.requests[i];
    }
    return undefined;
  }

  stop() {
    return new Promise((resolve) => {
      this.server.closeAllConnections?.();
      this.server.close(() => resolve());
    });
  }
}
