//! `proxy-demo`: the reverse-proxy chapter's exchanges through a real nginx, in the terminal
//! (`just proxy`, `just proxy-upgrade`, `just proxy-timeout`, `just proxy-headers`,
//! `just proxy-sse`). Without nginx installed it says which package to install, and stops.

fn main() -> std::process::ExitCode {
    tap::demo::main("proxy-demo", proxy::demo::DEMOS)
}
