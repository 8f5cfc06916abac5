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

# Chapter "The WebSocket echo": server, Tap and client, every byte printed live
ws-echo:
    cargo run -q -p duplex -- demo ws-echo

# The echo server alone at ws://127.0.0.1:9001/ws/echo (add --blocking for a thread per connection)
ws-echo-server *ARGS:
    cargo run -q -p ws-echo --bin ws-echo-server -- {{ARGS}}

# Talk to an echo from the terminal, e.g. `just ws-echo-client ws://127.0.0.1:3000/ws/echo hello`
ws-echo-client *ARGS:
    cargo run -q -p ws-echo --bin ws-echo-client -- {{ARGS}}

# Chapter "One port": pages, sign-in and the browser client at http://127.0.0.1:3002, the WebSocket on the same port (--tls adds wss://, --unchecked skips the upgrade's checks)
one-port *ARGS:
    cargo run -q -p one-port --bin one-port -- {{ARGS}}

# Chapter "One port": the same WebSocket over wss://, a Tap outside TLS and one inside, the client trusting the generated certificate
wss:
    cargo run -q -p duplex -- demo wss

# Chapter "One port": a real browser (headless Chromium via chromedriver) drives the pages; needs the Debian packages chromium and chromium-driver
test-browser:
    cargo test -p duplex-tests --test browser -- --ignored

# Put the Tap in front of any server, e.g. `just tap 127.0.0.1:3001 127.0.0.1:3000`
tap LISTEN UPSTREAM:
    cargo run -q -p duplex -- tap {{LISTEN}} {{UPSTREAM}}

# Everything CI runs: formatting, lints and every test
ci:
    bash .ci/run
