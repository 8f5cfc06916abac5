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
    cargo run -q -p duplex -- demo http-poll

# Chapter "Request and response": a long poll answered by a publish, and one that times out (204)
long-poll:
    cargo run -q -p duplex -- demo long-poll

# Chapter "Request and response": an event stream, its end, and the resume with Last-Event-ID
sse:
    cargo run -q -p duplex -- demo sse

# Chapter "Request and response": the feed by short polls, long polls, SSE and WebSocket, measured into the book (~30 s; --help for flags)
compare-transports *ARGS:
    cargo run -q -p http-polling --bin compare-transports -- --out book/src/request-response/measured {{ARGS}}

# The feed server alone at http://127.0.0.1:3002 (try `curl -N http://127.0.0.1:3002/events`)
feed-server *ARGS:
    cargo run -q -p http-polling --bin http-poll-server -- {{ARGS}}

# Chapter "The WebSocket echo": server, Tap and client, every byte printed live
ws-echo:
    cargo run -q -p duplex -- demo ws-echo

# The echo server alone at ws://127.0.0.1:9001/ws/echo (add --blocking for a thread per connection)
ws-echo-server *ARGS:
    cargo run -q -p ws-echo --bin ws-echo-server -- {{ARGS}}

# Talk to an echo from the terminal, e.g. `just ws-echo-client ws://127.0.0.1:3000/ws/echo hello`
ws-echo-client *ARGS:
    cargo run -q -p ws-echo --bin ws-echo-client -- {{ARGS}}

# Put the Tap in front of any server, e.g. `just tap 127.0.0.1:3001 127.0.0.1:3000`
tap LISTEN UPSTREAM:
    cargo run -q -p duplex -- tap {{LISTEN}} {{UPSTREAM}}

# Everything CI runs: formatting, lints and every test
ci:
    bash .ci/run
