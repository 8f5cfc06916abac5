# Duplex: HTTP and WebSocket, every byte shown.
# `just` lists these recipes; each is one cargo command, so you can also copy it and run it.

# List the recipes
default:
    @just --list --unsorted

# Build the book and serve it with its live demos at http://127.0.0.1:3000 (= cargo run)
book *ARGS:
    cargo run -q -p duplex -- {{ARGS}}

# Run every test: unit, property, snapshot and book checks (= cargo test --workspace)
test:
    cargo test --workspace

# Chapter "Request and response": two short polls on one keep-alive connection, then one per connection
http-poll:
    cargo run -q -p http-polling --bin http-polling-demo -- http-poll

# Chapter "Request and response": a long poll answered by a publish, and one that times out (204)
long-poll:
    cargo run -q -p http-polling --bin http-polling-demo -- long-poll

# Chapter "Request and response": an event stream, a dropped connection, and the resume with Last-Event-ID
sse:
    cargo run -q -p http-polling --bin http-polling-demo -- sse

# Chapter "Request and response": the same feed over a WebSocket, one handshake, then a small frame per message
ws-feed:
    cargo run -q -p http-polling --bin http-polling-demo -- ws-feed

# Chapter "Request and response": the feed by short polls, long polls, SSE and WebSocket, measured into the book (~30 s; --out DIR writes elsewhere; --help for flags)
compare-transports *ARGS:
    cargo run -q --release -p bench --bin compare-transports -- --out book/src/request-response/measured {{ARGS}}

# The feed server alone at http://127.0.0.1:3002 (try `curl -N http://127.0.0.1:3002/events`)
feed-server *ARGS:
    cargo run -q -p http-polling --bin http-poll-server -- {{ARGS}}

# A client of the feed server: `just feed-client sse`, `short`, `long`, or `--publish TEXT` (--help for flags)
feed-client *ARGS:
    cargo run -q -p http-polling --bin http-poll-client -- {{ARGS}}

# Chapter "Socket versus WebSocket": a raw TCP echo through the Tap; three writes in one read, one write in three
tcp-echo:
    cargo run -q -p tcp-socket --bin tcp-socket-demo -- tcp-echo

# Chapter "Socket versus WebSocket": newline and length-prefix framing, decoders fed awkward reads
tcp-framing:
    cargo run -q -p tcp-socket --bin tcp-socket-demo -- tcp-framing

# Chapter "Socket versus WebSocket": a WebSocket server built by hand; a client that forgets to mask
ws-by-hand:
    cargo run -q -p ws-by-hand --bin ws-by-hand-demo -- ws-by-hand

# The TCP echo alone on 127.0.0.1:7007, e.g. `just tcp-echo-server --framing lines` (then `nc 127.0.0.1 7007`)
tcp-echo-server *ARGS:
    cargo run -q -p tcp-socket --bin tcp-echo-server -- {{ARGS}}

# Send messages to the TCP echo, e.g. `just tcp-echo-client --framing length-prefixed hello`
tcp-echo-client *ARGS:
    cargo run -q -p tcp-socket --bin tcp-echo-client -- {{ARGS}}

# The by-hand WebSocket server alone at ws://127.0.0.1:9002/ws/echo (add --deflate to accept compression)
ws-by-hand-server *ARGS:
    cargo run -q -p ws-by-hand --bin ws-by-hand-server -- {{ARGS}}

# Chapter "Compression": permessage-deflate by hand: the browser's offer, the 101 that accepts it, compressed frames (add --no-context-takeover)
ws-deflate *ARGS:
    cargo run -q -p ws-by-hand --bin ws-by-hand-demo -- ws-deflate {{ARGS}}

# Fuzz the frame decoder and the by-hand server's session for SECONDS each (not in CI; see fuzz/README.md)
fuzz SECONDS="60":
    cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run frame_decoder -- -max_total_time={{SECONDS}}
    cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run session -- -max_total_time={{SECONDS}}

# Chapter "The WebSocket echo": server, Tap and client, every byte printed live
ws-echo:
    cargo run -q -p ws-echo --bin ws-echo-demo -- ws-echo

# The echo server alone at ws://127.0.0.1:9001/ws/echo (add --blocking for a thread per connection)
ws-echo-server *ARGS:
    cargo run -q -p ws-echo --bin ws-echo-server -- {{ARGS}}

# Talk to an echo from the terminal, e.g. `just ws-echo-client ws://127.0.0.1:3000/ws/echo hello`
ws-echo-client *ARGS:
    cargo run -q -p ws-echo --bin ws-echo-client -- {{ARGS}}

# Chapter "One port": pages, sign-in and the browser client at http://127.0.0.1:3004, the WebSocket on the same port (--tls adds wss://, --unchecked skips the upgrade's checks)
one-port *ARGS:
    cargo run -q -p one-port --bin one-port -- {{ARGS}}

# Chapter "One port": an HTTP request and an upgrade on one connection, through the Tap; the upgrade skips the middleware
one-port-demo:
    cargo run -q -p one-port --bin one-port-demo -- one-port

# Chapter "One port": the same WebSocket over wss://, a Tap outside TLS and one inside, the client trusting the generated certificate
wss:
    cargo run -q -p one-port --bin one-port-demo -- wss

# Chapter "One port": a real browser (headless Chromium via chromedriver) drives the pages; needs the Debian packages chromium and chromium-driver
test-browser:
    cargo test -p duplex-tests --test browser --test beyond_browser --test compression_browser -- --ignored

# Chapter "Heartbeat": a ping every second, answered; `just heartbeat --blackhole` kills the path and shows who notices
heartbeat *ARGS:
    cargo run -q -p heartbeat --bin heartbeat-demo -- heartbeat {{ARGS}}

# Chapter "Heartbeat": every way a connection ends (1000, 1001, 1002, 1009, 1006, idle), each through the Tap
endings:
    cargo run -q -p heartbeat --bin heartbeat-demo -- endings

# The pinging echo alone at ws://127.0.0.1:9004/ws/heartbeat (try --interval 1 --missed 2 --idle-timeout 30)
heartbeat-server *ARGS:
    cargo run -q -p heartbeat --bin heartbeat-server -- {{ARGS}}

# A client that prints the server's pings and gives up on a silent server (--interval must match)
heartbeat-client *ARGS:
    cargo run -q -p heartbeat --bin heartbeat-client -- {{ARGS}}

# Chapter "Behind a reverse proxy": every exchange below through a real nginx, a Tap on each side (needs the Debian package nginx)
proxy:
    cargo run -q -p proxy --bin proxy-demo -- proxy

# Chapter "Behind a reverse proxy": the upgrade through nginx: its defaults (400), proxy_http_version 1.1 alone (426), forwarded (101)
proxy-upgrade:
    cargo run -q -p proxy --bin proxy-demo -- proxy-upgrade

# Chapter "Behind a reverse proxy": proxy_read_timeout 2s cuts an idle WebSocket (1006); pings from either side keep it open
proxy-timeout:
    cargo run -q -p proxy --bin proxy-demo -- proxy-timeout

# Chapter "Behind a reverse proxy": X-Forwarded-For appended and forged; the Origin check against the Host nginx sends
proxy-headers:
    cargo run -q -p proxy --bin proxy-demo -- proxy-headers

# Chapter "Behind a reverse proxy": Server-Sent Events through nginx, buffered and not
proxy-sse:
    cargo run -q -p proxy --bin proxy-demo -- proxy-sse

# Chapter "Behind a reverse proxy": the tests that run nginx (needs the Debian package nginx)
test-proxy:
    cargo test -p duplex-tests --test proxy -- --ignored

# Chapter "After HTTP/1.1": a page, a WebSocket (extended CONNECT, RFC 8441) and another request on one HTTP/2 connection, every frame shown
h2-websocket:
    cargo run -q -p beyond --bin beyond-demo -- h2-websocket

# Chapter "After HTTP/1.1": a lost segment of a picture holds up the WebSocket on the same HTTP/2 connection, not one on its own (simulated)
h2-head-of-line:
    cargo run -q -p beyond --bin beyond-demo -- h2-head-of-line

# The HTTP/2 server alone at http://127.0.0.1:9010 (cleartext, try `curl --http2-prior-knowledge http://127.0.0.1:9010/hello.txt`; --tls for a browser)
h2-websocket-server *ARGS:
    cargo run -q -p beyond --bin h2-websocket-server -- {{ARGS}}

# Chapter "When clients misbehave": 500 clients at once (garbage, stalls, drops, deaf) against every server, with its memory (~15 s)
robustness:
    cargo test -q -p duplex-tests --test robustness -- --nocapture --test-threads 1

# Chapter "When clients misbehave": every server out of file descriptors (64, and 100 clients), with its CPU time and log lines (Linux, ~30 s)
descriptors:
    cargo test -q -p duplex-tests --test descriptors -- --nocapture --test-threads 1

# Chapter "When clients misbehave": the refusals (431, 408, 400, 503, 413) as the Tap records them, and the patched tiny_http's tests
refusals:
    cargo test -q -p duplex-tests --test misbehaving --test tiny_http_patches

# Chapter "More than one server": two chat servers behind nginx, rooms in memory, then Redis pub/sub between them (needs the Debian packages nginx and redis-server)
chat:
    cargo run -q -p chat --bin chat-demo -- chat

# Chapter "More than one server": a server's link to Redis breaks; pub/sub loses that moment's message, a stream does not
chat-gap:
    cargo run -q -p chat --bin chat-demo -- chat-gap

# Chapter "More than one server": a deploy; a server leaves with 1012, its client resumes on the other one through nginx
chat-deploy:
    cargo run -q -p chat --bin chat-demo -- chat-deploy

# Chapter "More than one server": a client that stops reading is cut with 1013 while the room goes on, in one process and across two
chat-slow:
    cargo run -q -p chat --bin chat-demo -- chat-slow

# The chat server alone at ws://127.0.0.1:9006/ws/chat/NAME, e.g. `just chat-server --mode pubsub --redis redis://127.0.0.1:6379/` (--help for flags)
chat-server *ARGS:
    cargo run -q -p chat --bin chat-server -- {{ARGS}}

# Chapter "More than one server": every test of the chapter, with real nginx and Redis (Debian packages nginx, redis-server; two of them need Node 20)
test-chat:
    cargo test -p duplex-tests --test chat -- --ignored

# Put the Tap in front of any server, e.g. `just tap 127.0.0.1:3001 127.0.0.1:3000` (add `--blackhole-after 5` to kill the path 5 s into each connection, `--svg echo.svg` to draw each connection when it ends)
tap LISTEN UPSTREAM *ARGS:
    cargo run -q -p duplex -- tap {{LISTEN}} {{UPSTREAM}} {{ARGS}}

# Chapter "Compression": the Autobahn TestSuite's 517 cases (kosoku, installed into .venv-autobahn) against every WebSocket server; writes the book's table (~5 min; --check compares instead)
autobahn *ARGS:
    cargo build -q -p ws-echo -p ws-by-hand -p heartbeat -p duplex -p autobahn
    cargo run -q -p autobahn -- {{ARGS}}

# Everything CI runs: formatting, lints and every test
ci:
    bash .ci/run

# Exercises: run exercise N's tests and see what to do next, e.g. `just exercise 1`
exercise N:
    cargo run -q -p exercises -- run {{N}}

# Exercises: every exercise and whether it is done yet
exercises:
    cargo run -q -p exercises -- status

# Exercises: a hint for exercise N
hint N:
    cargo run -q -p exercises -- hint {{N}}

# Measurements: every echo server against Node's `ws` (npm installs it locally), 5 runs, then the fan-out, ~30 min; rewrites the book's tables (raises `ulimit -n` for 10,000 idle connections)
bench *ARGS:
    cargo build -q --release -p ws-echo -p ws-by-hand -p duplex -p chat
    ulimit -n 65536 2>/dev/null; cargo run -q --release -p bench --bin bench -- run {{ARGS}}

# Measurements, short, for a class (two or three minutes): one run, 1 and 100 connections, 1,000 idle, a short fan-out; writes into .bench-cache/quick
bench-quick *ARGS:
    cargo build -q --release -p ws-echo -p ws-by-hand -p duplex -p chat
    ulimit -n 65536 2>/dev/null; cargo run -q --release -p bench --bin bench -- run --quick {{ARGS}}

# Measurements, compression only: bytes and CPU per feed message with permessage-deflate, the by-hand server's memory per connection (~2 min; --quick for a class); rewrites the compression chapter's tables
bench-compression *ARGS:
    cargo build -q --release -p ws-by-hand -p bench
    cargo run -q --release -p bench --bin bench -- compression {{ARGS}}

# Measurements, fan-out only: one publisher, 100 / 1,000 / 10,000 subscribers, the chat room against Node's `ws` and over Redis, a deaf subscriber (needs redis-server; ~4 min; --quick for a class); rewrites book/src/measurements/fanout
bench-fanout *ARGS:
    cargo build -q --release -p chat -p bench
    ulimit -n 65536 2>/dev/null; cargo run -q --release -p bench --bin bench -- fanout {{ARGS}}

# Your own stack: install the Node programs' pinned packages (koa, ws, socket.io) into js/node_modules
node-install:
    npm ci --prefix js --no-audit --no-fund

# Your own stack: koa + ws on one port, the upgrade checked (Origin, session), at http://127.0.0.1:3005 (--help for flags)
node-one-port *ARGS: node-install
    node js/one-port/upgrade-check.mjs {{ARGS}}

# Your own stack: koa + ws the seed's way (app.listen + new WebSocketServer({ server })): every upgrade let in
node-seed-shape *ARGS: node-install
    node js/one-port/seed-shape.mjs {{ARGS}}

# Your own stack: a heartbeat in ws at ws://127.0.0.1:3006/ws/heartbeat (try --interval 1000 --missed 2, and `just tap` with --blackhole-after)
node-heartbeat *ARGS: node-install
    node js/heartbeat/server.mjs {{ARGS}}

# Your own stack: wss:// in Node with your certificate and key, e.g. `just node-wss --cert cert.pem --key key.pem`
node-wss *ARGS: node-install
    node js/wss/server.mjs {{ARGS}}

# Your own stack: the browser pages (reconnect, back/forward cache, bufferedAmount) at http://127.0.0.1:3009
node-pages *ARGS: node-install
    node js/browser/server.mjs {{ARGS}}

# Your own stack: subprotocols in ws (the server's pick, a refusal, --proceed, --misbehave) and a page that offers some, at http://127.0.0.1:3010
node-subprotocols *ARGS: node-install
    node js/subprotocols/server.mjs {{ARGS}}

# Your own stack: a Socket.IO server at http://127.0.0.1:3007 (then `just node-socketio-client`)
node-socketio-server *ARGS: node-install
    node js/socketio/server.mjs {{ARGS}}

# Your own stack: a Socket.IO client that chats once and says what it does, e.g. `just node-socketio-client http://127.0.0.1:3007`
node-socketio-client *ARGS: node-install
    node js/socketio/client.mjs {{ARGS}}

# Your own stack: three ways to authenticate a browser's WebSocket (cookie + Origin, ticket, first message) at http://127.0.0.1:3008
node-auth *ARGS: node-install
    node js/auth/server.mjs {{ARGS}}

# Your own stack: the chat room in koa + ws with Redis pub/sub at ws://127.0.0.1:3010/ws/chat/NAME, e.g. `just node-chat --redis redis://127.0.0.1:6379` (needs redis-server)
node-chat *ARGS: node-install
    node js/chat/server.mjs {{ARGS}}

# Your own stack: every Node and browser test of js/ (needs Node 20 and npm, and chromium + chromium-driver)
test-node:
    cargo test -p duplex-tests --test node --test node_browser -- --ignored

# The Chinese edition: extract book/po/messages.pot from the English and merge it into zh-CN.po (needs gettext's msgmerge)
i18n-update:
    cargo run -q -p duplex -- i18n update

# The Chinese edition: how much of the English the translation gives, page by page
i18n-status:
    cargo run -q -p duplex -- i18n status

# The Chinese edition: cut zh-CN.po into one file per chapter (book/po/zh-CN/*.po), one per translator
i18n-split:
    cargo run -q -p duplex -- i18n split

# The Chinese edition: put the parts in book/po/zh-CN/ back into zh-CN.po
i18n-join:
    cargo run -q -p duplex -- i18n join

# The Chinese edition in a real browser: search in Chinese, the live demo in Chinese, the switch (needs chromium and chromium-driver)
test-i18n-browser:
    cargo test -p duplex-tests --test i18n_browser -- --ignored
