// What every page here shares: a log on the page that a person can read and a test can wait on
// (each entry an <li> with a data-kind), and the WebSocket URL for a path on this page's server.

/** Adds a line to the page's log: `<li data-kind="KIND">TEXT</li>`. */
export function log(kind, text) {
  const item = document.createElement("li");
  item.dataset.kind = kind;
  item.textContent = text;
  document.getElementById("log").append(item);
}

/** ws:// next to http://, wss:// next to https:// (a https page may not open ws://). */
export function wsUrl(path) {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
}
