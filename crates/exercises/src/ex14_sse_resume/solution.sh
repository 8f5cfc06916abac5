#!/bin/sh
# # Exercise 14: resuming a Server-Sent Events stream with curl (a solution)
#
# Usage: sh solution.sh URL
#
# What EventSource does, by hand: ask for an event stream, remember the last `id:`, reconnect
# with `Last-Event-ID` when the connection ends, and stop after `event: end`.

url=$1
last=""

while :; do
    # One connection: the stream until the server drops it.
    if [ -n "$last" ]; then
        chunk=$(curl --silent --no-buffer -H 'Accept: text/event-stream' -H "Last-Event-ID: $last" "$url")
    else
        chunk=$(curl --silent --no-buffer -H 'Accept: text/event-stream' "$url")
    fi
    printf '%s\n' "$chunk"
    # The last `id:` of this connection, if it had one: where the next connection resumes.
    id=$(printf '%s\n' "$chunk" | sed -n 's/^id: *//p' | tail -n 1)
    if [ -n "$id" ]; then
        last=$id
    fi
    if printf '%s\n' "$chunk" | grep -q '^event: end$'; then
        break
    fi
done
