#!/bin/sh
# # Exercise 14: resuming a Server-Sent Events stream with curl
#
# Chapter: *Request and response*. About 20 minutes.
#
# Usage: sh stub.sh URL
#
# The server at URL answers with a `text/event-stream`: events of `id:`, `event:` and `data:`
# lines, each ended by an empty line. It drops the connection every few events, as a proxy or a
# flaky network would. A browser's EventSource reconnects by itself and sends the last `id:` it
# saw in a `Last-Event-ID` header, and the server sends what came after it. Do the same with
# curl:
#
#   - ask for an event stream: send `Accept: text/event-stream`;
#   - print every line of the stream you receive;
#   - when the connection ends, connect again, with `Last-Event-ID: N`, where N is the last
#     `id:` seen so far (none on the first request);
#   - stop once the stream has sent the event named `end` (the line `event: end`).
#
# This is the file you edit. Run the tests with `just exercise 14`: they start such a server,
# run this script against it, and check what it printed and what the server received. They are
# in crates/exercises/tests/ex14_sse_resume.rs.

url=$1

# As you find it: one request, which ends at the first dropped connection.
curl --silent --no-buffer "$url"
