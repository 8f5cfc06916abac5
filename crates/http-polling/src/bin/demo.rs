//! `http-polling-demo`: the request–response chapter's exchanges in the terminal
//! (`just http-poll`, `just long-poll`, `just sse`).

fn main() -> std::process::ExitCode {
    tap::demo::main("http-polling-demo", http_polling::demo::DEMOS)
}
